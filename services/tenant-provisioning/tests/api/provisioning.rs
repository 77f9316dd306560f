//! ProvisionTenant: all or nothing, idempotent per (caller, key), validated.

use futures::future::join_all;
use onramp_kit::Code;
use onramp_proto::tenancy::v1::{self as pb, TenantGate, TenantState};
use prost::Message as _;

use crate::helpers::{TestTenancy, assert_error, caller, new_user, provision_request, tenant_id};

#[tokio::test]
async fn provisioning_creates_the_tenant_its_owner_and_the_starter_data() {
    let app = TestTenancy::active().await;
    let owner = new_user();
    let made = app.provision(&owner, "Acme Corp").await;
    let tenant = made.tenant.as_ref().expect("tenant");
    assert_eq!(tenant.name, "Acme Corp");
    assert_eq!(tenant.slug, "acme-corp");
    assert_eq!(tenant.state(), TenantState::Active);
    assert!(tenant.activated_at.is_some());
    assert!(!made.replayed);
    let membership = made.owner_membership.as_ref().expect("owner");
    assert_eq!(
        (membership.user_id.as_str(), membership.role()),
        (owner.as_str(), pb::Role::Owner)
    );
    assert!(made.status.as_ref().expect("status").ready);

    let starter = app
        .client
        .clone()
        .get_starter_data(pb::GetStarterDataRequest {
            caller: caller(&owner),
            tenant_id: tenant.id.clone(),
        })
        .await
        .expect("starter data")
        .into_inner();
    assert_eq!(starter.template_version, tenant.starter_template_version);
    let kinds: Vec<_> = starter
        .items
        .iter()
        .map(|i| (i.kind.as_str(), i.parent_key.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("segment", ""),
            ("package", "default-segment"),
            ("package", "default-segment"),
            ("package", "default-segment")
        ]
    );
    // A second workspace with the same name gets the slug with a random suffix.
    let second = app
        .provision(&owner, "Acme Corp")
        .await
        .tenant
        .expect("tenant")
        .slug;
    assert!(
        second.starts_with("acme-corp-") && second.len() == "acme-corp-".len() + 6,
        "{second}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_result_byte_for_byte() {
    let app = TestTenancy::pending().await;
    let owner = new_user();
    let request = provision_request(&owner, "key-1", "Replay Inc", "replay");
    let first = app
        .client
        .clone()
        .provision_tenant(request.clone())
        .await
        .expect("first")
        .into_inner();
    assert_eq!(
        first.status.as_ref().expect("status").gate(),
        TenantGate::PaymentPending
    );
    let again = app
        .client
        .clone()
        .provision_tenant(request)
        .await
        .expect("replay")
        .into_inner();
    assert!(again.replayed && !first.replayed);
    let body = |mut r: pb::ProvisionTenantResponse| {
        r.replayed = false;
        r.encode_to_vec()
    };
    assert_eq!(body(first), body(again));
    assert_eq!(app.count("select count(*) from tenants").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_same_key_with_other_parameters_is_refused_and_keys_are_per_caller() {
    let app = TestTenancy::active().await;
    let owner = new_user();
    let mut client = app.client.clone();
    client
        .provision_tenant(provision_request(&owner, "key-2", "First", ""))
        .await
        .expect("first");
    for changed in [
        provision_request(&owner, "key-2", "Second", ""),
        provision_request(&owner, "key-2", "First", "first-ws"),
        pb::ProvisionTenantRequest {
            plan_id: "pro".to_owned(),
            ..provision_request(&owner, "key-2", "First", "")
        },
    ] {
        let error = assert_error(
            client.provision_tenant(changed).await,
            Code::IdempotencyKeyReused,
            None,
        );
        assert_eq!(error.code.http_status(), 422);
    }
    // Another user's identical key is another request.
    let other = client
        .provision_tenant(provision_request(&new_user(), "key-2", "Second", ""))
        .await
        .expect("other caller")
        .into_inner();
    assert!(!other.replayed);
    assert_eq!(app.count("select count(*) from tenants").await, 2);
    app.stop().await;
}

/// Sends every request at once; each must succeed.
async fn provision_all(
    app: &TestTenancy,
    requests: impl Iterator<Item = pb::ProvisionTenantRequest>,
) -> Vec<pb::ProvisionTenantResponse> {
    let calls = requests.map(|request| {
        let mut client = app.client.clone();
        async move {
            client
                .provision_tenant(request)
                .await
                .map(tonic::Response::into_inner)
        }
    });
    join_all(calls)
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("all succeed")
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_make_one_tenant_and_twenty_identical_answers() {
    let app = TestTenancy::active().await;
    let owner = new_user();
    let request = provision_request(&owner, "concurrent-key", "Busy Bees", "");
    let answers = provision_all(&app, (0..20).map(|_| request.clone())).await;
    assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1);
    let bodies: Vec<Vec<u8>> = answers
        .into_iter()
        .map(|mut a| {
            a.replayed = false;
            a.encode_to_vec()
        })
        .collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    assert_eq!(app.count("select count(*) from tenants").await, 1);
    assert_eq!(app.count("select count(*) from memberships").await, 1);
    assert_eq!(app.count("select count(*) from starter_items").await, 4);
    app.stop().await;
}

/// Makes every insert into `table` fail, as a broken step would.
async fn break_table(app: &TestTenancy, table: &str) {
    sqlx::query(
        "create or replace function injected_failure() returns trigger language plpgsql as \
         $$ begin raise exception 'injected failure on %', tg_table_name; end $$",
    )
    .execute(&app.db)
    .await
    .expect("function");
    sqlx::query(&format!(
        "create trigger injected before insert on {table} for each row execute function injected_failure()"
    ))
    .execute(&app.db)
    .await
    .expect("trigger");
}

async fn repair_table(app: &TestTenancy, table: &str) {
    sqlx::query(&format!("drop trigger injected on {table}"))
        .execute(&app.db)
        .await
        .expect("drop");
}

#[tokio::test]
async fn a_failure_at_any_step_keeps_nothing_and_leaves_an_audit_row() {
    let app = TestTenancy::active().await;
    let owner = new_user();
    let steps = [
        ("tenants", "insert tenant"),
        ("memberships", "insert owner membership"),
        ("starter_items", "insert starter data"),
        ("provisioning_requests", "store idempotent result"),
    ];
    for (n, (table, step)) in steps.into_iter().enumerate() {
        break_table(&app, table).await;
        let key = format!("atomic-{n}");
        let request = provision_request(&owner, &key, "Fragile", "");
        let error = assert_error(
            app.client.clone().provision_tenant(request.clone()).await,
            Code::TenantProvisioningError,
            None,
        );
        assert_eq!(error.code.http_status(), 422);
        assert!(
            !error.message.contains("injected"),
            "the cause stays internal: {}",
            error.message
        );
        for table in [
            "tenants",
            "memberships",
            "starter_items",
            "provisioning_requests",
        ] {
            assert_eq!(
                app.count(&format!("select count(*) from {table}")).await,
                0,
                "{table} after {step}"
            );
        }
        let audited: (String, String) = sqlx::query_as(
            "select step, cause from provisioning_failures where idempotency_key = $1",
        )
        .bind(&key)
        .fetch_one(&app.db)
        .await
        .expect("one audit row");
        assert_eq!(audited.0, step);
        assert!(audited.1.contains("injected failure"), "{}", audited.1);

        // The failed attempt kept nothing, the key included: the same request now succeeds.
        repair_table(&app, table).await;
        let made = app
            .client
            .clone()
            .provision_tenant(request)
            .await
            .expect("retry")
            .into_inner();
        assert!(!made.replayed);
        sqlx::query("truncate tenants cascade")
            .execute(&app.db)
            .await
            .expect("reset");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let app = TestTenancy::active().await;
    let owner = new_user();
    let mut client = app.client.clone();
    assert_error(
        client
            .provision_tenant(provision_request(&owner, "", "Name", ""))
            .await,
        Code::IdempotencyKeyInvalid,
        None,
    );
    assert_error(
        client
            .provision_tenant(provision_request(&owner, "has space", "Name", ""))
            .await,
        Code::IdempotencyKeyInvalid,
        None,
    );
    assert_error(
        client
            .provision_tenant(provision_request(&owner, "k1", "  ", ""))
            .await,
        Code::InvalidArgument,
        Some("name"),
    );
    for slug in ["admin", "api", "www", "Bad_Slug", "ab", "ends-"] {
        assert_error(
            client
                .provision_tenant(provision_request(&owner, "k2", "Name", slug))
                .await,
            Code::InvalidArgument,
            Some("slug"),
        );
    }
    assert_error(
        client
            .provision_tenant(provision_request("", "k3", "Name", ""))
            .await,
        Code::Unauthenticated,
        None,
    );
    let made = client
        .provision_tenant(provision_request(&owner, "k4", "Taken", "taken"))
        .await
        .expect("first");
    assert_error(
        client
            .provision_tenant(provision_request(&new_user(), "k5", "Taken", "taken"))
            .await,
        Code::AlreadyExists,
        Some("slug"),
    );
    assert_eq!(app.count("select count(*) from tenants").await, 1);
    assert_eq!(tenant_id(made.get_ref()).len(), 36);
    app.stop().await;
}

#[tokio::test]
async fn billing_unreachable_or_not_answering_fails_cleanly_with_unavailable_and_writes_nothing() {
    // A real gRPC server that does not serve BillingService answers UNIMPLEMENTED, as billing
    // does before it is built; a closed port is billing being down.
    let other = TestTenancy::active().await;
    for billing in [
        format!("http://{}", other.addr),
        "http://127.0.0.1:1".to_owned(),
    ] {
        let app =
            TestTenancy::spawn(|config| config.billing_service_addr = Some(billing.clone())).await;
        let request = provision_request(&new_user(), "no-billing", "Unbilled", "");
        let error = assert_error(
            app.client.clone().provision_tenant(request).await,
            Code::Unavailable,
            None,
        );
        assert_eq!(error.code.http_status(), 503, "{billing}");
        for table in [
            "tenants",
            "memberships",
            "starter_items",
            "provisioning_requests",
            "provisioning_failures",
        ] {
            assert_eq!(
                app.count(&format!("select count(*) from {table}")).await,
                0,
                "{table}"
            );
        }
        app.stop().await;
    }
    other.stop().await;
}

#[tokio::test]
async fn concurrent_workspaces_with_one_name_all_get_their_own_slug() {
    let app = TestTenancy::active().await;
    let requests =
        (0..10).map(|n| provision_request(&new_user(), &format!("key-{n}"), "Same Name", ""));
    let answers = provision_all(&app, requests).await;
    let mut slugs: Vec<_> = answers
        .iter()
        .map(|a| a.tenant.as_ref().expect("tenant").slug.clone())
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 10, "{slugs:?}");
    assert_eq!(
        app.count("select count(*) from provisioning_failures")
            .await,
        0
    );
    app.stop().await;
}
