//! The self-serve funnel (issue 16): each context records its product events in the transaction of
//! its fact, a relay sends them to a PostHog-compatible capture API (a stand-in that records every
//! request raw), and operators read the funnel from the same rows at `GET /v1/admin/funnel`.
//!
//! "Exactly one per fact" is checked on raw receipts: every fact must arrive under exactly one event
//! uuid. A uuid may arrive more than once only where a test made the relay resend (killed mid-batch),
//! and then every copy must be the same event (PostHog deduplicates on the uuid); any fact under two
//! uuids fails, whatever the stand-in would have deduplicated.

use std::collections::{BTreeMap, BTreeSet};

use argon2::{
    PasswordHasher,
    password_hash::{SaltString, rand_core::OsRng},
};
use onramp_kit::product_events::{relay::ProductEventRelay, settings::ProductEventSettings};
use onramp_stack::StackOptions;
use onramp_tenant_provisioning::client::Readiness;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::{
    PASSWORD, TestStack, User,
    billing::{OPERATOR, billing_on},
    journey::{Journey, Provider},
    login,
    metrics::{scrape_in_process, total},
    posthog::{POSTHOG_KEY, PostHogStandIn, Receipt},
    signup,
    stripe::{Webhooks, event},
    tenancy,
};

const SERVICES: [&str; 4] = ["identity", "tenant-provisioning", "billing", "onboarding"];

/// Every service relays its product events to `host`, looking every 50 ms.
fn relay_to(options: &mut StackOptions, host: &str) {
    let settings = ProductEventSettings {
        poll_interval: std::time::Duration::from_millis(50),
        ..ProductEventSettings::posthog(host, POSTHOG_KEY)
    };
    let (a, b, c, d) = (
        settings.clone(),
        settings.clone(),
        settings.clone(),
        settings,
    );
    options.identity(move |config| config.base.product_events = a.clone());
    options.tenancy(move |config| config.base.product_events = b.clone());
    options.billing(move |config| config.base.product_events = c.clone());
    options.onboarding(move |config| config.base.product_events = d.clone());
}

/// Product-event rows (all of them, and those not yet relayed) across the four services.
async fn stored_events(world: &TestStack) -> (i64, i64) {
    let mut totals = (0, 0);
    for service in SERVICES {
        let (all, unsent): (i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where sent_at is null) from product_events",
        )
        .fetch_one(&world.pool(service).await)
        .await
        .expect("count");
        totals = (totals.0 + all, totals.1 + unsent);
    }
    totals
}

/// Waits (bounded) until every service's product events are marked sent; returns how many exist.
async fn all_relayed(world: &TestStack) -> i64 {
    let start = std::time::Instant::now();
    loop {
        let (all, unsent) = stored_events(world).await;
        if unsent == 0 {
            return all;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{unsent} of {all} events never marked sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every fact under one uuid: (event, distinct id) → the uuids it arrived under.
fn facts(receipts: &[Receipt]) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut facts: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for receipt in receipts {
        facts
            .entry((receipt.event.clone(), receipt.distinct_id.clone()))
            .or_default()
            .insert(receipt.uuid.clone());
    }
    facts
}

/// No property carries an email or a person's name; every batch carried the project key.
fn assert_clean(receipts: &[Receipt], emails: &[&str]) {
    for receipt in receipts {
        assert_eq!(receipt.api_key, POSTHOG_KEY);
        let text = receipt.properties.to_string();
        assert!(!text.contains('@'), "an email in {receipt:?}");
        assert!(!text.contains("Ada Lovelace"), "a name in {receipt:?}");
        for email in emails {
            assert!(!text.contains(email), "{email} in {receipt:?}");
        }
        for key in ["email", "name", "full_name", "display_name"] {
            assert!(
                receipt.properties.get(key).is_none(),
                "{key} in {receipt:?}"
            );
        }
    }
}

/// An account whose id is the operator billing is configured with (operators are configured by
/// user id, fixed before the stack starts): its row is written where signup would, then it signs in
/// over HTTP like anyone.
async fn operator(world: &TestStack) -> User {
    let email = format!("operator-{}@example.com", uuid::Uuid::new_v4().simple());
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .expect("hash")
        .to_string();
    sqlx::query(
        "insert into users (id, email, display_name, password_hash, email_verified_at)
         values ($1::uuid, $2, 'Operator', $3, now())",
    )
    .bind(OPERATOR)
    .bind(&email)
    .bind(hash)
    .execute(&world.pool("identity").await)
    .await
    .expect("operator row");
    let session: Value = login(world, &email, PASSWORD)
        .await
        .json()
        .await
        .expect("session");
    User {
        email,
        id: OPERATOR.to_owned(),
        access_token: session["access_token"].as_str().expect("access").to_owned(),
    }
}

async fn funnel(world: &TestStack, user: &User, query: &str) -> (StatusCode, Value) {
    let response = world
        .authed(
            Method::GET,
            &format!("/v1/admin/funnel{query}"),
            &user.access_token,
        )
        .send()
        .await
        .expect("funnel");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signup → verify → workspace → card-less trial → active → Checkout → paid (the trial converts) →
/// a checklist step → the rest dismissed → a teammate invited who joins → a sales lead.
async fn journey(journey: &Journey) -> (User, User) {
    journey.sell_pro_at_stripe().await;
    let owner = journey.world.verified_user().await;
    let key = uuid::Uuid::new_v4().to_string();
    let created: Value = journey
        .provision(&owner, &key, None)
        .await
        .json()
        .await
        .expect("tenant");
    let tenant = created["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();
    let (status, started) = journey
        .post_json(
            &owner,
            "/v1/billing/start",
            json!({ "tenant_id": tenant, "plan_id": "pro" }),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let readiness = journey
        .wait_until_ready(&owner, &tenant, Default::default())
        .await;
    assert!(
        matches!(readiness, Readiness::Ready { .. }),
        "{readiness:?}"
    );

    let (status, checkout) = journey
        .post_json(
            &owner,
            "/v1/billing/checkout",
            json!({ "tenant_id": tenant, "plan_id": "pro", "seats": 1 }),
        )
        .await;
    assert_eq!(status, 200, "{checkout}");
    let stripe = journey.stripe();
    let session = stripe.sessions().pop().expect("a Checkout session");
    let paid = stripe.complete_checkout(&session).await;
    let hooks = Webhooks::new(journey.url("/v1/webhooks/stripe"), &journey.webhook_secret);
    let completed = event(
        "checkout.session.completed",
        chrono::Utc::now().timestamp(),
        &paid.session,
    );
    hooks.expect(&completed, "applied").await;
    // Stripe's retry of the same delivery is no second payment.
    hooks.expect(&completed, "duplicate").await;

    let steps = format!("/v1/onboarding/steps/first_setup?tenant_id={tenant}");
    let setup = json!({ "action": "complete", "data": { "first_setup": {
        "company_name": "Acme", "team_size": "small", "use_case": "Invoices", "time_zone": "UTC" } } });
    for _ in 0..2 {
        // Completed twice: one step, one fact.
        let response = journey
            .world
            .authed(Method::PATCH, &steps, &owner.access_token)
            .json(&setup)
            .send()
            .await
            .expect("step");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (status, dismissed) = journey
        .post_json(
            &owner,
            &format!("/v1/onboarding/dismiss-rest?tenant_id={tenant}"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{dismissed}");

    let teammate = journey.teammate_joins(&owner, &tenant).await;
    let lead = json!({"full_name": "Grace Hopper", "email": "grace@example.com", "company": "Navy",
                      "company_size": "medium", "message": "A demo, please.", "source": "/pricing"});
    let response = journey
        .world
        .http
        .post(journey.url("/v1/sales-leads"))
        .json(&lead)
        .send()
        .await
        .expect("lead");
    assert!(response.status().is_success(), "{}", response.status());
    (owner, teammate)
}

#[tokio::test]
async fn the_funnel_journey_sends_each_fact_once_to_the_capture_api_and_counts_it() {
    let capture = PostHogStandIn::start().await;
    let host = capture.host.clone();
    let world =
        Journey::spawn_with(Provider::Stripe, move |options| relay_to(options, &host)).await;
    let (owner, teammate) = journey(&world).await;

    let expected: Vec<(&str, &str)> = vec![
        ("account_created", &owner.id),
        ("email_verified", &owner.id),
        ("workspace_created", &owner.id),
        ("plan_chosen", &owner.id),
        ("trial_started", &owner.id),
        ("workspace_activated", &owner.id),
        ("checkout_started", &owner.id),
        ("payment_confirmed", &owner.id),
        ("trial_converted", &owner.id),
        ("onboarding_step_completed", &owner.id),
        ("onboarding_finished", &owner.id),
        ("invite_sent", &owner.id),
        ("account_created", &teammate.id),
        ("email_verified", &teammate.id),
        ("invite_accepted", &teammate.id),
    ];
    // The facts above and the anonymous sales lead.
    let receipts = capture.wait_for(expected.len() + 1).await;
    // Everything recorded has been relayed (each relay marks its batch sent once answered), so no
    // later send can add to what arrived.
    let stored = all_relayed(&world.world).await;
    assert_eq!(stored, i64::try_from(expected.len() + 1).expect("small"));
    let receipts_now = capture.receipts();
    assert_eq!(receipts_now.len(), receipts.len(), "{receipts_now:#?}");

    // No resends in this run: every uuid arrived once, and every fact under one uuid.
    let uuids: BTreeSet<&str> = receipts.iter().map(|r| r.uuid.as_str()).collect();
    assert_eq!(
        uuids.len(),
        receipts.len(),
        "a uuid arrived twice: {receipts:#?}"
    );
    let lead: Vec<&Receipt> = receipts
        .iter()
        .filter(|r| r.event == "sales_lead")
        .collect();
    assert_eq!(lead.len(), 1, "{receipts:#?}");
    assert_eq!(lead[0].properties["lead_id"], lead[0].distinct_id.as_str());
    let mut got: Vec<(String, String)> = receipts
        .iter()
        .filter(|r| r.event != "sales_lead")
        .map(|r| (r.event.clone(), r.distinct_id.clone()))
        .collect();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(event, id)| ((*event).to_owned(), (*id).to_owned()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{receipts:#?}");
    assert_clean(
        &receipts,
        &[&owner.email, &teammate.email, "grace@example.com"],
    );
    let converted = receipts
        .iter()
        .find(|r| r.event == "payment_confirmed")
        .expect("paid");
    assert_eq!(converted.properties["after_trial"], true, "{converted:?}");
    assert_eq!(converted.properties["service"], "billing");

    // The operators' funnel, from the same rows.
    let operator = operator(&world.world).await;
    let (status, answer) = funnel(&world.world, &operator, "").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    eprintln!("GET /v1/admin/funnel after the journey:\n{answer:#}");
    let step = |name: &str| {
        answer["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {answer}"))
    };
    assert_eq!(step("account_created")["users"], 2);
    assert_eq!(step("email_verified")["conversion_from_previous"], 1.0);
    assert_eq!(step("workspace_created")["users"], 1);
    assert_eq!(step("workspace_created")["conversion_from_first"], 0.5);
    assert_eq!(step("onboarding_finished")["events"], 1);
    let names: Vec<&str> = answer["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, onramp_kit::product_events::FUNNEL);
    let invites = answer["other"]
        .as_array()
        .expect("other")
        .iter()
        .find(|e| e["name"] == "invite_accepted")
        .cloned()
        .expect("invites");
    assert_eq!(invites["users"], 1, "{answer}");

    // A window that ends before the journey began counts nothing.
    let (status, before) = funnel(
        &world.world,
        &operator,
        "?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["steps"][0]["users"], 0, "{before}");
}

#[tokio::test]
async fn a_relay_killed_mid_batch_resends_the_same_uuids_and_no_fact_twice() {
    let capture = PostHogStandIn::start().await;
    // The stack records events without relaying them (no POSTHOG_*): this test runs the relay.
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({ "name": "Acme Rockets" });
    let created = tenancy::provision(&world, &owner, &key, body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let (stored, unsent) = stored_events(&world).await;
    assert_eq!((stored, unsent), (3, 3), "recorded, not relayed, while off");

    let settings = ProductEventSettings {
        poll_interval: std::time::Duration::from_millis(50),
        ..ProductEventSettings::posthog(&capture.host, POSTHOG_KEY)
    };
    let identity = world.pool("identity").await;
    // The first relay sends its batch and dies before hearing back (the answer is held).
    capture.hold_answers(true);
    let first = ProductEventRelay::configured(identity.clone(), &settings, "identity")
        .expect("relay")
        .expect("configured");
    let crashed = tokio::spawn(first.run(CancellationToken::new()));
    let held = capture.wait_for(2).await;
    crashed.abort();
    let _ = crashed.await;
    let unsent: i64 =
        sqlx::query_scalar("select count(*) from product_events where sent_at is null")
            .fetch_one(&identity)
            .await
            .expect("count");
    assert_eq!(unsent, 2, "the crash left identity's events unsent");

    // Restarted relays (all four services) resend and are answered.
    capture.hold_answers(false);
    let stop = CancellationToken::new();
    let mut relays = Vec::new();
    for service in SERVICES {
        let relay = ProductEventRelay::configured(world.pool(service).await, &settings, service)
            .expect("relay")
            .expect("configured");
        relays.push(tokio::spawn(relay.run(stop.clone())));
    }
    let receipts = capture.wait_for(held.len() + 3).await;
    all_relayed(&world).await;
    stop.cancel();
    for relay in relays {
        relay.await.expect("relay stops");
    }
    let receipts_now = capture.receipts();
    assert_eq!(receipts_now.len(), receipts.len(), "{receipts_now:#?}");

    // Raw receipts: identity's two events twice (the held batch and the resend), the rest once.
    let mut copies: BTreeMap<&str, Vec<&Receipt>> = BTreeMap::new();
    for receipt in &receipts {
        copies
            .entry(receipt.uuid.as_str())
            .or_default()
            .push(receipt);
    }
    for (uuid, same) in &copies {
        // A resend is allowed only as the very same event: same uuid, name, user and properties.
        assert!(
            same.windows(2).all(|pair| pair[0] == pair[1]),
            "{uuid}: {same:#?}"
        );
    }
    let resent: BTreeSet<&str> = copies
        .iter()
        .filter(|(_, same)| same.len() > 1)
        .map(|(uuid, _)| *uuid)
        .collect();
    let held_uuids: BTreeSet<&str> = held.iter().map(|r| r.uuid.as_str()).collect();
    assert_eq!(resent, held_uuids, "exactly the held batch was resent");
    // The uuids are the rows' ids: what PostHog deduplicates on is fixed when the fact commits.
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("select id from product_events")
        .fetch_all(&identity)
        .await
        .expect("ids");
    let ids: BTreeSet<String> = ids.iter().map(ToString::to_string).collect();
    assert_eq!(ids, held_uuids.iter().map(|u| (*u).to_owned()).collect());

    // And per fact, one uuid: nothing was recorded twice.
    let facts = facts(&receipts);
    let expected = [
        ("account_created", &owner.id),
        ("email_verified", &owner.id),
        ("workspace_created", &owner.id),
    ];
    assert_eq!(facts.len(), expected.len(), "{facts:#?}");
    for (event, user) in expected {
        let uuids = &facts[&(event.to_owned(), user.clone())];
        assert_eq!(uuids.len(), 1, "{event}: {uuids:?}");
    }
    assert_clean(&receipts, &[&owner.email]);
}

#[tokio::test]
async fn the_admin_funnel_is_for_operators_and_names_a_bad_window_field() {
    // Billing trusts OPERATOR (the manual provider: no Stripe needed here).
    let world = TestStack::with_mail_and(|options| billing_on(options, None)).await;
    let anonymous = world.get("/v1/admin/funnel").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let member = world.verified_user().await;
    let (status, refused) = funnel(&world, &member, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["reason"], "PERMISSION_DENIED", "{refused}");

    let operator = operator(&world).await;
    for (query, field) in [
        ("?from=yesterday", "from"),
        ("?from=2026-12-01T00:00:00Z&to=12/02/2026", "to"),
        ("?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from"),
    ] {
        let (status, problem) = funnel(&world, &operator, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
    let (status, answer) = funnel(&world, &operator, "").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The member's signup and verification are in the window; the operator's fixture row is not
    // a signup.
    assert_eq!(answer["steps"][0]["users"], 1, "{answer}");
}

#[tokio::test]
async fn a_refused_batch_waits_out_its_backoff_and_a_fact_that_did_not_happen_records_nothing() {
    onramp_kit::metrics::install();
    let capture = PostHogStandIn::start().await;
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    // No fact, no event: a second signup with the address creates no account (the answer is the
    // same 202), and a taken slug provisions nothing (its transaction rolled back).
    assert_eq!(
        signup(&world, &owner.email, PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
    for expected in [StatusCode::CREATED, StatusCode::CONFLICT] {
        let response = world
            .authed(Method::POST, "/v1/tenants", &owner.access_token)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&json!({ "name": "Acme Rockets", "slug": "acme-funnel" }))
            .send()
            .await
            .expect("provision");
        assert_eq!(response.status(), expected);
    }
    assert_eq!(
        stored_events(&world).await,
        (3, 3),
        "signup, verify, one workspace"
    );

    let settings = ProductEventSettings::posthog(&capture.host, POSTHOG_KEY);
    let identity = world.pool("identity").await;
    let relay = ProductEventRelay::configured(identity.clone(), &settings, "identity")
        .expect("relay")
        .expect("configured");
    let failures = || {
        total(
            &scrape_in_process(),
            "onramp_outbox_relay_failures_total",
            &[("service", "identity"), ("outbox", "product_events")],
        )
    };
    let before = failures();
    capture.refuse_batches(true);
    assert_eq!(relay.relay_once().await.expect("a pass"), 0);
    assert_eq!(failures() - before, 2.0, "both refused events counted");
    let rows: Vec<(i32, bool, Option<String>, bool)> = sqlx::query_as(
        "select attempts, next_attempt_at > now() + interval '1 second', last_error,
                sent_at is null
         from product_events",
    )
    .fetch_all(&identity)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 2);
    for (attempts, backing_off, error, unsent) in &rows {
        assert_eq!(
            (*attempts, *backing_off, *unsent),
            (1, true, true),
            "{rows:?}"
        );
        assert!(
            error.as_deref().is_some_and(|e| e.contains("503")),
            "{rows:?}"
        );
    }
    // Inside the backoff nothing is sent, even though the capture API is back.
    capture.refuse_batches(false);
    assert_eq!(relay.relay_once().await.expect("a pass"), 0);
    assert_eq!(capture.receipts().len(), 2);

    // The backoff elapsed: the same events (same uuids) are sent and accepted.
    sqlx::query("update product_events set next_attempt_at = now()")
        .execute(&identity)
        .await
        .expect("due");
    assert_eq!(relay.relay_once().await.expect("a pass"), 2);
    let receipts = capture.receipts();
    assert_eq!(receipts.len(), 4);
    assert_eq!(
        receipts[..2],
        receipts[2..],
        "the retry resent the same events"
    );
    let facts = facts(&receipts);
    assert_eq!(facts.len(), 2, "{facts:#?}");
    assert!(facts.values().all(|uuids| uuids.len() == 1), "{facts:#?}");
}
