-- The transactional email outbox (onramp_kit::mail::outbox). Each service that sends mail adds this
-- table to its own migrations; the relay sends pending rows and records the outcome.
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
