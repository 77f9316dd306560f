//! `onramp up`: the whole stack on one machine — every service, the gateway, and a Postgres.
//!
//! Postgres: `DATABASE_URL` (a server; each service gets its own database on it), else the local
//! server on 127.0.0.1:5432, else a private cluster under `target/onramp/` (`ONRAMP_PRIVATE_POSTGRES=1`
//! skips the local server). Ctrl-C stops everything.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use onramp_kit::telemetry::TelemetryConfig;
use onramp_stack::{RunningStack, StackOptions, postgres};

const USAGE: &str = "usage: onramp up [--port PORT]   (default port 8080; 0 picks a free one)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port = parse_args(std::env::args().skip(1).collect())?;
    let telemetry_config: TelemetryConfig = onramp_kit::config::load()?;
    let telemetry = onramp_kit::telemetry::init("onramp", &telemetry_config)?;

    let database_url = std::env::var("DATABASE_URL").ok();
    // Relative to where `onramp up` runs (the checkout), whatever CARGO_TARGET_DIR says: as root,
    // the postgres user must be able to reach it.
    let state_dir = PathBuf::from("target/onramp");
    let skip_local = std::env::var_os("ONRAMP_PRIVATE_POSTGRES").is_some();
    let (server, source) =
        postgres::locate(database_url.as_deref(), skip_local, &state_dir).await?;
    tracing::info!(source = ?source_name(&source), "using Postgres");

    let mut options = StackOptions::local(server, "onramp");
    options.gateway_port = port;
    options.drain_period = std::time::Duration::from_secs(1);
    let stack = RunningStack::start(options).await?;
    tracing::info!(gateway = %stack.gateway_url(), "Onramp is up; Ctrl-C stops it");
    eprintln!(
        "Onramp is up: gateway listening on {}  (try {}/readyz)",
        stack.gateway_url(),
        stack.gateway_url()
    );

    let outcome = stack.run_until(onramp_kit::shutdown::on_signal()).await;
    drop(source);
    telemetry.shutdown();
    outcome
}

fn parse_args(args: Vec<String>) -> anyhow::Result<u16> {
    match args.as_slice() {
        [command] if command == "up" => Ok(8080),
        [command, flag, port] if command == "up" && flag == "--port" => port
            .parse()
            .with_context(|| format!("--port: {port:?} is not a port number")),
        _ => bail!("{USAGE}"),
    }
}

fn source_name(source: &postgres::Source) -> &'static str {
    match source {
        postgres::Source::Configured => "DATABASE_URL",
        postgres::Source::Local => "local server on 127.0.0.1:5432",
        postgres::Source::Private(_) => "private cluster under target/onramp/postgres",
    }
}
