-- Usage counters with idempotent operations, and the one card-less trial per tenant and plan.

create table usage_counters (
    tenant_id uuid not null,
    field text not null,
    used bigint not null check (used >= 0),
    primary key (tenant_id, field)
);

-- One row per caller operation id: a repeat replays the first result and changes nothing.
create table usage_operations (
    tenant_id uuid not null,
    operation_id text not null,
    field text not null,
    delta bigint not null,
    used_after bigint not null,
    at timestamptz not null default now(),
    primary key (tenant_id, operation_id)
);

create table trials_used (
    tenant_id uuid not null,
    plan_id uuid not null references plans (id),
    started_at timestamptz not null default now(),
    primary key (tenant_id, plan_id)
);
