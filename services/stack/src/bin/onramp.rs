//! `onramp up`: the whole stack on one machine — every service, the gateway, and a Postgres.
//!
//! Configuration: each part reads the environment and `ONRAMP_CONFIG_FILE` exactly as its own
//! binary does (see `onramp_kit::config`); the stack then sets only listen and peer addresses and
//! database URLs. Postgres: `DATABASE_URL` (a server; each service gets its own database on it),
//! else the local server on 127.0.0.1:5432, else a private cluster under `target/onramp/`
//! (`ONRAMP_PRIVATE_POSTGRES=1` skips the local server). Without `SMTP_URL` (and never with
//! `ONRAMP_ENV=production`) mail goes to a development mailbox echoed here. Ctrl-C stops everything.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use onramp_kit::{config::ConfigSources, mail::mailbox::MailboxEntry, telemetry::TelemetryConfig};
use onramp_stack::{
    mailbox::echo_new_mail,
    postgres,
    up::{self, UpOptions},
};
use tokio_util::sync::CancellationToken;

const USAGE: &str = "usage: onramp up [--port PORT]   (default port 8080; 0 picks a free one)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port = parse_args(std::env::args().skip(1).collect())?;
    let config = ConfigSources::from_process();
    let mut telemetry_config: TelemetryConfig = config.load("onramp")?;
    // up::start serves the whole stack's metrics at METRICS_LISTEN_ADDR (or a free local port) and
    // names the address on the first screen; init must not bind it first.
    telemetry_config.metrics_listen_addr = None;
    let telemetry = onramp_kit::telemetry::init("onramp", &telemetry_config)?;

    let database_url = config.shared_value("database_url");
    // Relative to where `onramp up` runs (the checkout), whatever CARGO_TARGET_DIR says: as root,
    // the postgres user must be able to reach it.
    let state_dir = PathBuf::from("target/onramp");
    let skip_local = config.var("ONRAMP_PRIVATE_POSTGRES").is_some();
    let (server, source) =
        postgres::locate(database_url.as_deref(), skip_local, &state_dir).await?;
    tracing::info!(source = ?source_name(&source), "using Postgres");

    let up = up::start(UpOptions {
        config,
        server,
        database_prefix: "onramp".to_owned(),
        port,
    })
    .await?;
    eprintln!("{}", up.first_screen);
    eprintln!("  postgres  {}", source_name(&source));

    let stop_echo = CancellationToken::new();
    let echo = up
        .mailbox
        .clone()
        .map(|mailbox| tokio::spawn(echo_new_mail(mailbox, stop_echo.clone(), print_mail)));
    let outcome = up.stack.run_until(onramp_kit::shutdown::on_signal()).await;
    stop_echo.cancel();
    if let Some(echo) = echo {
        echo.await.context("the mailbox echo")?;
    }
    drop(source);
    telemetry.shutdown();
    outcome
}

/// One mail on the console: who it is for, what it says it is, and the links to click.
fn print_mail(mail: &MailboxEntry) {
    eprintln!("\n✉  to {}: {}", mail.to, mail.subject);
    for link in &mail.links {
        eprintln!("   {link}");
    }
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
