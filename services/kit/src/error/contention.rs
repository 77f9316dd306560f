//! Transactions that lost a race rather than hit a bug: Postgres aborts one side of a deadlock
//! (40P01) or a serialization conflict (40001) and expects the client to run it again. Those are
//! answered like a lost connection, `UNAVAILABLE` (503 + `Retry-After`), not as an internal error.

use crate::{ApiError, Code, db::TRANSIENT_RETRY_AFTER};

/// SQLSTATEs of a transaction Postgres rolled back so that a concurrent one could proceed.
const CONTENTION_SQLSTATES: [&str; 2] = ["40P01", "40001"];

/// Whether a deadlock or serialization failure is anywhere in `cause`'s chain.
pub(super) fn caused_by_contention(cause: &anyhow::Error) -> bool {
    cause
        .chain()
        .filter_map(|error| error.downcast_ref::<sqlx::Error>())
        .filter_map(sqlx::Error::as_database_error)
        .filter_map(|db| db.code())
        .any(|code| CONTENTION_SQLSTATES.contains(&code.as_ref()))
}

/// The client-visible answer: the transaction was rolled back as a whole, so a retry is safe.
pub(super) fn retry_later() -> ApiError {
    ApiError::new(
        Code::Unavailable,
        "the request collided with a concurrent one; please retry",
    )
    .with_retry_after(TRANSIENT_RETRY_AFTER)
}
