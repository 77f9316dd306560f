//! The one error-code table: every code knows its gRPC status, its HTTP status and its stable reason.
//!
//! Services build errors from a [`Code`]; the gateway maps a received `ErrorInfo.reason` back to the same
//! [`Code`], so the two sides can never disagree about what a failure means.

use tonic::Code as GrpcCode;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident => ($grpc:ident, $http:literal, $reason:literal, $title:literal), )+) => {
        /// A stable, client-visible error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )+
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            /// The gRPC status code this error travels as.
            pub fn grpc(self) -> GrpcCode {
                match self { $(Code::$variant => GrpcCode::$grpc,)+ }
            }

            /// The HTTP status the gateway answers with.
            pub fn http_status(self) -> u16 {
                match self { $(Code::$variant => $http,)+ }
            }

            /// The stable machine-readable reason (`ErrorInfo.reason`, problem+json `reason`).
            pub fn reason(self) -> &'static str {
                match self { $(Code::$variant => $reason,)+ }
            }

            /// A short human title for problem+json `title`.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)+ }
            }

            /// The code with this reason string, if any.
            pub fn from_reason(reason: &str) -> Option<Code> {
                match reason { $($reason => Some(Code::$variant),)+ _ => None }
            }
        }
    };
}

codes! {
    /// A request field failed validation; the error names the field.
    InvalidArgument => (InvalidArgument, 400, "INVALID_ARGUMENT", "Invalid request"),
    /// The `Idempotency-Key` header is missing or malformed.
    IdempotencyKeyInvalid => (InvalidArgument, 400, "IDEMPOTENCY_KEY_INVALID", "Invalid idempotency key"),
    /// A Stripe webhook failed signature verification.
    WebhookSignatureInvalid => (InvalidArgument, 400, "WEBHOOK_SIGNATURE_INVALID", "Invalid webhook signature"),
    /// No valid credentials were presented.
    Unauthenticated => (Unauthenticated, 401, "UNAUTHENTICATED", "Authentication required"),
    /// Email or password did not match (deliberately unspecific).
    InvalidCredentials => (Unauthenticated, 401, "INVALID_CREDENTIALS", "Invalid credentials"),
    /// A refresh token was used twice; its whole family is now revoked.
    RefreshTokenReused => (Unauthenticated, 401, "REFRESH_TOKEN_REUSED", "Session revoked"),
    /// The tenant's plan is not active yet (the payment race); retry after `Retry-After`.
    PaymentPending => (FailedPrecondition, 402, "PAYMENT_PENDING", "Payment pending"),
    /// The caller may not do this.
    PermissionDenied => (PermissionDenied, 403, "PERMISSION_DENIED", "Forbidden"),
    /// The grace period is over and the email is still unverified.
    EmailVerificationRequired => (PermissionDenied, 403, "EMAIL_VERIFICATION_REQUIRED", "Email verification required"),
    /// Self-serve signup is off; an invite is required.
    SelfServeDisabled => (PermissionDenied, 403, "SELF_SERVE_DISABLED", "Self-serve signup disabled"),
    /// The plan's limit for this feature is reached.
    LimitExceeded => (PermissionDenied, 403, "LIMIT_EXCEEDED", "Plan limit reached"),
    /// A cookie-authenticated mutation lacked a matching CSRF token or came from an origin not allowed.
    CsrfFailed => (PermissionDenied, 403, "CSRF_FAILED", "CSRF check failed"),
    /// The resource does not exist or is not visible to the caller.
    NotFound => (NotFound, 404, "NOT_FOUND", "Not found"),
    /// The route exists but not with this HTTP method (edge only).
    MethodNotAllowed => (Unimplemented, 405, "METHOD_NOT_ALLOWED", "Method not allowed"),
    /// The resource already exists.
    AlreadyExists => (AlreadyExists, 409, "ALREADY_EXISTS", "Already exists"),
    /// The request conflicts with the current state (stale version, illegal transition).
    Conflict => (Aborted, 409, "CONFLICT", "Conflict"),
    /// An OAuth login matched an existing password account with an unverified email.
    EmailAlreadyRegisteredUseLogin => (AlreadyExists, 409, "EMAIL_ALREADY_REGISTERED_USE_LOGIN", "Email already registered"),
    /// The tenant has no Stripe customer yet.
    NoBillingAccount => (FailedPrecondition, 409, "NO_BILLING_ACCOUNT", "No billing account"),
    /// The same idempotency key was sent with different parameters.
    IdempotencyKeyReused => (FailedPrecondition, 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency key reused"),
    /// Creating the tenant failed as a whole; nothing was kept.
    TenantProvisioningError => (FailedPrecondition, 422, "TENANT_PROVISIONING_ERROR", "Workspace could not be created"),
    /// Well-formed data that fails its content rules (an onboarding step's payload); names the field.
    InvalidData => (InvalidArgument, 422, "INVALID_DATA", "Invalid data"),
    /// The request body is larger than the edge accepts (edge only).
    PayloadTooLarge => (InvalidArgument, 413, "PAYLOAD_TOO_LARGE", "Request body too large"),
    /// The request body is not in a media type the route accepts (edge only).
    UnsupportedMediaType => (InvalidArgument, 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    /// Too many requests; retry after `Retry-After`.
    RateLimited => (ResourceExhausted, 429, "RATE_LIMITED", "Too many requests"),
    /// An unexpected server-side failure; details are logged, never returned.
    Internal => (Internal, 500, "INTERNAL", "Internal error"),
    /// The route or method exists in the contract but is not built yet.
    Unimplemented => (Unimplemented, 501, "UNIMPLEMENTED", "Not implemented"),
    /// Stripe failed or could not be reached; nothing was changed, retry later.
    StripeUnavailable => (Unavailable, 502, "STRIPE_UNAVAILABLE", "Payment provider unavailable"),
    /// A downstream service is unavailable; the request was not processed.
    Unavailable => (Unavailable, 503, "UNAVAILABLE", "Service unavailable"),
    /// The request's time budget ran out.
    DeadlineExceeded => (DeadlineExceeded, 504, "DEADLINE_EXCEEDED", "Request timed out"),
}

impl Code {
    /// The code to assume for a status that carries no Onramp `ErrorInfo` (a transport error, a
    /// default `UNIMPLEMENTED` stub, a peer outside Onramp).
    pub fn from_grpc(code: GrpcCode) -> Code {
        match code {
            GrpcCode::InvalidArgument | GrpcCode::OutOfRange => Code::InvalidArgument,
            GrpcCode::Unauthenticated => Code::Unauthenticated,
            GrpcCode::PermissionDenied => Code::PermissionDenied,
            GrpcCode::NotFound => Code::NotFound,
            GrpcCode::AlreadyExists => Code::AlreadyExists,
            GrpcCode::Aborted | GrpcCode::FailedPrecondition => Code::Conflict,
            GrpcCode::ResourceExhausted => Code::RateLimited,
            GrpcCode::Unimplemented => Code::Unimplemented,
            GrpcCode::Unavailable => Code::Unavailable,
            GrpcCode::DeadlineExceeded | GrpcCode::Cancelled => Code::DeadlineExceeded,
            GrpcCode::Ok | GrpcCode::Unknown | GrpcCode::Internal | GrpcCode::DataLoss => {
                Code::Internal
            }
        }
    }
}
