//! `/metrics` as Prometheus scrapes it: `onramp up` serves every part's metrics at the address on
//! its first screen, and real traffic moves the kit's generic series (RPC and HTTP durations,
//! readiness, pool usage).
//!
//! Metrics are process-global here (every test's stack records into the one recorder), so the
//! assertions are on deltas that only grow, on labels only this test produces, or on properties of
//! the whole scrape.

use onramp_kit::config::ConfigSources;

use crate::support::{
    PASSWORD, login,
    metrics::{looks_identifying, parse, recording_stack, scrape_in_process, total},
    new_email, signup,
    up::up_with,
};

/// The metrics URL on `onramp up`'s first screen (`  metrics   http://…/metrics   (…)`).
fn metrics_url(first_screen: &str) -> Option<String> {
    first_screen
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("metrics "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
}

#[test]
fn the_identifying_check_catches_ids_emails_and_tokens_but_not_route_templates() {
    for bad in [
        "0190f3a4-5b6c-7d8e-9f00-112233445566",
        "0190f3a45b6c7d8e9f00112233445566",
        "ada@example.com",
        "/v1/invites/k3J9xQ2mP7vR4tY8wZ1a",
    ] {
        assert!(looks_identifying(bad), "{bad}");
    }
    for good in [
        "/v1/tenants/{tenant_id}/starter-data",
        "onramp.identity.v1.IdentityService",
        "bad_credentials",
        "in_use",
        "404",
    ] {
        assert!(!looks_identifying(good), "{good}");
    }
}

#[test]
fn the_parser_reads_labels_with_braces_quotes_and_escapes() {
    let samples = parse(concat!(
        "# TYPE x histogram\n",
        "x_bucket{http_route=\"/v1/invites/{code}\",le=\"0.5\"} 3\n",
        "y{a=\"q\\\"uote\",b=\"back\\\\slash\",} 1.5\n",
        "z 7\n",
        "w{le=\"+Inf\"} +Inf\n",
    ));
    assert_eq!(samples.len(), 4);
    assert_eq!(samples[0].labels["http_route"], "/v1/invites/{code}");
    assert_eq!(samples[0].value, 3.0);
    assert_eq!(samples[1].labels["a"], "q\"uote");
    assert_eq!(samples[1].labels["b"], "back\\slash");
    assert_eq!(samples[2].name, "z");
    assert!(samples[3].value.is_infinite());
}

#[tokio::test]
async fn onramp_up_serves_prometheus_text_at_the_address_on_its_first_screen() {
    let (started, app) = up_with(ConfigSources::default()).await;
    let url = metrics_url(&started.first_screen).unwrap_or_else(|| {
        panic!(
            "no metrics line on the first screen:\n{}",
            started.first_screen
        )
    });
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "local only by default: {url}"
    );
    assert_eq!(
        signup(&app, &new_email(), PASSWORD).await.status(),
        reqwest::StatusCode::ACCEPTED
    );

    let response = app.http.get(&url).send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ascii");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    assert!(
        text.contains("# TYPE rpc_server_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE http_server_request_duration_seconds histogram"),
        "{text}"
    );
    let samples = parse(&text);
    // Other tests' stacks share these labels in this process, so values are checked for shape,
    // not for this stack's state.
    for service in onramp_stack::SERVICES {
        let ready: Vec<_> = samples
            .iter()
            .filter(|s| {
                s.name == "onramp_ready"
                    && s.labels.get("service").map(String::as_str) == Some(service)
            })
            .collect();
        assert!(
            ready.len() == 1 && (ready[0].value == 0.0 || ready[0].value == 1.0),
            "{service}: {ready:?}"
        );
        assert!(
            total(
                &samples,
                "onramp_db_pool_connections",
                &[("service", service), ("state", "max")]
            ) >= 1.0,
            "{service}'s pool maximum is sampled"
        );
    }
    assert!(
        total(
            &samples,
            "rpc_server_duration_seconds_count",
            &[
                ("rpc_service", "onramp.identity.v1.IdentityService"),
                ("rpc_method", "Signup"),
                ("rpc_grpc_status_code", "0"),
            ]
        ) >= 1.0
    );
    let other_path = app
        .http
        .get(url.replace("/metrics", "/elsewhere"))
        .send()
        .await
        .expect("other path");
    assert_eq!(other_path.status(), 404, "only /metrics is served there");
}

#[tokio::test]
async fn an_rpc_through_the_gateway_moves_both_durations_labelled_by_route_template() {
    let app = recording_stack(|_| {}).await;
    let before = scrape_in_process();
    assert_eq!(
        signup(&app, &new_email(), PASSWORD).await.status(),
        reqwest::StatusCode::ACCEPTED
    );
    // A path with a parameter only this test sends: its raw value must never become a label.
    let code = format!("metricsprobe{}", uuid::Uuid::new_v4().simple());
    let lookup = app.get(&format!("/v1/invites/{code}")).await;
    let lookup_status = lookup.status().as_u16().to_string();
    let unmatched = app.get(&format!("/v1/no-such-route/{code}")).await;
    assert_eq!(unmatched.status(), 404);
    let after = scrape_in_process();

    let delta =
        |name: &str, want: &[(&str, &str)]| total(&after, name, want) - total(&before, name, want);
    let rpc = [
        ("rpc_service", "onramp.identity.v1.IdentityService"),
        ("rpc_method", "Signup"),
        ("rpc_grpc_status_code", "0"),
    ];
    assert!(delta("rpc_server_duration_seconds_count", &rpc) >= 1.0);
    let http = [
        ("http_route", "/v1/auth/signup"),
        ("http_request_method", "POST"),
        ("http_response_status_code", "202"),
    ];
    assert!(delta("http_server_request_duration_seconds_count", &http) >= 1.0);
    let templated = [
        ("http_route", "/v1/invites/{code}"),
        ("http_request_method", "GET"),
        ("http_response_status_code", lookup_status.as_str()),
    ];
    assert!(
        delta("http_server_request_duration_seconds_count", &templated) >= 1.0,
        "the route template is the label"
    );
    let unmatched_labels = [
        ("http_route", "unmatched"),
        ("http_response_status_code", "404"),
    ];
    assert!(
        delta(
            "http_server_request_duration_seconds_count",
            &unmatched_labels
        ) >= 1.0
    );
    // Buckets are real histogram buckets (seconds), ending in +Inf.
    assert!(
        after
            .iter()
            .any(|s| s.name == "rpc_server_duration_seconds_bucket"
                && s.labels.get("le").map(String::as_str) == Some("+Inf"))
    );
    for sample in &after {
        for value in sample.labels.values() {
            assert!(!value.contains(&code), "raw path in a label: {sample:?}");
        }
    }
}

#[tokio::test]
async fn no_label_value_carries_an_id_an_email_or_a_token() {
    let app = recording_stack(|_| {}).await;
    let email = new_email();
    assert_eq!(
        signup(&app, &email, PASSWORD).await.status(),
        reqwest::StatusCode::ACCEPTED
    );
    let _ = login(&app, &email, "not the password").await;
    let _ = login(&app, &email, PASSWORD).await;
    let _ = app
        .http
        .get(app.url(&format!("/v1/tenants/{}", uuid::Uuid::new_v4())))
        .send()
        .await
        .expect("tenant");
    let samples = scrape_in_process();
    assert!(!samples.is_empty());
    let offending: Vec<_> = samples
        .iter()
        .filter(|s| s.labels.values().any(|v| looks_identifying(v)))
        .collect();
    assert!(offending.is_empty(), "identifying labels: {offending:#?}");
}
