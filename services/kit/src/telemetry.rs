//! Logs, traces and metrics: `tracing` everywhere, exported as OpenTelemetry spans; metrics
//! through the `metrics` facade, served as Prometheus text (see [`crate::metrics`]).
//!
//! A tracer provider is always installed, so trace ids exist and propagate even when nothing is
//! exported; OTLP export is turned on by the standard `OTEL_EXPORTER_OTLP_ENDPOINT`. The metrics
//! recorder is always installed too; `METRICS_LISTEN_ADDR` turns on the `GET /metrics` endpoint.

use std::net::SocketAddr;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{SdkTracerProvider, TracerProviderBuilder},
};
use serde::Deserialize;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Telemetry settings shared by every binary.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TelemetryConfig {
    /// `LOG_FORMAT`: `pretty` (default) or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// `RUST_LOG`: an `EnvFilter` directive; default `info`.
    #[serde(default, rename = "rust_log")]
    pub log_filter: Option<String>,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: when set, spans are exported there over OTLP/gRPC.
    #[serde(default, rename = "otel_exporter_otlp_endpoint")]
    pub otlp_endpoint: Option<String>,
    /// `METRICS_LISTEN_ADDR`: when set, `GET /metrics` (Prometheus text) is served there, apart
    /// from the public port, e.g. `0.0.0.0:9090`. Unset: no endpoint (metrics are still recorded).
    #[serde(default)]
    pub metrics_listen_addr: Option<SocketAddr>,
}

/// Keeps the tracer provider alive; call [`TelemetryGuard::shutdown`] before exit to flush spans.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
    metrics: Option<crate::metrics::endpoint::MetricsEndpoint>,
}

impl TelemetryGuard {
    /// Where `GET /metrics` is served, when `METRICS_LISTEN_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|endpoint| endpoint.local_addr())
    }

    /// Flushes pending spans and stops the exporter.
    pub fn shutdown(self) {
        // Nothing useful can be done if the collector is gone at exit; spans are best effort.
        let _ = self.provider.force_flush();
        let _ = self.provider.shutdown();
        if let Some(metrics) = self.metrics {
            metrics.stop();
        }
    }
}

/// Installs the global subscriber for a binary: logs to stderr and spans to OTLP when configured;
/// installs the metrics recorder and, with `METRICS_LISTEN_ADDR`, serves `GET /metrics` (which
/// needs the Tokio runtime the binary's `main` runs on).
pub fn init(service_name: &str, config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    crate::metrics::install();
    let metrics = match config.metrics_listen_addr {
        Some(addr) => {
            anyhow::ensure!(
                tokio::runtime::Handle::try_current().is_ok(),
                "METRICS_LISTEN_ADDR needs telemetry::init to run inside a Tokio runtime"
            );
            let endpoint = crate::metrics::endpoint::serve(addr)
                .with_context(|| format!("METRICS_LISTEN_ADDR: binding {addr}"))?;
            Some(endpoint)
        }
        None => None,
    };
    let mut builder = SdkTracerProvider::builder();
    if let Some(endpoint) = config.otlp_endpoint.as_deref().filter(|e| !e.is_empty()) {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .with_context(|| format!("building the OTLP exporter for {endpoint}"))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let filter = config
        .log_filter
        .clone()
        .unwrap_or_else(|| "info".to_owned());
    let mut guard = install(service_name, builder, Some((config.log_format, filter)))?;
    guard.metrics = metrics;
    Ok(guard)
}

/// Installs a subscriber that records every finished span in memory, for tests that assert on spans.
///
/// Logs go to stderr only when `TEST_LOG` is set, so test output stays readable.
#[cfg(feature = "testing")]
pub fn init_in_memory(
    service_name: &str,
) -> anyhow::Result<(
    TelemetryGuard,
    opentelemetry_sdk::trace::InMemorySpanExporter,
)> {
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let builder = SdkTracerProvider::builder().with_simple_exporter(exporter.clone());
    let logs = std::env::var_os("TEST_LOG").map(|_| (LogFormat::Pretty, "info".to_owned()));
    let guard = install(service_name, builder, logs)?;
    Ok((guard, exporter))
}

fn install(
    service_name: &str,
    builder: TracerProviderBuilder,
    logs: Option<(LogFormat, String)>,
) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = builder
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build();
    let tracer = provider.tracer(service_name.to_owned());
    // Entering and leaving a span happens on every poll of every instrumented future. By default
    // the layer then also activates the span's OpenTelemetry context (only needed by code that reads
    // `opentelemetry::Context::current()`, which none here does: propagation reads the span's own
    // context) and times busy/idle intervals (the `busy_ns`/`idle_ns` attributes): both off, so an
    // enter costs nothing and an exit only stamps the span's end time.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_context_activation(false)
        .with_tracked_inactivity(false)
        .with_filter(EnvFilter::new("info"));
    let fmt = logs.map(|(format, filter)| {
        let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let layer = match format {
            LogFormat::Pretty => layer.boxed(),
            LogFormat::Json => layer.json().boxed(),
        };
        layer.with_filter(EnvFilter::new(filter))
    });
    tracing_subscriber::registry()
        .with(otel)
        .with(fmt)
        .try_init()
        .context("a global tracing subscriber is already installed")?;
    Ok(TelemetryGuard {
        provider,
        metrics: None,
    })
}
