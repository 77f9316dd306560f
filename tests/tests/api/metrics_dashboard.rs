//! The Grafana dashboard and the alert rules ask only for metrics the services export: the
//! dashboard JSON parses, and every metric name in its queries and in the PrometheusRule appears
//! in a real scrape after a short journey through the stack (or is one of the few that exist only
//! after a specific, rarer event: [`AFTER_RARE_EVENTS`]).

use std::collections::BTreeSet;

use onramp_kit::config::SecretString;
use reqwest::StatusCode;
use serde_json::Value;
use stripe_webhook::Webhook;
use uuid::Uuid;

use crate::support::{
    PASSWORD, login,
    metrics::{recording_stack, scrape_in_process},
    signed_up,
    stripe::{new_webhook_secret, post_webhook},
};

const MONITORING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../deploy/kubernetes/components/monitoring"
);

/// Metrics that exist only after an event the short journey does not (and mostly cannot cheaply)
/// cause; each is recorded by its owner at that event.
const AFTER_RARE_EVENTS: &[(&str, &str)] = &[
    (
        "onramp_outbox_relay_failures_total",
        "an SMTP send failing (the journey's mail is delivered)",
    ),
    (
        "onramp_lockouts_total",
        "an account locking after repeated bad passwords",
    ),
    (
        "onramp_password_hash_rejections_total",
        "argon2 capacity exhausted (a load test, not a journey)",
    ),
    (
        "onramp_reconciliation_drift_total",
        "the reconciler finding Stripe and our records apart",
    ),
    (
        "onramp_rate_limit_refusals_total",
        "a rate limit refusing (none is configured in the test stack)",
    ),
];

/// Metric families the kit itself exports (no service code needed): checked on this branch alone.
fn is_generic(name: &str) -> bool {
    name.starts_with("rpc_server_")
        || name.starts_with("http_server_")
        || matches!(
            name,
            "onramp_db_pool_connections"
                | "onramp_ready"
                | "onramp_outbox_depth"
                | "onramp_outbox_oldest_age_seconds"
                | "onramp_outbox_relay_failures_total"
        )
}

/// Every metric name a PromQL text mentions: the identifiers with our families' prefixes, with a
/// histogram's `_bucket`/`_count`/`_sum` suffix taken off. Recording rules' names (`a:b:c`) and
/// label names (`rpc_service`, `http_route`) do not match these prefixes.
fn metric_names(promql: &str) -> BTreeSet<String> {
    promql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|token| !token.contains(':'))
        .filter(|token| {
            token.starts_with("onramp_")
                || token.starts_with("rpc_server_")
                || token.starts_with("http_server_")
        })
        .map(|token| {
            ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| token.strip_suffix(suffix))
                .unwrap_or(token)
                .to_owned()
        })
        .collect()
}

fn dashboard_queries() -> Vec<String> {
    let text = std::fs::read_to_string(format!("{MONITORING}/dashboards/onramp.json"))
        .expect("the dashboard file");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut queries = Vec::new();
    collect_exprs(&dashboard, &mut queries);
    queries
}

fn collect_exprs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", Value::String(expr)) => into.push(expr.clone()),
                    _ => collect_exprs(value, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_exprs(item, into)),
        _ => {}
    }
}

/// The alert rules' text (the PrometheusRule manifest; its expressions are the only PromQL in it,
/// and comments name only metrics that exist too).
fn rules_text() -> String {
    std::fs::read_to_string(format!("{MONITORING}/prometheus-rule.yaml")).expect("the rules file")
}

#[test]
fn the_dashboard_parses_and_queries_every_area_an_operator_watches() {
    let queries = dashboard_queries();
    let names: BTreeSet<String> = queries.iter().flat_map(|q| metric_names(q)).collect();
    for wanted in [
        "http_server_request_duration_seconds",
        "rpc_server_duration_seconds",
        "onramp_webhook_deliveries_total",
        "onramp_webhook_signature_rejections_total",
        "onramp_outbox_oldest_age_seconds",
        "onramp_logins_total",
        "onramp_signups_total",
        "onramp_db_pool_connections",
        "onramp_ready",
    ] {
        assert!(
            names.contains(wanted),
            "the dashboard lacks {wanted}: {names:?}"
        );
    }
    assert!(
        metric_names(
            "sum by (rpc_service) (rate(rpc_server_duration_seconds_bucket{rpc_method=\"x\"}[5m])) / onramp:x:ratio"
        ) == BTreeSet::from(["rpc_server_duration_seconds".to_owned()]),
        "labels and recorded series are not metric names"
    );
}

/// Every name in the dashboard and the rules, split into the kit's generic ones and the domain's.
fn referenced() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut all: BTreeSet<String> = dashboard_queries()
        .iter()
        .flat_map(|q| metric_names(q))
        .collect();
    all.extend(metric_names(&rules_text()));
    all.into_iter().partition(|name| is_generic(name))
}

/// A short journey: signup, a failed and a good login, an invite lookup, webhooks with no, a
/// forged and a genuine signature. Returns the metric families in the scrape afterwards.
async fn journey_scrape() -> BTreeSet<String> {
    let secret = new_webhook_secret();
    let configured = SecretString::from(secret.clone());
    let app = recording_stack(|options| options.billing_webhook_secrets = vec![configured]).await;
    let email = signed_up(&app).await;
    let _ = login(&app, &email, "not the password").await;
    assert_eq!(login(&app, &email, PASSWORD).await.status(), StatusCode::OK);
    let body = serde_json::json!({
        "id": format!("evt_{}", Uuid::new_v4().simple()), "object": "event",
        "type": "customer.created", "created": 1_790_000_000, "livemode": false,
        "data": {"object": {"id": "cus_metrics", "object": "customer"}},
    })
    .to_string();
    let genuine = Webhook::generate_test_header(&body, &secret, None);
    let forged = Webhook::generate_test_header(&body, "whsec_forged", None);
    for signature in [None, Some(forged), Some(genuine)] {
        post_webhook(&app, &body, signature.as_deref()).await;
    }
    // The samplers (pool, outbox, readiness) run every few seconds: wait (bounded) until a pass
    // has written the outbox gauges for the services with mail.
    let deadline = std::time::Instant::now() + 3 * onramp_kit::metrics::sampler::SAMPLE_INTERVAL;
    while !scrape_in_process()
        .iter()
        .any(|sample| sample.name == "onramp_outbox_depth")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    scrape_in_process()
        .into_iter()
        .map(|sample| {
            ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| sample.name.strip_suffix(suffix))
                .map_or(sample.name.clone(), str::to_owned)
        })
        .collect()
}

fn missing(wanted: &BTreeSet<String>, scraped: &BTreeSet<String>) -> Vec<String> {
    wanted
        .iter()
        .filter(|name| !scraped.contains(*name))
        .filter(|name| !AFTER_RARE_EVENTS.iter().any(|(rare, _)| rare == name))
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_generic_metric_the_dashboard_and_rules_name_is_in_a_real_scrape() {
    let (generic, _) = referenced();
    assert!(!generic.is_empty());
    let scraped = journey_scrape().await;
    let missing = missing(&generic, &scraped);
    assert!(
        missing.is_empty(),
        "named but never exported: {missing:?}\nscraped: {scraped:?}"
    );
}

/// The domain's counters come from the services (webhooks, logins, signups, password hashing):
/// this passes once they record the names in the shared table.
#[tokio::test]
async fn every_domain_metric_the_dashboard_and_rules_name_is_in_a_real_scrape() {
    let (_, domain) = referenced();
    assert!(domain.contains("onramp_logins_total"), "{domain:?}");
    let scraped = journey_scrape().await;
    let missing = missing(&domain, &scraped);
    assert!(
        missing.is_empty(),
        "named but never exported: {missing:?}\nscraped: {scraped:?}"
    );
}
