//! Workspaces over HTTP as their users make them, and tenancy's own database for assertions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::{TestStack, User};

/// `POST /v1/tenants` as `user` with `key` and `body`.
pub(crate) async fn provision(
    world: &TestStack,
    user: &User,
    key: &str,
    body: Value,
) -> reqwest::Response {
    world
        .authed(Method::POST, "/v1/tenants", &user.access_token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .expect("provision")
}

/// The free plan of billing's starter catalog: active at once, 3 seats.
pub(crate) const FREE_PLAN: &str = "free";

/// Provisions a workspace named `name` on `plan` ("" for none) and returns its id.
pub(crate) async fn new_tenant_on(
    world: &TestStack,
    user: &User,
    name: &str,
    plan: &str,
) -> String {
    let key = uuid::Uuid::new_v4().to_string();
    let made = provision(world, user, &key, json!({ "name": name, "plan_id": plan })).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.expect("json");
    made["tenant"]["id"].as_str().expect("tenant id").to_owned()
}

/// Provisions an active workspace (on the free plan) named `name` and returns its id.
pub(crate) async fn new_tenant(world: &TestStack, user: &User, name: &str) -> String {
    new_tenant_on(world, user, name, FREE_PLAN).await
}

/// A GET as `user`: its status and JSON body (problem or not).
pub(crate) async fn get(world: &TestStack, user: &User, path: &str) -> (StatusCode, Value) {
    let response = world
        .authed(Method::GET, path, &user.access_token)
        .send()
        .await
        .expect("get");
    (response.status(), response.json().await.expect("json"))
}

/// `GET /v1/tenants/{tenant}/starter-data` as `user`: the payment-gated read.
pub(crate) async fn starter_data(
    world: &TestStack,
    user: &User,
    tenant: &str,
) -> reqwest::Response {
    let path = format!("/v1/tenants/{tenant}/starter-data");
    world
        .authed(Method::GET, &path, &user.access_token)
        .send()
        .await
        .expect("starter data")
}

/// Every table a workspace's provisioning writes, in the order its transaction writes them.
pub(crate) const PROVISIONING_TABLES: [&str; 4] = [
    "tenants",
    "memberships",
    "starter_items",
    "provisioning_requests",
];

/// A count from a service's own tables (`sql` returns one bigint).
pub(crate) async fn count(db: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.expect(sql)
}

/// Invites `email` as `role` into `tenant`; returns the code (shown once, in the create answer).
pub(crate) async fn invite(
    world: &TestStack,
    owner: &User,
    tenant: &str,
    email: &str,
    role: &str,
) -> String {
    let response = world
        .authed(
            Method::POST,
            &format!("/v1/tenants/{tenant}/invites"),
            &owner.access_token,
        )
        .json(&json!({ "invites": [{ "email": email, "role": role }] }))
        .send()
        .await
        .expect("invite");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["results"][0]["outcome"], "created", "{body}");
    body["results"][0]["code"]
        .as_str()
        .expect("code")
        .to_owned()
}

/// `POST /v1/invites/{code}/accept` as `user`.
pub(crate) async fn accept(world: &TestStack, user: &User, code: &str) -> (StatusCode, Value) {
    let response = world
        .authed(
            Method::POST,
            &format!("/v1/invites/{code}/accept"),
            &user.access_token,
        )
        .send()
        .await
        .expect("accept");
    (response.status(), response.json().await.expect("json"))
}
