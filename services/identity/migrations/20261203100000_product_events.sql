-- Product events (onramp_kit::product_events): the self-serve funnel's facts, written in the same
-- transaction as the fact they report, relayed to a PostHog-compatible capture API and counted by
-- `GET /v1/admin/funnel`. Each service that records funnel events adds this table to its migrations.
create table product_events (
    -- Sent as the event's `uuid`, so a batch resent after a crash is the same event to PostHog.
    id uuid primary key,
    name text not null,
    -- The user id (PostHog's distinct_id); never an email.
    distinct_id text not null,
    -- Ids, plan ids and step names only: no email, no name.
    properties jsonb not null default '{}',
    occurred_at timestamptz not null default now(),
    -- Set for facts that can be reached more than once (a step completed again): the first wins.
    once_key text unique,
    -- Relay attempts so far, and when the next one may happen (backoff after failures).
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    sent_at timestamptz
);
create index product_events_pending on product_events (next_attempt_at) where sent_at is null;
create index product_events_by_time on product_events (occurred_at, name);
