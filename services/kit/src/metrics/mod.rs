//! Prometheus metrics: one recorder per process ([`install`]), served as text at `GET /metrics` on
//! `METRICS_LISTEN_ADDR` ([`endpoint`]), plus what every service gets without code of its own:
//! RPC durations ([`rpc`]), HTTP durations by route template ([`http`]), pool usage, outbox lag
//! and readiness ([`sampler`]).
//!
//! Everything records through the `metrics` facade, so code that emits a metric never knows whether
//! a recorder is installed (without one, recording is a no-op). Label values are small fixed sets:
//! never ids, emails, tokens or raw paths.

pub mod endpoint;
pub mod http;
pub mod rpc;
pub mod sampler;

use std::{sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Histogram buckets for every duration (seconds): a millisecond-fast RPC up to the 30 s cap on
/// any call (`MAX_RPC_TIMEOUT`), with the 50–500 ms range an argon2 hash or a Stripe call lands in
/// resolved finely enough for a latency SLO.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram samples are folded into their buckets when nobody scrapes, so memory stays
/// bounded between scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's Prometheus recorder (once; later calls return the same handle).
///
/// The in-process stack and the test binary run several services in one process: they share this
/// one recorder, each service's series told apart by their labels.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(DURATION_BUCKETS)
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                // Another recorder was installed first (not ours): this handle then renders
                // nothing, which the scrape shows at once; better than failing the process.
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            describe();
            let upkeep = handle.clone();
            // A plain thread: the recorder outlives any one Tokio runtime (tests start many).
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                });
            handle
        })
        .clone()
}

/// The current scrape, as `GET /metrics` would answer it (installs the recorder if needed).
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

/// `# HELP` lines for the metrics this kit records and the shared table's domain metrics.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        "rpc_server_duration_seconds",
        Unit::Seconds,
        "gRPC calls served, by service, method and grpc-status code"
    );
    describe_histogram!(
        "http_server_request_duration_seconds",
        Unit::Seconds,
        "HTTP requests served by the gateway, by route template, method and status"
    );
    describe_gauge!(
        "onramp_db_pool_connections",
        "Postgres pool connections by state (idle, in_use, max)"
    );
    describe_gauge!(
        "onramp_ready",
        "1 while the service reports SERVING (database reachable, migrations applied)"
    );
    describe_gauge!(
        "onramp_outbox_depth",
        "Outbox rows not yet relayed, by service and outbox"
    );
    describe_gauge!(
        "onramp_outbox_oldest_age_seconds",
        Unit::Seconds,
        "Age of the oldest outbox row not yet relayed (0 when none waits)"
    );
    describe_counter!(
        "onramp_outbox_relay_failures_total",
        "Outbox relay attempts that failed and were scheduled for a retry"
    );
}

/// An HTTP method as a label: the standard ones by name, anything else `_OTHER` (OpenTelemetry's
/// convention), so a client inventing methods cannot grow the series count.
pub fn method_label(method: &::http::Method) -> &'static str {
    match *method {
        ::http::Method::GET => "GET",
        ::http::Method::POST => "POST",
        ::http::Method::PUT => "PUT",
        ::http::Method::PATCH => "PATCH",
        ::http::Method::DELETE => "DELETE",
        ::http::Method::HEAD => "HEAD",
        ::http::Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&::http::Method::POST), "POST");
        let invented = ::http::Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(method_label(&invented), "_OTHER");
    }

    #[test]
    fn the_recorder_is_installed_once_and_renders_histograms_with_buckets() {
        install();
        metrics::histogram!("kit_test_duration_seconds", "case" => "once").record(0.003);
        let text = render();
        assert!(
            text.contains("kit_test_duration_seconds_bucket{case=\"once\",le=\"0.005\"} 1"),
            "{text}"
        );
    }
}
