-- Stripe Connect: each tenant's connected account (mirrored from Stripe), the account.updated events
-- already applied (idempotency), and the onboarding tokens, one per attempt.
create table connected_accounts (
    tenant_id uuid primary key,
    stripe_account_id text not null unique,
    country text not null,
    details_submitted boolean not null default false,
    charges_enabled boolean not null default false,
    payouts_enabled boolean not null default false,
    requirements_currently_due text[] not null default '{}',
    requirements_past_due text[] not null default '{}',
    requirements_pending_verification text[] not null default '{}',
    disabled_reason text not null default '',
    status text not null
        check (status in ('onboarding', 'pending_verification', 'restricted', 'complete')),
    -- Stripe's time of the newest state applied: the version guard against stale events.
    stripe_state_at timestamptz not null,
    created_at timestamptz not null default now()
);

create table connect_events (
    event_id text primary key,
    stripe_account_id text not null,
    applied_at timestamptz not null default now()
);

create table onboarding_tokens (
    id uuid primary key,
    tenant_id uuid not null references connected_accounts (tenant_id),
    -- Secrets are stored as SHA-256 hashes only; the token is shown once, the state travels via Stripe.
    token_hash bytea not null unique,
    status text not null check (status in ('pending', 'in_progress', 'complete', 'expired')),
    state_hash bytea unique,
    state_expires_at timestamptz,
    state_used_at timestamptz,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    completed_at timestamptz,
    -- in_progress always has a state; pending never has one (the start stores both in one statement).
    check ((status = 'in_progress') = (state_hash is not null and state_expires_at is not null)
           or status in ('complete', 'expired'))
);

create index onboarding_tokens_tenant on onboarding_tokens (tenant_id, created_at desc);
