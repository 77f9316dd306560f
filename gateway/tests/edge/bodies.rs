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
    // Accepted bodies reach the login body's own parsing, which names the unknown field.
    let cases = [
        ("application/json", 400, "nope"),
        ("Application/JSON; charset=utf-8", 400, "nope"),
        ("application/merge-patch+json", 400, "nope"),
        ("text/plain", 415, "content-type"),
        ("application/x-www-form-urlencoded", 415, "content-type"),
        ("multipart/form-data; boundary=x", 415, "content-type"),
    ];
    for (content_type, status, field) in cases {
        let answer = login_problem(&app, content_type, r#"{"nope":1}"#).await;
        assert_eq!(answer["status"], status, "{content_type}");
        assert_eq!(answer["field"], field, "{content_type}");
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
