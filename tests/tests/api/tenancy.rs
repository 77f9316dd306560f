//! Tenancy through the whole stack: the HTTP routes that need no signed-in user (header validation,
//! the public invite lookup) and provisioning's behaviour when billing cannot answer.

use onramp_proto::{
    common::v1::Caller,
    tenancy::v1::{ProvisionTenantRequest, tenancy_service_client::TenancyServiceClient},
};
use sqlx::Connection;

use crate::support::{TestStack, problem, tenancy::PROVISIONING_TABLES};

#[tokio::test]
async fn post_tenants_requires_a_well_formed_idempotency_key_before_anything_else() {
    let app = TestStack::spawn().await;
    let post = |key: Option<&str>| {
        let mut request = app
            .http
            .post(app.url("/v1/tenants"))
            .json(&serde_json::json!({ "name": "Acme" }));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send()
    };
    for key in [
        None,
        Some(""),
        Some("two words"),
        Some(&"k".repeat(256)[..]),
    ] {
        let body = problem(post(key).await.expect("post"), 400).await;
        assert_eq!(body["reason"], "IDEMPOTENCY_KEY_INVALID", "{key:?}: {body}");
        assert_eq!(body["field"], "Idempotency-Key");
    }
    // A good key gets as far as sign-in.
    let body = problem(
        post(Some("0b9f8c1e-4d6a-4c59-9d33-2f1e7c8a9b10"))
            .await
            .expect("post"),
        401,
    )
    .await;
    assert_eq!(body["reason"], "UNAUTHENTICATED");
    let status = app
        .http
        .get(app.url("/v1/tenants/00000000-0000-0000-0000-000000000000/status"))
        .send()
        .await;
    assert_eq!(
        problem(status.expect("get"), 401).await["reason"],
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn the_public_invite_lookup_shows_a_masked_preview_and_404s_unknown_or_expired_codes() {
    let app = TestStack::spawn().await;
    let mut db = app.connect("tenant-provisioning").await;
    // Fixture rows, so the lookup is tested on its own (tenancy_invites_http covers the whole flow).
    for sql in [
        "insert into tenants (id, name, slug, state) values ('7d2c1a8e-0000-4000-8000-000000000001', 'Acme', 'acme', 'active')",
        "insert into invites (id, tenant_id, email, role, code_hash, invited_by, expires_at) values \
         (gen_random_uuid(), '7d2c1a8e-0000-4000-8000-000000000001', 'jane@example.com', 'admin', \
          encode(sha256(convert_to('live-code', 'UTF8')), 'hex'), gen_random_uuid(), now() + interval '1 day'), \
         (gen_random_uuid(), '7d2c1a8e-0000-4000-8000-000000000001', 'old@example.com', 'member', \
          encode(sha256(convert_to('old-code', 'UTF8')), 'hex'), gen_random_uuid(), now() - interval '1 minute')",
    ] {
        sqlx::query(sql).execute(&mut db).await.expect(sql);
    }
    let live = app.get("/v1/invites/live-code").await;
    assert_eq!(live.status(), 200);
    let preview: serde_json::Value = live.json().await.expect("json");
    assert_eq!(preview["tenant_name"], "Acme");
    assert_eq!(preview["masked_email"], "j***@example.com");
    assert_eq!(preview["role"], "admin");
    assert!(preview.get("email").is_none(), "{preview}");
    for code in ["old-code", "no-such-code"] {
        let response = app.get(&format!("/v1/invites/{code}")).await;
        assert_eq!(problem(response, 404).await["reason"], "NOT_FOUND");
    }
    db.close().await.expect("close");
}

#[tokio::test]
async fn provisioning_while_billing_is_down_answers_unavailable_and_writes_nothing() {
    let mut app = TestStack::spawn().await;
    app.stack
        .stop_service("billing")
        .await
        .expect("stop billing");
    let mut tenancy = TenancyServiceClient::connect(app.service_url("tenant-provisioning"))
        .await
        .expect("connect");
    let status = tenancy
        .provision_tenant(ProvisionTenantRequest {
            caller: Some(Caller {
                user_id: uuid::Uuid::new_v4().to_string(),
                ..Caller::default()
            }),
            idempotency_key: "billing-down".to_owned(),
            name: "Unbilled".to_owned(),
            slug: String::new(),
            plan_id: String::new(),
        })
        .await
        .expect_err("billing is down");
    assert_eq!(
        onramp_kit::ApiError::from_status(&status).code,
        onramp_kit::Code::Unavailable
    );
    let mut db = app.connect("tenant-provisioning").await;
    for table in PROVISIONING_TABLES {
        let rows: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&mut db)
            .await
            .expect("count");
        assert_eq!(rows, 0, "{table}");
    }
    db.close().await.expect("close");
}
