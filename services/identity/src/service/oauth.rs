//! OAuth / OIDC logins: start (state, browser binding, PKCE, nonce kept server side) and complete
//! (state checks, code exchange, ID-token validation, then sign in, link safely, or create).

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Identity, IssuedSession, RequestMeta, SignupGate, meter};
use crate::{
    error::IdentityError,
    oauth::{OauthError, ProviderIdentity},
    store::{
        audit,
        oauth::{self as oauth_store, NewOauthUser, NewState},
        users::{self, UserRow},
    },
    tokens,
};

/// A started login.
#[derive(Debug)]
pub(crate) struct OauthStart {
    pub(crate) authorization_url: String,
    pub(crate) state: String,
    pub(crate) browser_binding: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// A completed login.
#[derive(Debug)]
pub(crate) struct OauthLogin {
    pub(crate) session: IssuedSession,
    pub(crate) user_created: bool,
    pub(crate) identity_linked: bool,
    pub(crate) email_verified: bool,
}

fn provider_error(error: OauthError) -> IdentityError {
    match error {
        OauthError::UnknownProvider => IdentityError::ProviderNotFound,
        OauthError::CodeRejected(why) => {
            tracing::info!(%why, "oauth code rejected");
            IdentityError::invalid(
                "code",
                "the authorization code was rejected or already used",
            )
        }
        OauthError::IdTokenInvalid(why) => {
            tracing::info!(%why, "oauth id token rejected");
            IdentityError::invalid("code", "the provider's ID token is invalid")
        }
        OauthError::Unavailable(why) => IdentityError::Unavailable(why),
    }
}

impl Identity {
    /// Starts a login with `provider_id`.
    pub(crate) async fn start_oauth(
        &self,
        provider_id: &str,
        redirect_uri: Option<&str>,
    ) -> Result<OauthStart, IdentityError> {
        let redirect_uri = match redirect_uri {
            None => self.policy.redirect_uris.first().cloned().ok_or_else(|| {
                IdentityError::invalid("redirect_uri", "no redirect URI is configured")
            })?,
            Some(uri)
                if self
                    .policy
                    .redirect_uris
                    .iter()
                    .any(|allowed| allowed == uri) =>
            {
                uri.to_owned()
            }
            Some(_) => {
                return Err(IdentityError::invalid(
                    "redirect_uri",
                    "redirect_uri is not one of the allowed redirect URIs",
                ));
            }
        };
        let authorization = self
            .providers
            .authorize(provider_id, &redirect_uri)
            .await
            .map_err(provider_error)?;
        let binding = tokens::new_secret();
        let now = self.now();
        let expires_at = now + self.policy.state_ttl;
        let mut conn = self.pool.acquire().await?;
        oauth_store::insert_state(
            &mut conn,
            &NewState {
                state_hash: &tokens::hash(&authorization.state),
                provider_id,
                binding_hash: &tokens::hash(&binding),
                pkce_verifier: &authorization.pkce_verifier,
                nonce: &authorization.nonce,
                redirect_uri: &redirect_uri,
                created_at: now,
                expires_at,
            },
        )
        .await?;
        Ok(OauthStart {
            authorization_url: authorization.url,
            state: authorization.state,
            browser_binding: binding,
            expires_at,
        })
    }

    /// Completes a login from the provider's redirect.
    pub(crate) async fn complete_oauth(
        &self,
        meta: &RequestMeta,
        provider_id: &str,
        code: &str,
        state: &str,
        browser_binding: &str,
        invite_code: Option<&str>,
    ) -> Result<OauthLogin, IdentityError> {
        let outcome = self
            .oauth_login(meta, provider_id, code, state, browser_binding, invite_code)
            .await;
        meter::login("oauth", &outcome);
        if matches!(&outcome, Ok(login) if login.user_created) {
            meter::signup("oauth", &outcome);
        }
        outcome
    }

    async fn oauth_login(
        &self,
        meta: &RequestMeta,
        provider_id: &str,
        code: &str,
        state: &str,
        browser_binding: &str,
        invite_code: Option<&str>,
    ) -> Result<OauthLogin, IdentityError> {
        let forged = || {
            IdentityError::invalid(
                "state",
                "the sign-in attempt is invalid or expired; start again",
            )
        };
        let now = self.now();
        let state_hash = tokens::hash(state);
        let mut tx = self.pool.begin().await?;
        let row = oauth_store::state_for_update(&mut tx, &state_hash)
            .await?
            .ok_or_else(forged)?;
        // Only the browser that started the login may consume its state (no one can burn another's).
        let bound = tokens::hash(browser_binding) == row.binding_hash;
        if row.used_at.is_some()
            || row.expires_at <= now
            || row.provider_id != provider_id
            || !bound
        {
            return Err(forged());
        }
        // Consumed before the provider is called: whatever happens next, the state is single use.
        oauth_store::mark_state_used(&mut tx, &state_hash, now).await?;
        tx.commit().await?;
        let identity = self
            .providers
            .exchange(
                provider_id,
                &row.redirect_uri,
                code,
                &row.pkce_verifier,
                &row.nonce,
            )
            .await
            .map_err(provider_error)?;
        self.sign_in_with(meta, provider_id, identity, invite_code)
            .await
    }

    async fn sign_in_with(
        &self,
        meta: &RequestMeta,
        provider_id: &str,
        identity: ProviderIdentity,
        invite_code: Option<&str>,
    ) -> Result<OauthLogin, IdentityError> {
        let email = identity.email.clone().ok_or_else(|| {
            IdentityError::invalid("code", "the provider did not share an email address")
        })?;
        // The provider's address must be the invited one (the invite is locked to its email).
        let invited = match invite_code {
            Some(code) => {
                self.invites.check(code, &email).await?;
                true
            }
            None => false,
        };
        let encrypted = identity
            .refresh_token
            .as_deref()
            .map(|token| self.cipher.encrypt(token))
            .transpose()?;
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let linked = oauth_store::linked_user(&mut tx, provider_id, &identity.subject).await?;
        let (user, user_created, identity_linked) = match linked {
            Some(user_id) => {
                let user = users::by_id(&mut tx, user_id)
                    .await?
                    .ok_or(IdentityError::NotFound)?;
                (user, false, false)
            }
            None => match users::by_email(&mut tx, &email).await? {
                // Linking hands the account to whoever controls the provider account, and the
                // account to the provider login, so only when both sides have proven the address:
                // the provider asserts it, and the account's address was proven by its mailbox or
                // by a provider asserting it. A password-less account made from an unverified
                // provider claim proves nothing (anyone could have made it for this address).
                Some(existing) => {
                    let existing_proven = existing.email_verified_at.is_some();
                    if !(identity.email_verified && existing_proven) {
                        return Err(IdentityError::UseLogin);
                    }
                    (existing, false, true)
                }
                None => (
                    self.create_oauth_user(
                        &mut tx,
                        (meta, provider_id),
                        &identity,
                        (&email, invited),
                        now,
                    )
                    .await?,
                    true,
                    false,
                ),
            },
        };
        oauth_store::upsert_identity(
            &mut tx,
            provider_id,
            &identity.subject,
            user.id,
            &email,
            encrypted.as_deref(),
            now,
        )
        .await?;
        let session = self.issue_session(&mut tx, &user, now).await?;
        let kind = match (user_created, identity_linked) {
            (true, _) => "oauth_signup",
            (_, true) => "oauth_link",
            _ => "oauth_login",
        };
        let event = meta
            .audit(kind)
            .user(user.id)
            .email(&email)
            .detail(json!({ "provider": provider_id }));
        audit::record(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(OauthLogin {
            email_verified: user.email_verified_at.is_some(),
            session,
            user_created,
            identity_linked,
        })
    }

    async fn create_oauth_user(
        &self,
        conn: &mut sqlx::PgConnection,
        (meta, provider_id): (&RequestMeta, &str),
        identity: &ProviderIdentity,
        (email, invited): (&str, bool),
        now: DateTime<Utc>,
    ) -> Result<UserRow, IdentityError> {
        let gate = if invited {
            SignupGate::Open
        } else {
            self.policy.signup_gate(email)
        };
        // The allow-list is keyed by address, so through a provider only an address it vouches for
        // may use it (an unverified claim of a tester's address opens nothing).
        if gate == SignupGate::Closed
            || (gate == SignupGate::InternalTester && !identity.email_verified)
        {
            return Err(IdentityError::SelfServeDisabled);
        }
        let id = Uuid::now_v7();
        // Only the provider's word proves the address; an invite code does not (its inviter saw it).
        let verified = identity.email_verified;
        let name = identity
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
        let created = oauth_store::insert_user(
            conn,
            &NewOauthUser {
                id,
                email,
                display_name: name.trim(),
                verified_at: verified.then_some(now),
                grace_ends_at: (!verified).then_some(now + self.policy.grace),
                now,
            },
        )
        .await?;
        if !created {
            // Someone signed up with the address in the meantime: the same rule as an existing account.
            return Err(IdentityError::UseLogin);
        }
        crate::funnel::account_created(conn, id, provider_id, invited).await?;
        if verified {
            crate::funnel::email_verified(conn, id, "oauth_provider").await?;
        } else {
            self.queue_verification(conn, id, email, now).await?;
        }
        if gate == SignupGate::InternalTester {
            let used = meta
                .audit("internal_tester_signup")
                .user(id)
                .email(email)
                .detail(json!({ "method": "oauth", "provider": provider_id }));
            audit::record(conn, &used, now).await?;
        }
        users::by_id(conn, id).await?.ok_or(IdentityError::NotFound)
    }

    /// The provider ids linked to `user_id`.
    pub(crate) async fn linked_providers(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<String>, IdentityError> {
        let mut conn = self.pool.acquire().await?;
        Ok(oauth_store::providers_of(&mut conn, user_id).await?)
    }
}
