-- The full plan catalog: pricing, trials, display, limits, a catalog version for optimistic concurrency,
-- and an audit trail of every change.

alter table plans
    add column description text not null default '',
    add column kind text not null default 'paid' check (kind in ('paid', 'free', 'complimentary')),
    add column price_amount_minor bigint not null default 0 check (price_amount_minor >= 0),
    add column currency text not null default 'usd',
    add column billing_interval text check (billing_interval in ('month', 'year')),
    add column per_seat boolean not null default false,
    add column trial_days integer not null default 0 check (trial_days between 0 and 365),
    add column trial_requires_card boolean not null default true,
    add column sort_order integer not null default 0,
    add column highlights jsonb not null default '[]',
    add column stripe_product_id text,
    add column updated_at timestamptz not null default now();

-- One row per (plan, field): a numeric maximum (null max = unlimited) or a boolean flag.
create table plan_limits (
    plan_id uuid not null references plans (id),
    field text not null,
    kind text not null check (kind in ('numeric', 'boolean')),
    max_value bigint check (max_value is null or max_value >= 0),
    enabled boolean,
    display_name text not null default '',
    primary key (plan_id, field),
    check ((kind = 'numeric' and enabled is null) or (kind = 'boolean' and max_value is null and enabled is not null))
);

-- The catalog's version: every successful write bumps it; a write naming an older version is refused.
create table catalog_version (
    singleton boolean primary key default true check (singleton),
    version bigint not null
);
insert into catalog_version (singleton, version) values (true, 1);

-- Who changed what, before and after (catalog writes, grants, replays).
create table audit_log (
    id uuid primary key,
    actor_user_id text not null,
    action text not null,
    subject text not null,
    before jsonb,
    after jsonb,
    at timestamptz not null default now()
);

-- A starter catalog so a fresh deployment (manual provider) has something to choose; operators replace
-- it through PUT /v1/admin/plan-limits and fill in Stripe ids with the sync command.
insert into plans (id, code, name, description, kind, price_amount_minor, currency, billing_interval,
                   per_seat, trial_days, trial_requires_card, is_public, sort_order, highlights)
values
    ('018f0000-0000-7000-8000-000000000001', 'free', 'Free', 'For trying things out', 'free', 0, 'usd',
     null, false, 0, false, true, 10, '["Up to 3 members", "1 project"]'),
    ('018f0000-0000-7000-8000-000000000002', 'pro', 'Pro', 'For growing teams', 'paid', 2900, 'usd',
     'month', true, 14, false, true, 20, '["Up to 50 members", "Unlimited projects", "API access"]');
insert into plan_limits (plan_id, field, kind, max_value, enabled, display_name) values
    ('018f0000-0000-7000-8000-000000000001', 'seats', 'numeric', 3, null, 'Team members'),
    ('018f0000-0000-7000-8000-000000000001', 'projects', 'numeric', 1, null, 'Projects'),
    ('018f0000-0000-7000-8000-000000000001', 'api_access', 'boolean', null, false, 'API access'),
    ('018f0000-0000-7000-8000-000000000002', 'seats', 'numeric', 50, null, 'Team members'),
    ('018f0000-0000-7000-8000-000000000002', 'projects', 'numeric', null, null, 'Projects'),
    ('018f0000-0000-7000-8000-000000000002', 'api_access', 'boolean', null, true, 'API access');
