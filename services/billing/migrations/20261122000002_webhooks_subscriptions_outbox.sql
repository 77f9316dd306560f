-- The Stripe webhook inbox, the subscription mirror, entitlements and the transactional outbox.

-- Every delivery, byte for byte with its headers, whatever happened to it (kept for replay and forensics).
-- Written outside the handler's transaction so a rolled-back attempt still leaves its trace.
create table stripe_deliveries (
    id uuid primary key,
    event_id text not null,
    event_type text not null,
    received_at timestamptz not null default now(),
    headers jsonb not null,
    payload bytea not null,
    connect boolean not null default false,
    -- received | applied | duplicate | ignored | stale | failed
    outcome text not null default 'received',
    error text
);
create index stripe_deliveries_event on stripe_deliveries (event_id, received_at desc);

-- The claim: one row per Stripe event id, inserted (ON CONFLICT DO NOTHING) in the same transaction as
-- the handler, so a row exists exactly when the event's effects are committed.
create table stripe_events (
    event_id text primary key,
    event_type text not null,
    created timestamptz not null,
    account_id text,
    -- applied | ignored | stale
    outcome text not null,
    applied_at timestamptz not null default now()
);

-- Bad signatures are only counted: nothing of an unauthenticated request is kept.
create table webhook_rejections (
    reason text primary key,
    count bigint not null,
    last_at timestamptz not null
);

-- The tenant's Stripe customer: one per tenant, ever.
create table customers (
    tenant_id uuid primary key,
    stripe_customer_id text not null unique,
    created_at timestamptz not null default now()
);

-- The mirror of Stripe subscriptions. last_event_created/last_event_id are the version guard.
create table subscriptions (
    stripe_subscription_id text primary key,
    tenant_id uuid,
    stripe_customer_id text,
    status text not null,
    stripe_price_id text,
    plan_id uuid references plans (id),
    seats integer not null default 0,
    current_period_end timestamptz,
    trial_end timestamptz,
    cancel_at_period_end boolean not null default false,
    last_event_created timestamptz not null,
    last_event_id text not null,
    updated_at timestamptz not null default now()
);
create index subscriptions_tenant on subscriptions (tenant_id);

-- What a tenant is entitled to now; version increases with every change (tenancy's billing_version).
create table entitlements (
    tenant_id uuid primary key,
    -- none | pending_payment | active | past_due | suspended | canceled
    state text not null,
    -- stripe_subscription | trial_without_card | free_plan | complimentary
    source text,
    plan_id uuid references plans (id),
    trial_ends_at timestamptz,
    ends_at timestamptz,
    version bigint not null,
    updated_at timestamptz not null default now()
);

-- Effects on other contexts, written in the transaction that decided them and relayed by RPC.
create table outbox (
    id uuid primary key,
    -- tenancy.apply_billing_event | onboarding.apply_connect_account_update
    topic text not null,
    tenant_id uuid,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    delivered_at timestamptz,
    -- Set when the receiver refused the event for good (unknown tenant, illegal transition).
    parked_at timestamptz
);
create index outbox_due on outbox (next_attempt_at) where delivered_at is null and parked_at is null;
