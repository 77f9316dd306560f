//! Deadlines that travel: the budget a request arrived with is the budget its downstream calls get.
//!
//! The gateway scopes each HTTP request with a [`Deadline`]; the gRPC server layer scopes each RPC with
//! the deadline its `grpc-timeout` header implies. Outgoing calls made inside that scope send the
//! remaining time as their own `grpc-timeout` (see [`crate::grpc::client`]).

use std::{future::Future, time::Duration};

use tokio::time::Instant;

tokio::task_local! {
    static CURRENT: Deadline;
}

/// The instant by which the current request must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    /// Time left, zero once passed.
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline has passed.
    pub fn is_expired(self) -> bool {
        Instant::now() >= self.0
    }

    /// The instant itself, for `tokio::time::sleep_until` and friends.
    pub fn instant(self) -> Instant {
        self.0
    }

    /// The deadline of the request being served by this task, if any.
    pub fn current() -> Option<Deadline> {
        CURRENT.try_with(|deadline| *deadline).ok()
    }

    /// Runs `future` with `self` as the current deadline (the earlier one wins if one is already set).
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        let effective = Deadline::current().map_or(self, |outer| outer.min(self));
        CURRENT.scope(effective, future).await
    }
}

/// Parses a gRPC `grpc-timeout` header value ("100m", "5S", ...) into a duration.
///
/// Returns `None` for a malformed value, which callers treat as "no deadline sent".
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_grpc_timeout_unit() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        assert_eq!(parse_grpc_timeout("m"), None);
        assert_eq!(parse_grpc_timeout("12x"), None);
        assert_eq!(parse_grpc_timeout("1234567890S"), None);
    }

    #[tokio::test]
    async fn inner_scope_never_extends_the_outer_deadline() {
        let outer = Deadline::after(Duration::from_millis(100));
        let seen = outer
            .scope(async {
                Deadline::after(Duration::from_secs(60))
                    .scope(async { Deadline::current() })
                    .await
            })
            .await;
        assert_eq!(seen, Some(outer));
        assert_eq!(Deadline::current(), None);
    }
}
