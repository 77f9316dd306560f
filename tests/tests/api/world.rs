//! A stack whose services all send mail to one real SMTP sink, and signed-in, email-verified users
//! made the way a browser makes them (signup → the link in the captured mail → login). Tests that
//! need a real session (tenant-scoped routes, billing, onboarding) start here.

use std::time::Duration;

use onramp_kit::{
    config::SecretString,
    mail::{
        sink::{ReceivedMail, SmtpSink},
        smtp::SmtpSettings,
    },
};
use onramp_stack::{ConfigHook, StackOptions};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::TestStack,
    identity::{PASSWORD, login, new_email, post, signup},
};

/// How long a test waits for a mail the outbox should send within a poll interval or two.
pub(crate) const MAIL_WAIT: Duration = Duration::from_secs(10);

/// The stack plus the SMTP sink every service mails to.
pub(crate) struct World {
    pub(crate) app: TestStack,
    pub(crate) sink: SmtpSink,
}

/// A signed-in user whose email is verified.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) email: String,
    pub(crate) id: String,
    pub(crate) access_token: String,
}

impl World {
    /// The default stack, mailing to a fresh sink.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A stack mailing to a fresh sink, with `adjust` applied last (it may replace any hook).
    pub(crate) async fn spawn_with(adjust: impl FnOnce(&mut StackOptions)) -> Self {
        let sink = SmtpSink::start().expect("smtp sink");
        let url = sink.url();
        let app = TestStack::spawn_with(|options| {
            let settings = SmtpSettings::new(url.clone(), "Onramp <no-reply@onramp.test>");
            options.configure_identity = Some(ConfigHook::new(
                move |config: &mut onramp_identity::Config| {
                    config.smtp = Some(settings.clone());
                    config.email_outbox_poll_interval = Duration::from_millis(50);
                },
            ));
            let tenancy_url = url.clone();
            options.configure_tenancy = Some(ConfigHook::new(
                move |config: &mut onramp_tenant_provisioning::Config| {
                    config.smtp_url = Some(SecretString::from(tenancy_url.clone()));
                    config.outbox_poll_interval = Duration::from_millis(50);
                },
            ));
            let onboarding_url = url.clone();
            options.configure_onboarding = Some(ConfigHook::new(
                move |config: &mut onramp_onboarding::Config| {
                    config.smtp_url = Some(SecretString::from(onboarding_url.clone()));
                    config.mail_relay_interval = Duration::from_millis(50);
                },
            ));
            adjust(options);
        })
        .await;
        Self { app, sink }
    }

    /// Signs a new user up, verifies the address from the captured mail and logs in.
    pub(crate) async fn verified_user(&self) -> User {
        self.verified_user_with_email(&new_email()).await
    }

    /// [`World::verified_user`] with a chosen address (an invitee's, say).
    pub(crate) async fn verified_user_with_email(&self, email: &str) -> User {
        let user = self.unverified_user_with_email(email).await;
        let mail = self.nth_mail(email, 1).await;
        let verified = post(
            &self.app,
            "/v1/auth/verify-email",
            json!({ "token": link_token(&mail) }),
        )
        .await;
        assert_eq!(verified.status(), StatusCode::OK, "verify-email");
        // A fresh login: the new access token carries `email_verified`.
        self.login(&user.email, &user.id).await
    }

    /// A signed-in user who has not verified the address (still within the grace period).
    pub(crate) async fn unverified_user_with_email(&self, email: &str) -> User {
        assert_eq!(
            signup(&self.app, email, PASSWORD).await.status(),
            StatusCode::ACCEPTED,
            "signup"
        );
        let session: Value = login(&self.app, email, PASSWORD)
            .await
            .json()
            .await
            .expect("session json");
        let access_token = session["access_token"].as_str().expect("access").to_owned();
        let me: Value = self
            .authed(Method::GET, "/v1/users/me", &access_token)
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("me json");
        User {
            email: email.to_owned(),
            id: me["id"].as_str().expect("user id").to_owned(),
            access_token,
        }
    }

    async fn login(&self, email: &str, id: &str) -> User {
        let response = login(&self.app, email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login");
        let session: Value = response.json().await.expect("session json");
        User {
            email: email.to_owned(),
            id: id.to_owned(),
            access_token: session["access_token"].as_str().expect("access").to_owned(),
        }
    }

    /// A request to the gateway with the user's bearer token.
    pub(crate) fn authed(&self, method: Method, path: &str, access_token: &str) -> RequestBuilder {
        self.app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(access_token)
    }

    /// Waits for the `n`th mail to `to` and returns it.
    pub(crate) async fn nth_mail(&self, to: &str, n: usize) -> ReceivedMail {
        let mails = self.sink.wait_for(to, n, MAIL_WAIT).await;
        assert!(
            mails.len() >= n,
            "expected {n} mails to {to}, got {}",
            mails.len()
        );
        mails[n - 1].clone()
    }

    /// Stops the stack and drops its databases.
    pub(crate) async fn stop(self) {
        self.app.stop().await;
    }
}

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
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The token in the link of a mail (`…?token=XYZ`).
pub(crate) fn link_token(mail: &ReceivedMail) -> String {
    link_param(mail, "token")
}
