//! Runs the tenant-provisioning service alone, configured from the environment (how Kubernetes runs it).

use onramp_tenant_provisioning::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&onramp_kit::config::ConfigSources::from_process())?;
    let telemetry = onramp_kit::telemetry::init(Application::NAME, &config.base.telemetry)?;
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.local_addr()?, "{} listening", Application::NAME);
    let outcome = app
        .run_until_stopped(onramp_kit::shutdown::on_signal())
        .await;
    telemetry.shutdown();
    outcome
}
