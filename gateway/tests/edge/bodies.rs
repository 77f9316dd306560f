//! The edge's JSON body checks: media type and nesting depth.

use axum::{Router, body::Body};
use http::{Request, header};
use serde_json::Value;

use crate::{problem, router, send};

/// The problem `POST /v1/auth/login` answers for `body` sent as `content_type`: 415 from the
/// edge's media-type check, else 400 (from the depth check, or the login body's own parsing).
async fn login_problem(app: &Router, content_type: &str, body: impl Into<Body>) -> Value {
    let login = Request::post("/v1/auth/login")
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .expect("request");
    let answer = send(app, login).await;
    let status = if answer.status() == 415 { 415 } else { 400 };
    problem(answer, status).await
}

#[tokio::test]
async fn json_media_types() {
    let app = router(|_| {}).await;
    for accepted in [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/merge-patch+json",
    ] {
        let answer = login_problem(&app, accepted, r#"{"nope":1}"#).await;
        assert_eq!(answer["status"], 400, "{accepted}");
        assert_eq!(answer["field"], "nope", "{accepted}");
    }
    for refused in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let answer = login_problem(&app, refused, r#"{"nope":1}"#).await;
        assert_eq!(answer["status"], 415, "{refused}");
        assert_eq!(answer["field"], "content-type", "{refused}");
    }
}

#[tokio::test]
async fn depth_counts_nesting_but_not_brackets_in_strings() {
    let json = "application/json";
    let three = router(|config| config.edge.json_max_depth = 3).await;
    let shallow = login_problem(&three, json, r#"{"a":[{"b":1}]}"#).await;
    assert_eq!(
        shallow["field"], "a",
        "parsed: the depth check let it through"
    );
    let deep = login_problem(&three, json, r#"{"a":[{"b":[1]}]}"#).await;
    assert_eq!(deep["field"], "body");
    let detail = deep["detail"].as_str().expect("detail");
    assert!(detail.contains("nested 4 levels deep"), "{detail}");
    let one = router(|config| config.edge.json_max_depth = 1).await;
    let in_string = login_problem(&one, json, r#"{"a":"[[[[\"[[["}"#).await;
    assert_eq!(in_string["field"], "a");
    let default = router(|_| {}).await;
    let brackets = login_problem(&default, json, vec![b'['; 10_000]).await;
    let detail = brackets["detail"].as_str().expect("detail");
    assert!(detail.contains("nested 33 levels deep"), "{detail}");
}
