-- Provisioning, lifecycle, memberships, starter data, invites and the outbox.
alter table tenants
    add column state_changed_at timestamptz not null default now(),
    add column activated_at timestamptz,
    add column starter_template_version text not null default '',
    -- The highest billing_version applied by ApplyBillingEvent; older events are STALE.
    add column last_billing_version bigint not null default 0;

create table memberships (
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_id uuid not null,
    role text not null check (role in ('owner', 'admin', 'member')),
    joined_at timestamptz not null default now(),
    primary key (tenant_id, user_id)
);
create index memberships_by_user on memberships (user_id, joined_at desc);

-- A tenant's starter data, one row per template item.
create table starter_items (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    kind text not null,
    key text not null,
    name text not null,
    parent_key text not null default '',
    position integer not null,
    unique (tenant_id, key)
);

-- The first result of each (caller, idempotency key), replayed on every retry.
create table provisioning_requests (
    user_id uuid not null,
    idempotency_key text not null,
    -- The parameters that must match on replay.
    name text not null,
    slug text not null,
    plan_id text not null,
    tenant_id uuid not null references tenants (id) on delete cascade,
    -- The encoded ProvisionTenantResponse (protobuf), so the replay is byte-for-byte.
    response bytea not null,
    created_at timestamptz not null default now(),
    primary key (user_id, idempotency_key)
);
create index provisioning_requests_by_age on provisioning_requests (created_at);

-- Failed provisioning attempts, for operators (written after the rollback, so it survives it).
create table provisioning_failures (
    id uuid primary key,
    user_id uuid not null,
    idempotency_key text not null,
    step text not null,
    cause text not null,
    created_at timestamptz not null default now()
);

-- Billing events applied (or refused as stale / no-op), keyed by billing's event id.
create table billing_events (
    event_id uuid primary key,
    tenant_id uuid not null,
    transition text not null,
    billing_version bigint not null,
    outcome text not null,
    previous_state text not null,
    state text not null,
    stripe_event_id text not null default '',
    reason text not null default '',
    occurred_at timestamptz,
    applied_at timestamptz not null default now()
);

create table invites (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    email text not null,
    role text not null check (role in ('owner', 'admin', 'member')),
    -- SHA-256 of the code (hex); the code itself is only shown once.
    code_hash text not null unique,
    invited_by uuid not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    accepted_at timestamptz,
    accepted_by uuid,
    revoked_at timestamptz
);
-- At most one open invite per email and tenant.
create unique index invites_one_open on invites (tenant_id, email)
    where accepted_at is null and revoked_at is null;

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
