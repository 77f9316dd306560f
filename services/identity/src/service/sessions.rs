//! Sessions: issuing, rotating (with reuse detection) and revoking refresh-token families.

use chrono::{DateTime, Utc};
use onramp_kit::auth::AccessClaims;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Identity, IssuedSession, RequestMeta};
use crate::{
    error::IdentityError,
    store::{
        audit, sessions,
        users::{self, UserRow},
    },
    tokens,
};

impl Identity {
    /// Starts a new family for `user` and issues its first pair (inside the caller's transaction).
    pub(crate) async fn issue_session(
        &self,
        conn: &mut PgConnection,
        user: &UserRow,
        now: DateTime<Utc>,
    ) -> Result<IssuedSession, IdentityError> {
        let family = Uuid::now_v7();
        sessions::insert_family(conn, family, user.id, now).await?;
        self.issue_pair(conn, user, family, now).await
    }

    /// A new refresh token in `family` plus an access token for it.
    async fn issue_pair(
        &self,
        conn: &mut PgConnection,
        user: &UserRow,
        family: Uuid,
        now: DateTime<Utc>,
    ) -> Result<IssuedSession, IdentityError> {
        let refresh_token = tokens::new_secret();
        let refresh_expires = now + self.policy.refresh_ttl;
        sessions::insert_token(
            conn,
            &tokens::hash(&refresh_token),
            family,
            now,
            refresh_expires,
        )
        .await?;
        let access_expires = now + self.policy.access_ttl;
        let verified = user.email_verified_at.is_some();
        let claims = AccessClaims {
            iss: self.policy.issuer.clone(),
            aud: self.policy.audience.clone(),
            sub: user.id.to_string(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: access_expires.timestamp(),
            jti: Uuid::new_v4().to_string(),
            sid: family.to_string(),
            email_verified: verified,
            evg: if verified {
                None
            } else {
                user.verification_grace_ends_at.map(|end| end.timestamp())
            },
        };
        Ok(IssuedSession {
            access_token: self.keys.sign(&claims)?,
            access_token_expires_at: access_expires,
            refresh_token,
            refresh_token_expires_at: refresh_expires,
            session_id: family,
            user_id: user.id,
        })
    }

    /// Rotates a refresh token. A token that was already rotated revokes its whole family, unless it
    /// was rotated within the reuse window (concurrent refreshes from two tabs).
    pub(crate) async fn refresh(
        &self,
        meta: &RequestMeta,
        refresh_token: &str,
    ) -> Result<IssuedSession, IdentityError> {
        let hash = tokens::hash(refresh_token);
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let token = sessions::token_for_update(&mut tx, &hash)
            .await?
            .ok_or(IdentityError::Unauthenticated("unknown refresh token"))?;
        if token.family_revoked_at.is_some() {
            return Err(IdentityError::Unauthenticated("this session has ended"));
        }
        let within_window = token
            .rotated_at
            .is_some_and(|rotated| now - rotated <= self.policy.refresh_reuse_window);
        if token.rotated_at.is_some() && !within_window {
            // Someone holds a copy of a used token: end the session for everyone holding any of it.
            sessions::revoke_family(&mut tx, token.family_id, now, "reuse").await?;
            let event = meta
                .audit("refresh_reuse")
                .user(token.user_id)
                .detail(json!({ "session_id": token.family_id }));
            audit::record(&mut tx, &event, now).await?;
            tx.commit().await?;
            return Err(IdentityError::RefreshTokenReused);
        }
        if token.expires_at <= now {
            return Err(IdentityError::Unauthenticated("refresh token expired"));
        }
        let user = users::by_id(&mut tx, token.user_id)
            .await?
            .ok_or(IdentityError::Unauthenticated("account no longer exists"))?;
        // A second refresh within the window (another tab, a retried request) gets its own pair in
        // the same session; the token keeps its first rotation time, so the window does not slide.
        if !within_window {
            sessions::mark_rotated(&mut tx, &hash, now).await?;
        }
        let session = self
            .issue_pair(&mut tx, &user, token.family_id, now)
            .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Ends the session of a refresh token (current or rotated); `true` when it was live.
    pub(crate) async fn logout(
        &self,
        meta: &RequestMeta,
        refresh_token: &str,
    ) -> Result<bool, IdentityError> {
        let hash = tokens::hash(refresh_token);
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let Some(token) = sessions::token_for_update(&mut tx, &hash).await? else {
            return Ok(false);
        };
        let revoked = sessions::revoke_family(&mut tx, token.family_id, now, "logout").await?;
        if revoked {
            let event = meta
                .audit("logout")
                .user(token.user_id)
                .detail(json!({ "session_id": token.family_id }));
            audit::record(&mut tx, &event, now).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Ends every session of the caller; how many were live.
    pub(crate) async fn logout_everywhere(&self, meta: &RequestMeta) -> Result<u64, IdentityError> {
        let user_id = meta
            .user_id
            .ok_or(IdentityError::Unauthenticated("sign-in required"))?;
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let revoked = sessions::revoke_all(&mut tx, user_id, now, "logout_everywhere").await?;
        let event = meta
            .audit("logout_everywhere")
            .user(user_id)
            .detail(json!({ "sessions_revoked": revoked }));
        audit::record(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(revoked)
    }
}
