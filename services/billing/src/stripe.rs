//! Reads from the Stripe API (or a Stripe-compatible server at the configured base URL). Only the
//! version guard's tie-break uses it so far: it re-reads a subscription to learn Stripe's current state.

use std::time::Duration;

use anyhow::Context as _;
use onramp_kit::config::{ExposeSecret, SecretString};

use crate::webhook::event::SubscriptionObject;

/// A Stripe API client bound to a base URL and key.
#[derive(Debug, Clone)]
pub(crate) struct StripeApi {
    base: String,
    key: SecretString,
    http: reqwest::Client,
}

impl StripeApi {
    pub(crate) fn new(base: &str, key: SecretString) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the Stripe HTTP client")?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            key,
            http,
        })
    }

    /// `GET /v1/subscriptions/{id}`: Stripe's current view of a subscription.
    pub(crate) async fn subscription(&self, id: &str) -> anyhow::Result<SubscriptionObject> {
        let response = self
            .http
            .get(format!("{}/v1/subscriptions/{id}", self.base))
            .bearer_auth(self.key.expose_secret())
            .send()
            .await
            .context("calling Stripe")?
            .error_for_status()
            .context("Stripe answered with an error")?;
        response
            .json()
            .await
            .context("decoding Stripe's subscription")
    }
}
