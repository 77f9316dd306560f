-- Email: the transactional outbox (onramp_kit::mail::outbox), verification and reset tokens, and
-- the counters that rate-limit resends and reset requests.

create table email_outbox (
    id uuid primary key,
    to_address text not null,
    subject text not null,
    body_text text not null,
    created_at timestamptz not null default now(),
    -- Sending attempts so far, and when the next one may happen (backoff after failures).
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    sent_at timestamptz
);
create index email_outbox_pending on email_outbox (next_attempt_at) where sent_at is null;

-- Single-use email verification tokens (hash only). A user may hold several live ones (resend).
create table email_verification_tokens (
    token_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at timestamptz
);
create index email_verification_tokens_by_user on email_verification_tokens (user_id, created_at);

-- Single-use password reset tokens (hash only).
create table password_reset_tokens (
    token_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at timestamptz
);

-- Password reset requests per normalised email, counted whether or not the account exists (so the
-- limit itself reveals nothing).
create table password_reset_requests (
    id bigserial primary key,
    email text not null,
    client_ip text,
    requested_at timestamptz not null
);
create index password_reset_requests_by_email on password_reset_requests (email, requested_at);
