//! Sending over SMTP with lettre.

use anyhow::Context as _;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::Email;

/// SMTP settings shared by every service that sends mail.
#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    /// `SMTP_URL` (secret: it may hold credentials): `smtp://host:25` (plain),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`.
    pub smtp_url: SecretString,
    /// `MAIL_FROM`: the sender, e.g. `Onramp <no-reply@example.com>`; default
    /// `Onramp <no-reply@localhost>` (so `SMTP_URL` alone turns mail on in every service).
    #[serde(default = "default_mail_from")]
    pub mail_from: String,
}

/// `MAIL_FROM`'s default, for services that keep `SMTP_URL` and `MAIL_FROM` as fields of their own.
pub fn default_mail_from() -> String {
    "Onramp <no-reply@localhost>".to_owned()
}

impl SmtpSettings {
    /// Settings for a local SMTP server, as `onramp up` and the tests use.
    pub fn new(smtp_url: impl Into<String>, mail_from: impl Into<String>) -> Self {
        Self {
            smtp_url: SecretString::from(smtp_url.into()),
            mail_from: mail_from.into(),
        }
    }

    /// The settings when `smtp_url` is set (a service's own `SMTP_URL` and `MAIL_FROM` fields).
    pub fn when_set(smtp_url: Option<&SecretString>, mail_from: &str) -> Option<Self> {
        smtp_url.map(|smtp_url| Self {
            smtp_url: smtp_url.clone(),
            mail_from: mail_from.to_owned(),
        })
    }
}

/// Sends [`Email`]s through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds credentials; only the sender is worth printing.
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `settings`; connects lazily on the first send.
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp_url.expose_secret())
                .context("SMTP_URL is not a valid smtp:// or smtps:// URL")?
                .build();
        let from = settings
            .mail_from
            .parse()
            .context("MAIL_FROM is not a valid mailbox")?;
        Ok(Self { transport, from })
    }

    /// Sends `email` with a stable `Message-ID`, so a receiving system can spot a resend.
    pub async fn send(&self, email: &Email, message_id: &str) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse().context("recipient address")?)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{message_id}@onramp>")))
            .header(ContentType::TEXT_PLAIN)
            .body(email.body_text.clone())
            .context("building the message")?;
        self.transport.send(message).await.context("SMTP send")?;
        Ok(())
    }
}
