//! The development mailbox's page and console echo: `GET /v1/dev/mailbox` answers every mail the
//! stack's services sent, newest first; [`echo_new_mail`] hands each new one to a printer.

use std::time::Duration;

use axum::{Json, Router, extract::State, routing::get};
use onramp_kit::mail::mailbox::{DevMailbox, MailboxEntry};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// The mailbox page's answer: `{"mails": [...]}`, newest first.
#[derive(Debug, Serialize)]
pub struct MailboxJson {
    /// Every mail received so far, newest first.
    pub mails: Vec<MailboxEntry>,
}

/// The development-only route the gateway mounts when the stack runs a mailbox.
pub fn routes(mailbox: DevMailbox) -> Router {
    Router::new()
        .route("/v1/dev/mailbox", get(list))
        .with_state(mailbox)
}

async fn list(State(mailbox): State<DevMailbox>) -> Json<MailboxJson> {
    Json(MailboxJson {
        mails: mailbox.newest_first(),
    })
}

/// How often the echo looks for new mail: a person reading a console does not notice 250 ms.
const ECHO_INTERVAL: Duration = Duration::from_millis(250);

/// Calls `print` once for every mail that arrives, in arrival order, until `stop` fires.
pub async fn echo_new_mail(
    mailbox: DevMailbox,
    stop: CancellationToken,
    print: impl Fn(&MailboxEntry) + Send + 'static,
) {
    let mut shown = 0;
    loop {
        if mailbox.count() > shown {
            let mails = mailbox.in_arrival_order();
            for mail in mails.iter().skip(shown) {
                print(mail);
            }
            shown = mails.len();
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(ECHO_INTERVAL) => {}
        }
    }
}
