//! The emails identity sends, written to the outbox inside the transaction of the change they report.

use onramp_kit::mail::{Email, outbox};
use sqlx::PgConnection;

use super::Policy;
use crate::store::oauth::LinkedIdentity;

/// Queues the "verify your address" email with its link.
pub(crate) async fn verification(
    conn: &mut PgConnection,
    policy: &Policy,
    to: &str,
    token: &str,
) -> sqlx::Result<()> {
    let hours = policy.verification_ttl.num_hours();
    let email = Email {
        to: to.to_owned(),
        subject: "Verify your email address".to_owned(),
        body_text: format!(
            "Welcome to Onramp!\n\nConfirm your email address by opening this link (valid {hours} hours):\n\n\
             {}/verify-email?token={token}\n\nIf you did not sign up, ignore this email.\n",
            policy.app_base_url
        ),
    };
    outbox::enqueue(conn, &email).await.map(drop)
}

/// Tells the owner of an existing account that someone tried to sign up with their address (the
/// signup itself answered exactly as for a new address).
pub(crate) async fn signup_attempt(
    conn: &mut PgConnection,
    policy: &Policy,
    to: &str,
) -> sqlx::Result<()> {
    let email = Email {
        to: to.to_owned(),
        subject: "Someone tried to sign up with your email".to_owned(),
        body_text: format!(
            "Someone tried to create an Onramp account with this address, which already has one.\n\n\
             If it was you, log in instead; forgot your password? Reset it at {}/reset-password\n\n\
             If it was not you, you can ignore this email: nothing changed.\n",
            policy.app_base_url
        ),
    };
    outbox::enqueue(conn, &email).await.map(drop)
}

/// Queues the password reset email with its link, listing the provider logins linked to the account
/// so the mailbox's owner can see (and remove, when choosing the new password) one that is not theirs.
pub(crate) async fn reset(
    conn: &mut PgConnection,
    policy: &Policy,
    to: &str,
    token: &str,
    linked: &[LinkedIdentity],
) -> sqlx::Result<()> {
    let minutes = policy.reset_ttl.num_minutes();
    let linked = if linked.is_empty() {
        String::new()
    } else {
        let lines: Vec<String> = linked
            .iter()
            .map(|identity| match &identity.email {
                Some(email) => format!("  - {} ({email})", identity.provider_id),
                None => format!("  - {}", identity.provider_id),
            })
            .collect();
        format!(
            "These sign-in providers are linked to the account and keep working after the reset \
             unless you remove them on the reset page:\n{}\n\n",
            lines.join("\n")
        )
    };
    let email = Email {
        to: to.to_owned(),
        subject: "Reset your password".to_owned(),
        body_text: format!(
            "Someone asked to reset the password of your Onramp account.\n\nOpen this link within \
             {minutes} minutes to choose a new password:\n\n{}/reset-password?token={token}\n\n\
             {linked}If it was not you, ignore this email: your password is unchanged.\n",
            policy.app_base_url
        ),
    };
    outbox::enqueue(conn, &email).await.map(drop)
}
