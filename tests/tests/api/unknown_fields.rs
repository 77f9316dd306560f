//! A body field the API does not know is a 400 naming it, on every JSON route: table-driven over the
//! served OpenAPI document's request bodies, each sent (as a signed-in user) with one extra field.
//! The document says so too: every request body schema has `additionalProperties: false`.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestStack, routes::concrete_path, tenancy::provision};

/// A field no request body has.
const UNKNOWN: &str = "onramp_unknown_field";

/// Stripe's webhook payloads are Stripe's schema, not ours: Stripe adds fields without notice and
/// the endpoints verify the raw bytes, so they must accept whatever Stripe sends.
fn takes_any_body(path: &str) -> bool {
    path.starts_with("/v1/webhooks/")
}

/// The schema a request body refers to (`#/components/schemas/Name`), resolved.
fn body_schema<'a>(document: &'a Value, operation: &Value) -> Option<&'a Value> {
    let reference =
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()?;
    let name = reference.rsplit('/').next()?;
    document["components"]["schemas"].get(name)
}

#[tokio::test]
async fn every_json_body_refuses_an_unknown_field_by_name() {
    let world = TestStack::with_mail().await;
    let user = world.verified_user().await;
    let document: Value = world.get_json("/openapi.json").await;
    let mut checked = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if operation.get("requestBody").is_none() || takes_any_body(path) {
                continue;
            }
            let schema = body_schema(&document, operation)
                .unwrap_or_else(|| panic!("{method} {path}: a named JSON body schema"));
            assert_eq!(
                schema["additionalProperties"],
                json!(false),
                "{method} {path}: the schema refuses unknown fields"
            );
            let concrete = concrete_path(path);
            let url = format!("{concrete}?tenant_id={}", Uuid::new_v4());
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = world
                .authed(method.clone(), &url, &user.access_token)
                .header("idempotency-key", Uuid::new_v4().to_string())
                .json(&json!({ UNKNOWN: true }))
                .send()
                .await
                .expect("gateway answers");
            let status = response.status().as_u16();
            let problem: Value = response.json().await.unwrap_or(Value::Null);
            assert_eq!(
                (status, problem["field"].as_str()),
                (400, Some(UNKNOWN)),
                "{method} {path}: {problem}"
            );
            checked.push(format!("{method} {path}"));
        }
    }
    // The table is the document: it must not be empty (it had 19 JSON bodies when written).
    assert!(checked.len() >= 19, "only {checked:?}");
}

#[tokio::test]
async fn a_plan_named_in_a_provisioning_body_is_refused_not_ignored() {
    // The incident in issue 14: `plan` (not `plan_id`) was silently dropped, and the workspace
    // waited for a payment that was never chosen. Nothing is provisioned.
    let world = TestStack::with_mail().await;
    let user = world.verified_user().await;
    let key = Uuid::new_v4().to_string();
    let body = json!({ "name": "Acme", "plan": "pro" });
    let response = provision(&world, &user, &key, body).await;
    assert_eq!(response.status().as_u16(), 400);
    let problem: Value = response.json().await.expect("problem");
    assert_eq!(problem["field"], json!("plan"), "{problem}");
    let (_, mine) = world.get_as(&user, "/v1/tenants").await;
    assert_eq!(mine["tenants"], json!([]), "no partial write: {mine}");

    // The answer to a good request carries no empty-string placeholders: the owner's email and
    // display name were not looked up at provisioning, so they are absent, not "".
    let key = Uuid::new_v4().to_string();
    let provisioned: Value = provision(&world, &user, &key, json!({ "name": "Acme" }))
        .await
        .json()
        .await
        .expect("json");
    let owner = provisioned["owner_membership"]
        .as_object()
        .unwrap_or_else(|| panic!("an owner membership: {provisioned}"));
    assert_eq!(owner["user_id"], json!(user.id), "{provisioned}");
    assert!(
        owner.values().all(|value| value != &json!("")),
        "no empty placeholders: {provisioned}"
    );
}
