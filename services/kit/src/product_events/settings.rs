//! Where product events go: `POSTHOG_HOST` and `POSTHOG_API_KEY`, flattened into every service's
//! config. Unset, events are still recorded (the funnel reads them) but not relayed.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The product-event relay's settings.
#[derive(Debug, Clone, Deserialize)]
pub struct ProductEventSettings {
    /// `POSTHOG_HOST`: a PostHog-compatible capture API's base URL (`https://us.i.posthog.com`, a
    /// self-hosted PostHog); events go to `{POSTHOG_HOST}/batch/`. Unset or blank: no relay.
    #[serde(default)]
    pub posthog_host: Option<String>,
    /// `POSTHOG_API_KEY`: the project API key sent with each batch. Unset or blank: no relay.
    #[serde(default)]
    pub posthog_api_key: Option<SecretString>,
    /// `PRODUCT_EVENTS_POLL_INTERVAL`: how often the relay looks for pending events; default 2s.
    #[serde(
        default = "default_poll_interval",
        with = "humantime_serde",
        rename = "product_events_poll_interval"
    )]
    pub poll_interval: Duration,
    /// `PRODUCT_EVENTS_RETENTION`: how long a relayed event is kept (for the funnel's counts and
    /// billing's actor lookup) before the relay deletes it; default 30 days.
    #[serde(
        default = "default_retention",
        with = "humantime_serde",
        rename = "product_events_retention"
    )]
    pub retention: Duration,
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(2)
}

fn default_retention() -> Duration {
    Duration::from_secs(30 * 24 * 60 * 60)
}

impl Default for ProductEventSettings {
    fn default() -> Self {
        Self {
            posthog_host: None,
            posthog_api_key: None,
            poll_interval: default_poll_interval(),
            retention: default_retention(),
        }
    }
}

/// A configured capture API: the batch endpoint and the key.
#[derive(Debug, Clone)]
pub struct Sink {
    /// `{POSTHOG_HOST}/batch/`.
    pub batch_url: String,
    /// The project API key.
    pub api_key: SecretString,
}

impl ProductEventSettings {
    /// Settings that relay to `host` with `api_key` (tests and the in-process stack).
    pub fn posthog(host: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            posthog_host: Some(host.into()),
            posthog_api_key: Some(SecretString::from(api_key.into())),
            ..Self::default()
        }
    }

    /// The sink, when both the host and the key are set.
    pub fn sink(&self) -> Option<Sink> {
        let host = self.posthog_host.as_deref().map(str::trim)?;
        let key = self.posthog_api_key.as_ref()?;
        if host.is_empty() || key.expose_secret().trim().is_empty() {
            return None;
        }
        Some(Sink {
            batch_url: format!("{}/batch/", host.trim_end_matches('/')),
            api_key: key.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_reads_posthog_from_its_config_like_any_other_setting() {
        use crate::{config::ConfigSources, service_config::ServiceConfig};
        let sources = ConfigSources::new(
            None,
            [
                ("DATABASE_URL", "postgres://localhost/onramp_identity"),
                ("POSTHOG_HOST", "https://eu.i.posthog.com"),
                ("POSTHOG_API_KEY", "phc_key"),
                ("PRODUCT_EVENTS_POLL_INTERVAL", "250ms"),
                ("PRODUCT_EVENTS_RETENTION", "7days"),
            ],
        );
        let config: ServiceConfig = sources.load("identity").expect("loads");
        let events = &config.product_events;
        assert_eq!(events.poll_interval, Duration::from_millis(250));
        assert_eq!(events.retention, Duration::from_secs(7 * 24 * 3600));
        let sink = events.sink().expect("configured");
        assert_eq!(sink.batch_url, "https://eu.i.posthog.com/batch/");
        assert_eq!(sink.api_key.expose_secret(), "phc_key");
        // The key is a secret: its Debug form does not show it.
        assert!(!format!("{events:?}").contains("phc_key"));
        let unset = ConfigSources::new(None, [("DATABASE_URL", "postgres://localhost/x")]);
        let config: ServiceConfig = unset.load("identity").expect("loads");
        assert!(config.product_events.sink().is_none());
        assert_eq!(config.product_events.retention, default_retention());
    }

    #[test]
    fn both_host_and_key_turn_the_relay_on() {
        assert!(ProductEventSettings::default().sink().is_none());
        let host_only = ProductEventSettings {
            posthog_host: Some("https://ph.example".to_owned()),
            ..ProductEventSettings::default()
        };
        assert!(host_only.sink().is_none());
        let blank_key = ProductEventSettings::posthog("https://ph.example", " ");
        assert!(blank_key.sink().is_none());
        let sink = ProductEventSettings::posthog("https://ph.example/", "phc_x")
            .sink()
            .expect("configured");
        assert_eq!(sink.batch_url, "https://ph.example/batch/");
    }
}
