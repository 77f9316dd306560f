//! Password reset: an enumeration-safe request, and a single-use token that sets a new password and
//! ends every session.

use serde_json::json;

use super::{Identity, RequestMeta, mails};
use crate::{
    domain::{Email, NewPassword},
    error::IdentityError,
    store::{
        audit,
        email_tokens::{self, TokenKind},
        limits,
        oauth::{self as oauth_store},
        sessions, users,
    },
    tokens,
};

/// What a completed reset did.
#[derive(Debug, Clone)]
pub(crate) struct ResetOutcome {
    pub(crate) sessions_revoked: u64,
    /// Provider ids still linked after the reset.
    pub(crate) linked_oauth_providers: Vec<String>,
    /// Provider ids the reset unlinked.
    pub(crate) unlinked_oauth_providers: Vec<String>,
}

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
        // Concurrent requests for one address take turns, so each counts the others (20 parallel
        // requests cannot all see an empty window and all send a mail).
        email_tokens::lock_reset_requests(&mut tx, email.as_str()).await?;
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
        let mut event = meta
            .audit("password_reset_requested")
            .email(email.as_str())
            .detail(json!({ "account_exists": user.is_some() }));
        event.user_id = user.as_ref().map(|u| u.id);
        if let Some(user) = &user {
            let token = tokens::new_secret();
            let hash = tokens::hash(&token);
            let expires = now + self.policy.reset_ttl;
            email_tokens::insert(&mut tx, TokenKind::Reset, &hash, user.id, now, expires).await?;
            let linked = oauth_store::identities_of(&mut tx, user.id).await?;
            mails::reset(&mut tx, &self.policy, &user.email, &token, &linked).await?;
        } else {
            event.kind = "password_reset_unknown_email";
        }
        audit::record(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password from a reset token, unlinks the provider logins the owner asked to
    /// remove, ends every session, clears the account's login lockout and marks the email verified.
    pub(crate) async fn complete_password_reset(
        &self,
        meta: &RequestMeta,
        token: &str,
        new_password: NewPassword,
        unlink: Vec<String>,
    ) -> Result<ResetOutcome, IdentityError> {
        let invalid = || IdentityError::Unauthenticated("reset link is invalid or expired");
        let hash = tokens::hash(token);
        // The token is checked before the (expensive) hash, so bogus links cost no argon2 work, and
        // no connection is held while hashing.
        {
            let mut conn = self.pool.acquire().await?;
            email_tokens::live(&mut conn, TokenKind::Reset, &hash, self.now())
                .await?
                .ok_or_else(invalid)?;
        }
        let phc = self.hasher.hash(new_password.expose().to_owned()).await?;
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let row = email_tokens::for_update(&mut tx, TokenKind::Reset, &hash)
            .await?
            .filter(|row| row.used_at.is_none() && row.expires_at > now)
            .ok_or_else(invalid)?;
        let user = users::by_id(&mut tx, row.user_id)
            .await?
            .ok_or_else(invalid)?;
        let linked = oauth_store::identities_of(&mut tx, user.id).await?;
        let mut unlinked: Vec<String> = Vec::new();
        for provider in unlink {
            if !linked
                .iter()
                .any(|identity| identity.provider_id == provider)
            {
                return Err(IdentityError::invalid(
                    "unlink_oauth_providers",
                    format!("{provider} is not linked to this account"),
                ));
            }
            if !unlinked.contains(&provider) {
                unlinked.push(provider);
            }
        }
        oauth_store::unlink(&mut tx, user.id, &unlinked).await?;
        email_tokens::mark_used(&mut tx, TokenKind::Reset, &hash, now).await?;
        users::set_password_hash(&mut tx, user.id, &phc).await?;
        // The token proves control of the mailbox.
        if users::mark_verified(&mut tx, user.id, now).await? {
            crate::funnel::email_verified(&mut tx, user.id, "password_reset").await?;
        }
        // Whoever locked the account out with wrong guesses no longer keeps its owner out.
        limits::reset_account(&mut tx, &user.email).await?;
        let revoked = sessions::revoke_all(&mut tx, user.id, now, "password_reset").await?;
        let event = meta
            .audit("password_reset")
            .user(user.id)
            .detail(json!({ "sessions_revoked": revoked, "unlinked_oauth_providers": unlinked }));
        audit::record(&mut tx, &event, now).await?;
        tx.commit().await?;
        let still_linked = linked
            .into_iter()
            .map(|identity| identity.provider_id)
            .filter(|provider| !unlinked.contains(provider))
            .fold(Vec::new(), |mut all, provider| {
                if !all.contains(&provider) {
                    all.push(provider);
                }
                all
            });
        Ok(ResetOutcome {
            sessions_revoked: revoked,
            linked_oauth_providers: still_linked,
            unlinked_oauth_providers: unlinked,
        })
    }
}
