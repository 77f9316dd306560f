//! The OpenAPI document as `GET /openapi.json` serves it.

use http::Method;
use http_body_util::BodyExt as _;
use serde_json::Value;

use crate::{request, router, send};

/// The served document, and it pretty-printed with a final newline (what `gateway/openapi.json`
/// holds).
async fn served() -> (Value, String) {
    let app = router(|_| {}).await;
    let answer = send(&app, request(Method::GET, "/openapi.json", &[], None)).await;
    assert_eq!(answer.status(), 200);
    let bytes = answer.into_body().collect().await.expect("body").to_bytes();
    let mut text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    text.push('\n');
    (serde_json::from_str(&text).expect("JSON"), text)
}

/// `gateway/openapi.json` is the code's document; `UPDATE_OPENAPI=1` rewrites it.
#[tokio::test]
async fn committed_openapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let (_, generated) = served().await;
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).expect("write gateway/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "gateway/openapi.json is out of date with the handlers' annotations; regenerate it with \
         `UPDATE_OPENAPI=1 cargo test -p onramp-gateway openapi` and commit the file"
    );
}

#[tokio::test]
async fn every_error_status_is_problem_json_with_its_reasons() {
    let (doc, _) = served().await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 30, "every route is documented");
    let mut payment_reasons = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.as_str() >= "400" {
                    let schema = &response["content"]["application/problem+json"]["schema"];
                    assert!(
                        schema.is_object(),
                        "{method} {path} {status} is problem+json"
                    );
                }
                if status == "402" {
                    let narrowed = &response["content"]["application/problem+json"]["schema"];
                    payment_reasons
                        .push(narrowed["allOf"][1]["properties"]["reason"]["enum"].clone());
                }
            }
        }
    }
    assert!(!payment_reasons.is_empty(), "some route answers 402");
    for reasons in payment_reasons {
        assert_eq!(reasons, serde_json::json!(["PAYMENT_PENDING"]));
    }
}
