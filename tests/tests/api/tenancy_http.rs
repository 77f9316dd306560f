//! Tenancy over HTTP with real sessions: verified users made through identity, workspaces
//! provisioned through the gateway — all or nothing under injected failure, one tenant per
//! idempotency key however many requests race, 404 across tenants, last-owner protection.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::TestStack;
use crate::support::tenancy::{FREE_PLAN, PROVISIONING_TABLES, count, get, new_tenant, provision};

#[tokio::test]
async fn a_verified_user_provisions_a_workspace_and_reads_it_back() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let created = provision(
        &world,
        &owner,
        &uuid::Uuid::new_v4().to_string(),
        json!({ "name": "Acme Rockets", "plan_id": FREE_PLAN }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    // Billing says the free plan is active at once: no payment wait.
    assert_eq!(created["tenant"]["state"], "active");
    assert_eq!(created["status"]["ready"], true);
    let tenant_id = created["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();

    let (status, read) = get(&world, &owner, &format!("/v1/tenants/{tenant_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["tenant"]["name"], "Acme Rockets");
    assert_eq!(read["role"], "owner");

    let (_, mine) = get(&world, &owner, "/v1/tenants").await;
    assert_eq!(mine["tenants"][0]["tenant"]["id"], tenant_id.as_str());
    let (status, starter) = get(
        &world,
        &owner,
        &format!("/v1/tenants/{tenant_id}/starter-data"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(starter["items"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn a_failure_at_any_step_answers_422_and_leaves_no_tenant_membership_or_starter_rows() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let mut db = world.connect("tenant-provisioning").await;
    sqlx::query(
        "create function injected_failure() returns trigger language plpgsql as \
         $$ begin raise exception 'injected failure on %', tg_table_name; end $$",
    )
    .execute(&mut db)
    .await
    .expect("function");
    // Each step of the provisioning transaction, in order: a row-level trigger makes it fail.
    for table in PROVISIONING_TABLES {
        sqlx::query(&format!(
            "create trigger injected before insert on {table} \
             for each row execute function injected_failure()"
        ))
        .execute(&mut db)
        .await
        .expect("trigger");
        let key = format!("atomic-{table}");
        let response = provision(&world, &owner, &key, json!({ "name": "Fragile" })).await;
        assert_eq!(response.status(), 422, "{table}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.expect("json");
        assert_eq!(problem["reason"], "TENANT_PROVISIONING_ERROR", "{table}");
        assert!(
            !problem.to_string().contains("injected"),
            "the cause stays internal: {problem}"
        );
        for kept in PROVISIONING_TABLES {
            let rows = count(&mut db, &format!("select count(*) from {kept}")).await;
            assert_eq!(rows, 0, "{kept} after a failure at {table}");
        }
        let audited = sqlx::query_scalar::<_, String>(
            "select cause from provisioning_failures where idempotency_key = $1",
        )
        .bind(&key)
        .fetch_one(&mut db)
        .await
        .expect("one audit row for operators");
        assert!(audited.contains("injected failure"), "{audited}");
        sqlx::query(&format!("drop trigger injected on {table}"))
            .execute(&mut db)
            .await
            .expect("drop trigger");
    }
    // Nothing of the failed attempts blocks the key: the same request now succeeds.
    let retried = provision(
        &world,
        &owner,
        "atomic-tenants",
        json!({ "name": "Fragile" }),
    )
    .await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(
        count(&mut db, "select count(*) from starter_items").await,
        4
    );
    db.close().await.expect("close");
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_make_one_tenant_and_twenty_identical_bodies() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let key = uuid::Uuid::new_v4().to_string();
    let responses =
        join_all((0..20).map(|_| provision(&world, &owner, &key, json!({ "name": "Stampede" }))))
            .await;
    let mut bodies = Vec::new();
    let mut replayed = 0;
    for response in responses {
        assert_eq!(response.status(), StatusCode::CREATED);
        if response.headers()["idempotent-replayed"] == "true" {
            replayed += 1;
        }
        bodies.push(response.bytes().await.expect("body"));
    }
    assert!(bodies.iter().all(|body| *body == bodies[0]));
    assert_eq!(replayed, 19, "one request made it, the others replayed it");
    let mut db = world.connect("tenant-provisioning").await;
    assert_eq!(count(&mut db, "select count(*) from tenants").await, 1);
    assert_eq!(count(&mut db, "select count(*) from memberships").await, 1);
    assert_eq!(
        count(&mut db, "select count(*) from starter_items").await,
        4
    );
    db.close().await.expect("close");

    // A later retry still gets the same bytes.
    let later = provision(&world, &owner, &key, json!({ "name": "Stampede" })).await;
    assert_eq!(later.bytes().await.expect("body"), bodies[0]);
}

#[tokio::test]
async fn reusing_a_key_with_a_different_body_is_refused_and_keys_belong_to_their_caller() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let key = uuid::Uuid::new_v4().to_string();
    let first = provision(&world, &owner, &key, json!({ "name": "First" })).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    for different in [
        json!({ "name": "Second" }),
        json!({ "name": "First", "slug": "first-choice" }),
    ] {
        let reused = provision(&world, &owner, &key, different).await;
        assert_eq!(reused.status(), 422);
        let problem: Value = reused.json().await.expect("json");
        assert_eq!(problem["reason"], "IDEMPOTENCY_KEY_REUSED");
    }
    // Another user's identical key is another request: a second workspace, not a replay.
    let other = world.verified_user().await;
    let theirs = provision(&world, &other, &key, json!({ "name": "First" })).await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert_eq!(theirs.headers()["idempotent-replayed"], "false");
    let mut db = world.connect("tenant-provisioning").await;
    assert_eq!(count(&mut db, "select count(*) from tenants").await, 2);
    db.close().await.expect("close");
}

#[tokio::test]
async fn a_user_of_one_tenant_gets_404_for_everything_of_another() {
    let world = TestStack::with_mail().await;
    let alice = world.verified_user().await;
    let bob = world.verified_user().await;
    let _alices = new_tenant(&world, &alice, "Alice Co").await;
    let bobs = new_tenant(&world, &bob, "Bob Co").await;
    for path in ["", "/status", "/starter-data", "/members", "/invites"] {
        let (status, problem) = get(&world, &alice, &format!("/v1/tenants/{bobs}{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
        assert_eq!(problem["reason"], "NOT_FOUND");
    }
    let writes = [
        (
            Method::POST,
            format!("/v1/tenants/{bobs}/invites"),
            json!({ "invites": [{ "email": alice.email, "role": "owner" }] }),
        ),
        (
            Method::PATCH,
            format!("/v1/tenants/{bobs}/members/{}", bob.id),
            json!({ "role": "member" }),
        ),
        (
            Method::DELETE,
            format!("/v1/tenants/{bobs}/members/{}", bob.id),
            json!({}),
        ),
    ];
    for (method, path, body) in writes {
        let response = world
            .authed(method.clone(), &path, &alice.access_token)
            .json(&body)
            .send()
            .await
            .expect("write");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Bob's workspace is untouched and Alice is nowhere in it.
    let (_, members) = get(&world, &bob, &format!("/v1/tenants/{bobs}/members")).await;
    let members = members["members"].as_array().expect("members").clone();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["user_id"], bob.id.as_str());
    assert_eq!(members[0]["role"], "owner");
    let (_, invites) = get(&world, &bob, &format!("/v1/tenants/{bobs}/invites")).await;
    assert_eq!(invites["invites"].as_array().map(Vec::len), Some(0));
}
