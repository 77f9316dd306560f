//! The web app beside the API: app paths get the embedded pages, the API's unknown paths a
//! problem+json 404.

use axum::Router;
use http::{Method, Response, header};

use crate::{problem, request, router, send};

async fn get(app: &Router, path: &str) -> Response<axum::body::Body> {
    send(app, request(Method::GET, path, &[], None)).await
}

fn content_type(answer: &Response<axum::body::Body>) -> &str {
    answer.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
}

#[tokio::test]
async fn api_paths_are_told_apart_from_app_routes() {
    let app = router(|_| {}).await;
    // Unknown paths under the API's prefixes (the probes and the document are routes themselves).
    for api in [
        "/v1/nope",
        "/v1",
        "/healthz/x",
        "/readyz/x",
        "/openapi.json/x",
        "/.well-known/x",
    ] {
        assert_eq!(
            problem(get(&app, api).await, 404).await["reason"],
            "NOT_FOUND",
            "{api}"
        );
    }
    for page in [
        "/",
        "/invites/abc",
        "/v1x",
        "/account/billing",
        "/verify-email",
    ] {
        let answer = get(&app, page).await;
        assert_eq!(answer.status(), 200, "{page}");
        assert_eq!(content_type(&answer), "text/html; charset=utf-8", "{page}");
    }
}

#[tokio::test]
async fn the_app_is_embedded_with_its_entry_page() {
    let app = router(|_| {}).await;
    for (path, media_type) in [
        ("/index.html", "text/html; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"),
        ("/invites/abc-def", "text/html; charset=utf-8"),
    ] {
        let answer = get(&app, path).await;
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(content_type(&answer), media_type, "{path}");
    }
    // A missing script is a 404, not the HTML page.
    problem(get(&app, "/js/screens/nope.js").await, 404).await;
}
