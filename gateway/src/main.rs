//! Runs the gateway alone, configured from the environment (how Kubernetes runs it).

use onramp_gateway::{Application, Config};

// One thread: its deployment is limited to one CPU anyway, and without cross-thread wake-ups the
// gateway's CPU per proxied request is ~28 % lower (`gateway_hop`, `webhook_ingest`; README).
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&onramp_kit::config::ConfigSources::from_process())?;
    let telemetry = onramp_kit::telemetry::init("gateway", &config.telemetry)?;
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.local_addr()?, "gateway listening");
    let outcome = app
        .run_until_stopped(onramp_kit::shutdown::on_signal())
        .await;
    telemetry.shutdown();
    outcome
}
