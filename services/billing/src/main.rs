//! Runs the billing service alone, configured from the environment (how Kubernetes runs it).

use onramp_billing::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&onramp_kit::config::ConfigSources::from_process())?;
    // `billing sync-prices [--dry-run]`: fill the catalog's Stripe ids from Stripe, then exit.
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `billing setup-stripe`: create the catalog's missing products and prices in Stripe (a fresh
    // test account), then link them; safe to run again.
    if args.first().map(String::as_str) == Some("setup-stripe") {
        let report = onramp_billing::setup_stripe_command(config).await?;
        eprintln!("{report}");
        return Ok(());
    }
    if args.first().map(String::as_str) == Some("sync-prices") {
        let dry_run = args.iter().any(|arg| arg == "--dry-run");
        let report = onramp_billing::sync_prices_command(config, dry_run).await?;
        eprintln!("{report}");
        return Ok(());
    }
    onramp_kit::serve!(Application, config)
}
