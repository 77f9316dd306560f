//! Runs the gateway alone, configured from the environment (how Kubernetes runs it).

use onramp_gateway::{Application, Config};

#[tokio::main]
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
