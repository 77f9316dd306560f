//! The error table is a contract with clients: each code's gRPC status, HTTP status and reason are
//! documented (README "Errors") and must not drift.

use std::time::Duration;

use onramp_kit::{ApiError, Code};
use tonic::Code as Grpc;

/// The documented table, written out independently of the macro that generates the code.
const DOCUMENTED: &[(Code, Grpc, u16, &str)] = &[
    (
        Code::InvalidArgument,
        Grpc::InvalidArgument,
        400,
        "INVALID_ARGUMENT",
    ),
    (
        Code::IdempotencyKeyInvalid,
        Grpc::InvalidArgument,
        400,
        "IDEMPOTENCY_KEY_INVALID",
    ),
    (
        Code::WebhookSignatureInvalid,
        Grpc::InvalidArgument,
        400,
        "WEBHOOK_SIGNATURE_INVALID",
    ),
    (
        Code::Unauthenticated,
        Grpc::Unauthenticated,
        401,
        "UNAUTHENTICATED",
    ),
    (
        Code::InvalidCredentials,
        Grpc::Unauthenticated,
        401,
        "INVALID_CREDENTIALS",
    ),
    (
        Code::RefreshTokenReused,
        Grpc::Unauthenticated,
        401,
        "REFRESH_TOKEN_REUSED",
    ),
    (
        Code::PaymentPending,
        Grpc::FailedPrecondition,
        402,
        "PAYMENT_PENDING",
    ),
    (
        Code::PermissionDenied,
        Grpc::PermissionDenied,
        403,
        "PERMISSION_DENIED",
    ),
    (
        Code::EmailVerificationRequired,
        Grpc::PermissionDenied,
        403,
        "EMAIL_VERIFICATION_REQUIRED",
    ),
    (
        Code::SelfServeDisabled,
        Grpc::PermissionDenied,
        403,
        "SELF_SERVE_DISABLED",
    ),
    (
        Code::LimitExceeded,
        Grpc::PermissionDenied,
        403,
        "LIMIT_EXCEEDED",
    ),
    (Code::NotFound, Grpc::NotFound, 404, "NOT_FOUND"),
    (
        Code::AlreadyExists,
        Grpc::AlreadyExists,
        409,
        "ALREADY_EXISTS",
    ),
    (Code::Conflict, Grpc::Aborted, 409, "CONFLICT"),
    (
        Code::EmailAlreadyRegisteredUseLogin,
        Grpc::AlreadyExists,
        409,
        "EMAIL_ALREADY_REGISTERED_USE_LOGIN",
    ),
    (
        Code::NoBillingAccount,
        Grpc::FailedPrecondition,
        409,
        "NO_BILLING_ACCOUNT",
    ),
    (
        Code::IdempotencyKeyReused,
        Grpc::FailedPrecondition,
        422,
        "IDEMPOTENCY_KEY_REUSED",
    ),
    (
        Code::TenantProvisioningError,
        Grpc::FailedPrecondition,
        422,
        "TENANT_PROVISIONING_ERROR",
    ),
    (
        Code::InvalidData,
        Grpc::InvalidArgument,
        422,
        "INVALID_DATA",
    ),
    (
        Code::RateLimited,
        Grpc::ResourceExhausted,
        429,
        "RATE_LIMITED",
    ),
    (Code::Internal, Grpc::Internal, 500, "INTERNAL"),
    (
        Code::Unimplemented,
        Grpc::Unimplemented,
        501,
        "UNIMPLEMENTED",
    ),
    (
        Code::StripeUnavailable,
        Grpc::Unavailable,
        502,
        "STRIPE_UNAVAILABLE",
    ),
    (Code::Unavailable, Grpc::Unavailable, 503, "UNAVAILABLE"),
    (Code::CsrfFailed, Grpc::PermissionDenied, 403, "CSRF_FAILED"),
    (
        Code::MethodNotAllowed,
        Grpc::Unimplemented,
        405,
        "METHOD_NOT_ALLOWED",
    ),
    (
        Code::PayloadTooLarge,
        Grpc::InvalidArgument,
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    (
        Code::UnsupportedMediaType,
        Grpc::InvalidArgument,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    (
        Code::DeadlineExceeded,
        Grpc::DeadlineExceeded,
        504,
        "DEADLINE_EXCEEDED",
    ),
];

#[test]
fn every_code_maps_to_its_documented_grpc_and_http_status() {
    assert_eq!(
        DOCUMENTED.len(),
        Code::ALL.len(),
        "a code is missing from the documented table"
    );
    for &(code, grpc, http, reason) in DOCUMENTED {
        assert_eq!(code.grpc(), grpc, "{reason}: gRPC status");
        assert_eq!(code.http_status(), http, "{reason}: HTTP status");
        assert_eq!(code.reason(), reason, "{code:?}: reason");
        assert_eq!(
            Code::from_reason(reason),
            Some(code),
            "{reason}: reverse lookup"
        );
    }
}

#[test]
fn every_code_survives_the_wire_with_field_and_retry_after() {
    for &code in Code::ALL {
        let sent = ApiError::new(code, "a message")
            .with_field("body.email")
            .with_retry_after(Duration::from_secs(3));
        let status = sent.clone().into_status();
        assert_eq!(status.code(), code.grpc());
        let received = ApiError::from_status(&status);
        assert_eq!(received.code, code, "{code:?}");
        assert_eq!(received.field.as_deref(), Some("body.email"));
        assert_eq!(received.retry_after, Some(Duration::from_secs(3)));
        if code != Code::Internal {
            assert_eq!(received.message, "a message");
        }
    }
}

#[test]
fn internal_messages_never_reach_the_client() {
    let status =
        tonic::Status::internal("duplicate key value violates unique constraint users_pkey");
    let received = ApiError::from_status(&status);
    assert_eq!(received.code, Code::Internal);
    assert!(
        !received.message.contains("users_pkey"),
        "{}",
        received.message
    );
}

#[test]
fn a_status_without_error_info_falls_back_on_its_grpc_code() {
    let received = ApiError::from_status(&tonic::Status::unimplemented(""));
    assert_eq!(received.code, Code::Unimplemented);
    let received = ApiError::from_status(&tonic::Status::unavailable("tcp connect error"));
    assert_eq!(received.code, Code::Unavailable);
    assert!(
        !received.message.contains("tcp"),
        "transport details stay internal"
    );
}

/// Postgres aborting one side of a deadlock (40P01) or a serialization conflict (40001) is a lost
/// race, not a bug: the answer is the retryable 503 with `Retry-After`, never a 500.
#[tokio::test]
async fn deadlocks_and_serialization_failures_say_retry() {
    let db = crate::support::TestDb::empty().await;
    for sqlstate in ["40P01", "40001"] {
        let raised = sqlx::raw_sql(&format!(
            "do $$ begin raise exception 'lost a race' using errcode = '{sqlstate}'; end $$"
        ))
        .execute(&db.pool)
        .await
        .expect_err("the block raises");
        let cause = anyhow::Error::from(raised).context("updating the row");
        let answer = ApiError::unexpected(&cause);
        assert_eq!(answer.code, Code::Unavailable, "{sqlstate}");
        assert_eq!(answer.code.http_status(), 503, "{sqlstate}");
        assert!(answer.retry_after.is_some(), "{sqlstate}: Retry-After");
        assert!(
            !answer.message.contains("lost a race"),
            "{sqlstate}: cause stays internal"
        );
    }
    let bug = sqlx::raw_sql("do $$ begin raise exception 'a bug' using errcode = 'P0001'; end $$")
        .execute(&db.pool)
        .await
        .expect_err("the block raises");
    assert_eq!(ApiError::unexpected(&bug.into()).code, Code::Internal);
    db.drop().await;
}
