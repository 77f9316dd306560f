//! Tenancy over HTTP with real sessions: verified users made through identity, workspaces
//! provisioned through the gateway.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::world::World;

#[tokio::test]
async fn a_verified_user_provisions_a_workspace_and_reads_it_back() {
    let world = World::spawn().await;
    let owner = world.verified_user().await;
    let created = world
        .authed(Method::POST, "/v1/tenants", &owner.access_token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "name": "Acme Rockets" }))
        .send()
        .await
        .expect("provision");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let tenant_id = created["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();

    let read: Value = world
        .authed(
            Method::GET,
            &format!("/v1/tenants/{tenant_id}"),
            &owner.access_token,
        )
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(read["tenant"]["name"], "Acme Rockets");
    assert_eq!(read["role"], "owner");

    let mine: Value = world
        .authed(Method::GET, "/v1/tenants", &owner.access_token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(mine["tenants"][0]["tenant"]["id"], tenant_id.as_str());
    world.stop().await;
}
