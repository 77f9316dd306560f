//! Identity's domain metrics: how sign-ins and signups end, by method, and lockouts. Labels are small
//! fixed sets; never an email or an id.

use crate::error::IdentityError;

/// How a password or OAuth attempt ended, as a label.
fn result<T>(outcome: &Result<T, IdentityError>) -> &'static str {
    match outcome {
        Ok(_) => "success",
        Err(IdentityError::InvalidCredentials) => "bad_credentials",
        Err(IdentityError::RateLimited(_)) => "locked",
        Err(IdentityError::HashingBusy) => "busy",
        Err(IdentityError::InvalidField { .. }) => "invalid",
        Err(IdentityError::SelfServeDisabled) => "closed",
        Err(IdentityError::UseLogin) => "use_login",
        Err(IdentityError::InviteNotFound | IdentityError::InviteForAnotherEmail) => {
            "invite_refused"
        }
        Err(IdentityError::InvitesUnavailable(_) | IdentityError::Unavailable(_)) => "unavailable",
        Err(IdentityError::Unexpected(_)) => "error",
        Err(_) => "refused",
    }
}

/// Counts a login attempt (`method` is `password` or `oauth`).
pub(super) fn login<T>(method: &'static str, outcome: &Result<T, IdentityError>) {
    metrics::counter!("onramp_logins_total", "method" => method, "result" => result(outcome))
        .increment(1);
}

/// Counts a signup attempt. A password signup for an existing email answers success on purpose
/// (enumeration resistance) and is counted as such.
pub(super) fn signup<T>(method: &'static str, outcome: &Result<T, IdentityError>) {
    metrics::counter!("onramp_signups_total", "method" => method, "result" => result(outcome))
        .increment(1);
}

/// Counts an account reaching its failure limit (once per lockout, not per refused attempt).
pub(super) fn lockout() {
    metrics::counter!("onramp_lockouts_total").increment(1);
}
