//! Runs the identity service alone, configured from the environment (how Kubernetes runs it).

use onramp_identity::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The same path `onramp up` loads identity's config with (the file's `[identity]` table included).
    let config: Config =
        onramp_kit::config::ConfigSources::from_process().load(Application::NAME)?;
    onramp_kit::serve!(Application, config)
}
