//! Password reset: an enumeration-safe request, and a single-use token that sets a new password and
//! ends every session.

use serde_json::json;

use super::{Identity, RequestMeta, mails};
use crate::{
    domain::{Email, NewPassword},
    error::IdentityError,
    store::{
        audit::{self, AuditEvent},
        email_tokens::{self, TokenKind},
        sessions, users,
    },
    tokens,
};

impl Identity {
    /// Emails a reset link when the account exists; the answer is the same either way, and the
    /// per-address limit is counted the same way either way.
    pub(crate) async fn request_password_reset(
        &self,
        meta: &RequestMeta,
        email: &Email,
    ) -> Result<(), IdentityError> {
        let now = self.now();
        let hour = chrono::TimeDelta::hours(1);
        let mut tx = self.pool.begin().await?;
        let (count, oldest) = email_tokens::count_reset_request(
            &mut tx,
            email.as_str(),
            meta.client_ip.as_deref(),
            now,
            now - hour,
        )
        .await?;
        if count > self.policy.reset_max_per_hour {
            drop(tx);
            let wait = oldest.map_or(hour, |oldest| oldest + hour - now);
            let wait = wait.to_std().unwrap_or_default();
            return Err(IdentityError::RateLimited(
                wait.max(std::time::Duration::from_secs(1)),
            ));
        }
        let user = users::by_email(&mut tx, email.as_str()).await?;
        let mut event = AuditEvent {
            kind: "password_reset_requested",
            user_id: user.as_ref().map(|u| u.id),
            email: Some(email.as_str()),
            client_ip: meta.client_ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            detail: json!({ "account_exists": user.is_some() }),
        };
        if let Some(user) = &user {
            let token = tokens::new_secret();
            let hash = tokens::hash(&token);
            let expires = now + self.policy.reset_ttl;
            email_tokens::insert(&mut tx, TokenKind::Reset, &hash, user.id, now, expires).await?;
            mails::reset(&mut tx, &self.policy, &user.email, &token).await?;
        } else {
            event.kind = "password_reset_unknown_email";
        }
        audit::record(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password from a reset token, ends every session and marks the email verified.
    /// Returns how many sessions were revoked.
    pub(crate) async fn complete_password_reset(
        &self,
        meta: &RequestMeta,
        token: &str,
        new_password: NewPassword,
    ) -> Result<u64, IdentityError> {
        let phc = self.hasher.hash(new_password.expose().to_owned()).await?;
        let hash = tokens::hash(token);
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let row = email_tokens::for_update(&mut tx, TokenKind::Reset, &hash)
            .await?
            .filter(|row| row.used_at.is_none() && row.expires_at > now)
            .ok_or(IdentityError::Unauthenticated(
                "reset link is invalid or expired",
            ))?;
        email_tokens::mark_used(&mut tx, TokenKind::Reset, &hash, now).await?;
        users::set_password_hash(&mut tx, row.user_id, &phc).await?;
        // The token proves control of the mailbox.
        users::mark_verified(&mut tx, row.user_id, now).await?;
        let revoked = sessions::revoke_all(&mut tx, row.user_id, now, "password_reset").await?;
        let event = AuditEvent {
            kind: "password_reset",
            user_id: Some(row.user_id),
            email: None,
            client_ip: meta.client_ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            detail: json!({ "sessions_revoked": revoked }),
        };
        audit::record(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(revoked)
    }
}
