//! Runs the identity service alone, configured from the environment (how Kubernetes runs it).

use onramp_identity::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The same path `onramp up` loads identity's config with (the file's `[identity]` table included).
    let config: Config =
        onramp_kit::config::ConfigSources::from_process().load(Application::NAME)?;
    let telemetry = onramp_kit::telemetry::init(Application::NAME, &config.base.telemetry)?;
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.local_addr()?, "{} listening", Application::NAME);
    let outcome = app
        .run_until_stopped(onramp_kit::shutdown::on_signal())
        .await;
    telemetry.shutdown();
    outcome
}
