//! Reading what the stack mailed to the test's SMTP sink: the text, its links and their tokens.

use std::time::Duration;

use onramp_kit::mail::sink::ReceivedMail;

use super::{TestStack, poll::eventually};

/// How long a test waits for a mail the outbox should send within a poll interval or two.
pub(crate) const MAIL_WAIT: Duration = Duration::from_secs(10);

/// The text of a mail, decoded from quoted-printable (what lettre uses for long lines).
pub(crate) fn mail_text(mail: &ReceivedMail) -> String {
    let raw = mail.data.replace("=\r\n", "");
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok());
        match (first, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                bytes.push(byte);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(first);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The value of the first `<name>=` query parameter in a mail's link (`token`, `code`).
pub(crate) fn link_param(mail: &ReceivedMail, name: &str) -> String {
    let text = mail_text(mail);
    let marker = format!("{name}=");
    let start = text.find(&marker).expect("a link with the parameter") + marker.len();
    token_at(&text[start..])
}

/// The token `text` starts with (up to the first character a token never holds).
fn token_at(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The token in the link of a mail (`…?token=XYZ`).
pub(crate) fn link_token(mail: &ReceivedMail) -> String {
    link_param(mail, "token")
}

/// The token of the verification mail sent to `to` (found by its link, whatever else `to` received).
pub(crate) async fn verification_token(world: &TestStack, to: &str) -> String {
    mailed_token(world, to, "/verify-email?token=").await.1
}

/// The text and token of the first mail to `to` with a link containing `marker` (`/reset-password?token=`).
pub(crate) async fn mailed_token(world: &TestStack, to: &str, marker: &str) -> (String, String) {
    eventually(MAIL_WAIT, async || {
        world
            .sink()
            .messages()
            .iter()
            .filter(|mail| mail.to.iter().any(|address| address == to))
            .map(mail_text)
            .find_map(|text| {
                let at = text.find(marker)? + marker.len();
                let token = token_at(&text[at..]);
                Some((text, token))
            })
            .ok_or(format!("no mail with {marker} reached {to}"))
    })
    .await
}

impl TestStack {
    /// Waits for the `n`th mail to `to` and returns it.
    pub(crate) async fn nth_mail(&self, to: &str, n: usize) -> ReceivedMail {
        let mails = self.sink().wait_for(to, n, MAIL_WAIT).await;
        assert!(
            mails.len() >= n,
            "expected {n} mails to {to}, got {}",
            mails.len()
        );
        mails[n - 1].clone()
    }
}
