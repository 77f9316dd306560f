//! `onramp up` as a library: the binary and the tests call [`start`] with the configuration sources
//! (the process's environment and `ONRAMP_CONFIG_FILE`, or a test's file and variables), so what a
//! test proves about settings reaching the services holds for the command itself.

use std::{fmt::Write as _, net::SocketAddr};

use anyhow::Context as _;
use onramp_kit::{
    config::ConfigSources, mail::mailbox::DevMailbox, metrics::endpoint, telemetry::TelemetryConfig,
};

use crate::{RunningStack, SERVICES, StackOptions, postgres::PgServer};

/// What `onramp up` is asked to run.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Where every part's configuration comes from.
    pub config: ConfigSources,
    /// The Postgres server holding the services' databases.
    pub server: PgServer,
    /// Database names are `<prefix>_<service>` (`onramp` for the command).
    pub database_prefix: String,
    /// The gateway's port; 0 picks a free one.
    pub port: u16,
}

/// The running stack, its mailbox (if any) and the first screen to show.
#[derive(Debug)]
pub struct Up {
    /// Every service and the gateway.
    pub stack: RunningStack,
    /// The development mailbox, when no SMTP server is configured (never in production).
    pub mailbox: Option<DevMailbox>,
    /// The app's public URL (`APP_BASE_URL`, else the gateway's own URL).
    pub app_url: String,
    /// What a person sees first: URLs, metrics, mailbox, billing provider, where configuration
    /// came from.
    pub first_screen: String,
}

/// Where `onramp up` serves every part's metrics when `METRICS_LISTEN_ADDR` is unset: a free
/// local port, named on the first screen.
const DEFAULT_METRICS_ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 0);

/// Starts the stack the way `onramp up` does.
pub async fn start(options: UpOptions) -> anyhow::Result<Up> {
    let UpOptions {
        config,
        server,
        database_prefix,
        port,
    } = options;
    let production = config.is_production();
    // One process, one recorder: every service and the gateway appear in this one scrape, told
    // apart by their labels. The endpoint serves until the process (or the test's runtime) ends.
    let telemetry: TelemetryConfig = config
        .load("onramp")
        .map_err(|error| anyhow::anyhow!("onramp's configuration: {error}"))?;
    let metrics_addr = telemetry
        .metrics_listen_addr
        .unwrap_or_else(|| SocketAddr::from(DEFAULT_METRICS_ADDR));
    let metrics = endpoint::serve(metrics_addr)
        .with_context(|| format!("METRICS_LISTEN_ADDR: binding {metrics_addr}"))?;
    let mailbox = if wants_mailbox(&config) {
        Some(DevMailbox::start().context("starting the development mailbox")?)
    } else {
        None
    };
    let mut stack_options = StackOptions::local(server, database_prefix);
    stack_options.gateway_port = if port == 0 {
        free_port(&stack_options)?
    } else {
        port
    };
    stack_options.drain_period = std::time::Duration::from_secs(1);
    let configured_url = config.shared_value(onramp_kit::config::APP_BASE_URL);
    let app_url = configured_url
        .clone()
        .unwrap_or_else(|| format!("http://localhost:{}", stack_options.gateway_port));
    if configured_url.is_none() {
        stack_options.default_app_base_url = Some(app_url.clone());
    }
    stack_options.mailbox = mailbox.clone();
    stack_options.config = config.clone();
    let stack = RunningStack::start(stack_options).await?;
    let first_screen = first_screen(
        &stack,
        &config,
        mailbox.as_ref(),
        &app_url,
        &metrics.url(),
        production,
    );
    Ok(Up {
        stack,
        mailbox,
        app_url,
        first_screen,
    })
}

/// The dev mailbox runs when no shared `SMTP_URL` is configured, and never in production (where a
/// missing SMTP server must stay an error). A service's own `[service] smtp_url` still wins over the
/// mailbox for that service alone.
fn wants_mailbox(config: &ConfigSources) -> bool {
    !config.is_production() && config.shared_value("smtp_url").is_none()
}

/// A free port for the gateway, learned before the services start so their default public URL
/// can name it. The port is released for the gateway to bind a moment later; on a laptop nothing
/// else takes it in between, and if something did, the gateway's bind fails loudly.
fn free_port(options: &StackOptions) -> anyhow::Result<u16> {
    let probe = std::net::TcpListener::bind(SocketAddr::new(options.host, 0))?;
    Ok(probe.local_addr()?.port())
}

fn first_screen(
    stack: &RunningStack,
    config: &ConfigSources,
    mailbox: Option<&DevMailbox>,
    app_url: &str,
    metrics_url: &str,
    production: bool,
) -> String {
    let gateway = stack.gateway_url();
    let mut screen = String::new();
    let _ = writeln!(screen, "Onramp is up.");
    let _ = writeln!(screen, "  gateway   {gateway}   (try {gateway}/readyz)");
    let _ = writeln!(screen, "  app       {app_url}");
    let _ = writeln!(
        screen,
        "  metrics   {metrics_url}   (Prometheus text: every service and the gateway)"
    );
    match mailbox {
        Some(mailbox) => {
            let _ = writeln!(
                screen,
                "  mailbox   {gateway}/v1/dev/mailbox   (every service mails {}; each mail is echoed here)",
                mailbox.smtp_url()
            );
        }
        None if production => {
            let _ = writeln!(screen, "  mailbox   none (ONRAMP_ENV=production)");
        }
        None => {
            let _ = writeln!(screen, "  mailbox   none: SMTP_URL is configured");
        }
    }
    let _ = writeln!(screen, "  billing   {}", stack.billing_provider());
    let _ = writeln!(
        screen,
        "  configuration (then the stack's own addresses and databases):"
    );
    for service in SERVICES.iter().chain(&["gateway"]) {
        let _ = writeln!(screen, "    {service:<20} {}", config.describe(service));
    }
    let _ = write!(screen, "Ctrl-C stops everything.");
    screen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailbox_runs_only_in_development_without_smtp() {
        assert!(wants_mailbox(&ConfigSources::default()));
        let smtp = ConfigSources::new(None, [("SMTP_URL", "smtp://mail:25")]);
        assert!(!wants_mailbox(&smtp));
        let production = ConfigSources::new(None, [("ONRAMP_ENV", "production")]);
        assert!(!wants_mailbox(&production));
    }
}
