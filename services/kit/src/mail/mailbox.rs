//! The development mailbox: an [`SmtpSink`] every service sends to when no real SMTP server is
//! configured, read back as parsed mails (recipient, subject, text, links) for the console and the
//! `/v1/dev/mailbox` page. Never used in production (`onramp up` refuses it there).

use chrono::{DateTime, Utc};
use mail_parser::MessageParser;
use serde::Serialize;

use super::sink::{ReceivedMail, SmtpSink};

/// One mail as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxEntry {
    /// The envelope recipient(s), comma-separated.
    pub to: String,
    /// The decoded subject line.
    pub subject: String,
    /// When the mail was sent (its `Date` header), RFC 3339 UTC.
    pub received_at: String,
    /// The decoded plain-text body.
    pub text: String,
    /// Every `http(s)://` link in the text, in order.
    pub links: Vec<String>,
}

/// A loopback SMTP server that keeps every mail for reading back.
#[derive(Debug, Clone)]
pub struct DevMailbox {
    sink: SmtpSink,
}

impl DevMailbox {
    /// Starts the mailbox's SMTP server on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        Ok(Self {
            sink: SmtpSink::start()?,
        })
    }

    /// The `SMTP_URL` that reaches the mailbox.
    pub fn smtp_url(&self) -> String {
        self.sink.url()
    }

    /// How many mails have arrived.
    pub fn count(&self) -> usize {
        self.sink.messages().len()
    }

    /// Every mail, in arrival order.
    pub fn in_arrival_order(&self) -> Vec<MailboxEntry> {
        self.sink.messages().iter().map(parse).collect()
    }

    /// Every mail, newest first (what the mailbox page shows).
    pub fn newest_first(&self) -> Vec<MailboxEntry> {
        let mut mails = self.in_arrival_order();
        mails.reverse();
        mails
    }
}

/// Parses one received message; an unparsable one still shows, with its raw data as the text.
pub fn parse(mail: &ReceivedMail) -> MailboxEntry {
    let message = MessageParser::default().parse(mail.data.as_bytes());
    let subject = message
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_owned();
    let text = message
        .as_ref()
        .and_then(|m| m.body_text(0))
        .map_or_else(|| mail.data.clone(), |body| body.into_owned());
    let received_at = message
        .as_ref()
        .and_then(|m| m.date())
        .and_then(|date| DateTime::parse_from_rfc3339(&date.to_rfc3339()).ok())
        .map_or_else(Utc::now, |date| date.with_timezone(&Utc));
    MailboxEntry {
        to: mail.to.join(", "),
        subject,
        received_at: received_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        links: links(&text),
        text,
    }
}

/// The `http://` and `https://` links in `text`, up to the first character a URL cannot end in.
fn links(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')'))
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(|word| {
            word.trim_end_matches(['.', ',', ';', ':', '!', '?'])
                .to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lettre_style_message_parses_into_subject_text_and_links() {
        let raw = "From: Onramp <no-reply@localhost>\r\nTo: ada@example.com\r\n\
                   Subject: Verify your email\r\nDate: Thu, 03 Dec 2026 09:00:00 +0000\r\n\
                   Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                   Open http://localhost:8080/verify-email?token=3Dabc_12=\r\n3 to verify.\r\n";
        let mail = ReceivedMail {
            from: "no-reply@localhost".into(),
            to: vec!["ada@example.com".into()],
            data: raw.into(),
        };
        let entry = parse(&mail);
        assert_eq!(entry.subject, "Verify your email");
        assert_eq!(entry.to, "ada@example.com");
        assert_eq!(entry.received_at, "2026-12-03T09:00:00Z");
        assert_eq!(
            entry.links,
            vec!["http://localhost:8080/verify-email?token=abc_123".to_owned()]
        );
    }
}
