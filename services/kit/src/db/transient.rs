//! Which database failures a retry can cure: the connection died (the backend was terminated, the
//! server restarted, the socket was reset) or no connection could be had in time. Those are answered
//! `UNAVAILABLE` (503 + `Retry-After`); everything else (constraint violations, bad SQL, decoding)
//! is a bug or a refusal and keeps its own mapping.

use std::time::Duration;

use crate::{ApiError, Code};

/// How long a client should wait after a transient database failure: long enough for a pool to
/// reconnect or a restarted server to accept connections again.
pub const TRANSIENT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Whether `error` is a lost or unobtainable connection, so that the same request may succeed if
/// retried. A transaction that failed this way was rolled back by the server (or never began).
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_transient_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATEs of a connection the server ended or refused: class 08 (connection exception),
/// 57P01–57P03 (`admin_shutdown` from `pg_terminate_backend` or a fast shutdown, `crash_shutdown`,
/// `cannot_connect_now` while starting) and 53300 (`too_many_connections`).
fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// Whether a transient [`sqlx::Error`] is anywhere in `error`'s chain (errors wrapped with context
/// on their way up keep their cause).
pub fn caused_by_transient(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(is_transient)
}

/// The client-visible answer to a transient database failure. The caller logs the cause.
pub fn unavailable() -> ApiError {
    ApiError::new(
        Code::Unavailable,
        "the database connection was lost; please retry",
    )
    .with_retry_after(TRANSIENT_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, io};

    use sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// A server error with a chosen SQLSTATE (sqlx's Postgres error cannot be built outside it).
    #[derive(Debug)]
    struct ServerError(&'static str);

    impl std::fmt::Display for ServerError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "server error {}", self.0)
        }
    }

    impl std::error::Error for ServerError {}

    impl DatabaseError for ServerError {
        fn message(&self) -> &str {
            "server error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            match self.0 {
                "23505" => ErrorKind::UniqueViolation,
                "23503" => ErrorKind::ForeignKeyViolation,
                _ => ErrorKind::Other,
            }
        }
    }

    fn server(code: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(ServerError(code)))
    }

    #[test]
    fn lost_or_unobtainable_connections_are_transient() {
        let transient = [
            sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset)),
            sqlx::Error::Io(io::Error::from(io::ErrorKind::UnexpectedEof)),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            server("57P01"), // pg_terminate_backend: terminating connection due to administrator command
            server("57P03"), // the server is starting up
            server("08006"), // connection failure
            server("53300"), // too many connections
        ];
        for error in &transient {
            assert!(is_transient(error), "{error:?} should be transient");
        }
    }

    #[test]
    fn refusals_and_bugs_are_not_transient() {
        let permanent = [
            server("23505"), // unique violation
            server("23503"), // foreign key violation
            server("P0001"), // raise exception from a trigger
            server("42601"), // syntax error
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("slug".into()),
            sqlx::Error::Protocol("unexpected message".into()),
        ];
        for error in &permanent {
            assert!(!is_transient(error), "{error:?} should not be transient");
        }
    }

    #[test]
    fn a_transient_cause_is_found_under_added_context() {
        let wrapped =
            anyhow::Error::from(sqlx::Error::PoolTimedOut).context("inserting the tenant");
        assert!(caused_by_transient(&wrapped));
        let permanent = anyhow::Error::from(server("23505")).context("inserting the tenant");
        assert!(!caused_by_transient(&permanent));
        assert!(!caused_by_transient(&anyhow::anyhow!(
            "no database involved"
        )));
    }

    #[test]
    fn the_answer_is_a_503_with_a_retry_hint() {
        let answer = unavailable();
        assert_eq!(answer.code.http_status(), 503);
        assert_eq!(answer.retry_after, Some(TRANSIENT_RETRY_AFTER));
    }
}
