//! Email that is never lost and never sent twice by a crash: services write an [`Email`] to their
//! own outbox table in the same transaction as the change it reports ([`outbox::enqueue`]); the
//! [`outbox::OutboxRelay`] sends it over SMTP ([`smtp::Mailer`]) and retries with backoff.

pub mod address;
#[cfg(feature = "dev-mailbox")]
pub mod mailbox;
pub mod outbox;
#[cfg(feature = "dev-mailbox")]
pub mod sink;
pub mod smtp;

/// A plain-text email to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body_text: String,
}
