//! Runs the identity service alone, configured from the environment (how Kubernetes runs it).

use onramp_identity::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&onramp_kit::config::ConfigSources::from_process())?;
    onramp_kit::serve!(Application, config)
}
