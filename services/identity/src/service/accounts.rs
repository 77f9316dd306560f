//! Signup, login and reading accounts.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Identity, IssuedSession, RequestMeta, SignupGate, mails, meter};
use crate::{
    domain::{DisplayName, Email, NewPassword},
    error::IdentityError,
    passwords::Verified,
    store::{
        audit::{self, AuditEvent},
        limits::{self, Counted},
        users::{self, NewUser, UserRow},
    },
};

/// Parsed signup input.
#[derive(Debug)]
pub(crate) struct SignupInput {
    pub(crate) email: Email,
    pub(crate) password: NewPassword,
    pub(crate) display_name: DisplayName,
    pub(crate) invite_code: Option<String>,
}

/// An account as its owner sees it.
#[derive(Debug, Clone)]
pub(crate) struct UserView {
    pub(crate) id: Uuid,
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) email_verified_at: Option<DateTime<Utc>>,
    pub(crate) verification_grace_ends_at: Option<DateTime<Utc>>,
    pub(crate) verification_required: bool,
    pub(crate) has_password: bool,
    pub(crate) created_at: DateTime<Utc>,
}

/// Whether a login attempt may go on to check the password.
enum Admission {
    /// Within the limits: the account (if any) and the attempt, counted as failed until it succeeds;
    /// `locks` when this attempt, if it fails, is the one that reaches the account's limit.
    Admitted {
        user: Option<UserRow>,
        attempt: i64,
        locks: bool,
    },
    /// Over a limit: retry after this long.
    Wait(std::time::Duration),
}

impl Identity {
    /// Creates a password account. An existing email gets the same (empty) answer after the same
    /// work (the password is hashed either way), so the response never tells whether it exists.
    pub(crate) async fn signup(
        &self,
        meta: &RequestMeta,
        input: SignupInput,
    ) -> Result<(), IdentityError> {
        let outcome = self.password_signup(meta, input).await;
        meter::signup("password", &outcome);
        outcome
    }

    async fn password_signup(
        &self,
        meta: &RequestMeta,
        input: SignupInput,
    ) -> Result<(), IdentityError> {
        // An invite for this address opens a closed signup. It proves nothing about the mailbox:
        // the inviter saw the code too, so the account starts unverified like any other.
        let invited = match &input.invite_code {
            Some(code) => {
                self.invites.check(code, input.email.as_str()).await?;
                true
            }
            None => false,
        };
        let gate = if invited {
            SignupGate::Open
        } else {
            self.policy.signup_gate(input.email.as_str())
        };
        if gate == SignupGate::Closed {
            return Err(IdentityError::SelfServeDisabled);
        }
        let phc = self.hasher.hash(input.password.expose().to_owned()).await?;
        let now = self.now();
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        let created = users::insert(
            &mut tx,
            &NewUser {
                id,
                email: input.email.as_str(),
                display_name: input.display_name.as_str(),
                password_hash: &phc,
                verification_grace_ends_at: now + self.policy.grace,
                created_at: now,
            },
        )
        .await?;
        let kind = if created {
            "signup"
        } else {
            "signup_existing_email"
        };
        let mut audit_event = meta.audit(kind).email(input.email.as_str());
        audit_event.user_id = created.then_some(id);
        audit::record(&mut tx, &audit_event, now).await?;
        if gate == SignupGate::InternalTester {
            let used = AuditEvent {
                kind: "internal_tester_signup",
                ..audit_event
            }
            .detail(json!({ "method": "password", "account_created": created }));
            audit::record(&mut tx, &used, now).await?;
        }
        if created {
            crate::funnel::account_created(&mut tx, id, "password", invited).await?;
            self.queue_verification(&mut tx, id, input.email.as_str(), now)
                .await?;
        } else if !created {
            // The owner learns of the attempt by email; the response says nothing.
            mails::signup_attempt(&mut tx, &self.policy, input.email.as_str()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks email + password (within the failure limits) and starts a session.
    pub(crate) async fn login(
        &self,
        meta: &RequestMeta,
        email: &str,
        password: String,
    ) -> Result<IssuedSession, IdentityError> {
        let outcome = self.password_login(meta, email, password).await;
        meter::login("password", &outcome);
        outcome
    }

    async fn password_login(
        &self,
        meta: &RequestMeta,
        email: &str,
        password: String,
    ) -> Result<IssuedSession, IdentityError> {
        // Normalised like signup, but a malformed address is simply an unknown account here.
        let email = Email::parse(email, "email")
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        let (user, attempt, locks) = match self.admit_login(meta, &email).await? {
            Admission::Admitted {
                user,
                attempt,
                locks,
            } => (user, attempt, locks),
            Admission::Wait(wait) => return Err(IdentityError::RateLimited(wait)),
        };
        // The hash runs with no pooled connection and no lock held: a slow hash (or a queue of
        // them) cannot starve the pool or serialise other accounts.
        let phc = user.as_ref().and_then(|u| u.password_hash.clone());
        let verified = match self.hasher.verify(password, phc.clone()).await {
            Ok(verified) => verified,
            Err(error) => {
                // Not an attempt after all (the replica was saturated): it must not count.
                let mut conn = self.pool.acquire().await?;
                limits::forget(&mut conn, attempt).await?;
                return Err(error.into());
            }
        };
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        // Under the account's lock, like the admission: two logins finishing at once would
        // otherwise each delete its own attempt row and then update the other's, and deadlock.
        limits::lock_account(&mut tx, &email).await?;
        // The account as it is now: a password changed meanwhile (a reset) invalidates this check.
        let current = match &user {
            Some(user) => users::by_id(&mut tx, user.id).await?,
            None => None,
        };
        let user = match (verified, current) {
            (Verified::Yes | Verified::YesRehashed(_), Some(user)) if user.password_hash == phc => {
                user
            }
            (Verified::YesRehashed(new_phc), Some(user)) if user.password_hash == phc => {
                users::set_password_hash(&mut tx, user.id, &new_phc).await?;
                user
            }
            _ => {
                // The failure was counted before hashing.
                let failed = meta.audit("login_failed").email(&email);
                audit::record(&mut tx, &failed, now).await?;
                tx.commit().await?;
                if locks {
                    meter::lockout();
                }
                return Err(IdentityError::InvalidCredentials);
            }
        };
        limits::forget(&mut tx, attempt).await?;
        limits::reset_account(&mut tx, &email).await?;
        let session = self.issue_session(&mut tx, &user, now).await?;
        let ok = meta.audit("login_ok").email(&email).user(user.id);
        audit::record(&mut tx, &ok, now).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The limit check, in a short transaction under the account's lock. An admitted attempt is
    /// counted as a failure before its hash runs (and forgotten if it succeeds), so concurrent
    /// guesses cannot all pass the check while no lock is held.
    async fn admit_login(
        &self,
        meta: &RequestMeta,
        email: &str,
    ) -> Result<Admission, IdentityError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        limits::lock_account(&mut tx, email).await?;
        let (wait, account_failures) = self.login_wait(&mut tx, meta, email, now).await?;
        if let Some(wait) = wait {
            let limited = meta.audit("login_rate_limited").email(email);
            audit::record(&mut tx, &limited, now).await?;
            tx.commit().await?;
            return Ok(Admission::Wait(wait));
        }
        let user = users::by_email(&mut tx, email).await?;
        let attempt = limits::record(&mut tx, email, meta.client_ip.as_deref(), now).await?;
        tx.commit().await?;
        // Decided under the account's lock, so exactly one failing attempt counts as the lockout.
        let locks = account_failures + 1 == self.policy.max_failures_per_account;
        Ok(Admission::Admitted {
            user,
            attempt,
            locks,
        })
    }

    /// How long to wait when the account or the client IP has too many recent failures, and the
    /// account's recent failures.
    async fn login_wait(
        &self,
        conn: &mut sqlx::PgConnection,
        meta: &RequestMeta,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<(Option<std::time::Duration>, i64), IdentityError> {
        let policy = &self.policy;
        let account =
            limits::failures(conn, Counted::Email(email), now - policy.account_window).await?;
        let mut wait = None;
        if account.count >= policy.max_failures_per_account {
            wait = account
                .oldest
                .map(|oldest| oldest + policy.account_window - now);
        }
        if let Some(ip) = meta.client_ip.as_deref() {
            let by_ip = limits::failures(conn, Counted::Ip(ip), now - policy.ip_window).await?;
            if by_ip.count >= policy.max_failures_per_ip {
                let ip_wait = by_ip.oldest.map(|oldest| oldest + policy.ip_window - now);
                wait = wait.max(ip_wait);
            }
        }
        let wait = wait.map(|wait| {
            wait.to_std()
                .unwrap_or_default()
                .max(std::time::Duration::from_secs(1))
        });
        Ok((wait, account.count))
    }

    /// The caller's own account.
    pub(crate) async fn current_user(&self, meta: &RequestMeta) -> Result<UserView, IdentityError> {
        let user_id = meta
            .user_id
            .ok_or(IdentityError::Unauthenticated("sign-in required"))?;
        let mut conn = self.pool.acquire().await?;
        let row = users::by_id(&mut conn, user_id)
            .await?
            .ok_or(IdentityError::NotFound)?;
        Ok(UserView::from_row(row, self.now()))
    }

    /// Renames the caller.
    pub(crate) async fn rename(
        &self,
        meta: &RequestMeta,
        display_name: DisplayName,
    ) -> Result<UserView, IdentityError> {
        let user_id = meta
            .user_id
            .ok_or(IdentityError::Unauthenticated("sign-in required"))?;
        let mut conn = self.pool.acquire().await?;
        if !users::set_display_name(&mut conn, user_id, display_name.as_str()).await? {
            return Err(IdentityError::NotFound);
        }
        self.current_user(meta).await
    }

    /// Users by id, in the order asked (duplicates removed), and the ids with no account.
    pub(crate) async fn lookup(
        &self,
        ids: Vec<Uuid>,
    ) -> Result<(Vec<UserView>, Vec<Uuid>), IdentityError> {
        let mut unique = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        let mut conn = self.pool.acquire().await?;
        let rows = users::by_ids(&mut conn, &unique).await?;
        let now = self.now();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for id in unique {
            match rows.iter().find(|row| row.id == id) {
                Some(row) => found.push(UserView::from_row(row.clone(), now)),
                None => missing.push(id),
            }
        }
        Ok((found, missing))
    }
}
