//! Email verification: the token sent at signup, the link that consumes it, and resends.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Identity, RequestMeta, mails};
use crate::{
    error::IdentityError,
    store::{
        audit,
        email_tokens::{self, TokenKind},
        users,
    },
    tokens,
};

/// What VerifyEmail found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verified {
    pub(crate) user_id: Uuid,
    pub(crate) already_verified: bool,
}

/// What ResendVerification did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resent {
    pub(crate) already_verified: bool,
    pub(crate) next_allowed_at: DateTime<Utc>,
}

impl Identity {
    /// Issues a verification token for `user_id` and queues its email (inside the caller's
    /// transaction, so the email exists exactly when the change does).
    pub(crate) async fn queue_verification(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        let token = tokens::new_secret();
        let expires = now + self.policy.verification_ttl;
        let hash = tokens::hash(&token);
        email_tokens::insert(conn, TokenKind::Verification, &hash, user_id, now, expires).await?;
        mails::verification(conn, &self.policy, email, &token).await?;
        Ok(())
    }

    /// Consumes a verification token and marks the email verified.
    pub(crate) async fn verify_email(
        &self,
        meta: &RequestMeta,
        token: &str,
    ) -> Result<Verified, IdentityError> {
        let invalid = IdentityError::Unauthenticated("verification link is invalid or expired");
        let hash = tokens::hash(token);
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let row = email_tokens::for_update(&mut tx, TokenKind::Verification, &hash)
            .await?
            .ok_or(invalid)?;
        let user = users::by_id(&mut tx, row.user_id)
            .await?
            .ok_or(IdentityError::Unauthenticated("account no longer exists"))?;
        if user.email_verified_at.is_some() {
            // A second click on the same link (or any link after verifying) changes nothing.
            return Ok(Verified {
                user_id: user.id,
                already_verified: true,
            });
        }
        if row.used_at.is_some() || row.expires_at <= now {
            return Err(IdentityError::Unauthenticated(
                "verification link is invalid or expired",
            ));
        }
        email_tokens::mark_used(&mut tx, TokenKind::Verification, &hash, now).await?;
        users::mark_verified(&mut tx, user.id, now).await?;
        crate::funnel::email_verified(&mut tx, user.id, "link").await?;
        let event = meta
            .audit("email_verified")
            .user(user.id)
            .email(&user.email);
        audit::record(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(Verified {
            user_id: user.id,
            already_verified: false,
        })
    }

    /// Sends a fresh verification email, at most once per cooldown.
    pub(crate) async fn resend_verification(
        &self,
        meta: &RequestMeta,
    ) -> Result<Resent, IdentityError> {
        let user_id = meta
            .user_id
            .ok_or(IdentityError::Unauthenticated("sign-in required"))?;
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        // Lock the user row so two concurrent resends cannot both pass the cooldown.
        let user = users::by_id_for_update(&mut tx, user_id)
            .await?
            .ok_or(IdentityError::NotFound)?;
        if user.email_verified_at.is_some() {
            return Ok(Resent {
                already_verified: true,
                next_allowed_at: now,
            });
        }
        let cooldown = self.policy.resend_cooldown;
        if let Some(last) =
            email_tokens::latest_issued(&mut tx, TokenKind::Verification, user_id).await?
            && last + cooldown > now
        {
            let wait = (last + cooldown - now).to_std().unwrap_or_default();
            return Err(IdentityError::RateLimited(
                wait.max(std::time::Duration::from_secs(1)),
            ));
        }
        self.queue_verification(&mut tx, user_id, &user.email, now)
            .await?;
        tx.commit().await?;
        Ok(Resent {
            already_verified: false,
            next_allowed_at: now + cooldown,
        })
    }
}
