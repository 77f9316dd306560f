//! Runs the tenant-provisioning service alone, configured from the environment (how Kubernetes runs it).

use onramp_tenant_provisioning::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&onramp_kit::config::ConfigSources::from_process())?;
    onramp_kit::serve!(Application, config)
}
