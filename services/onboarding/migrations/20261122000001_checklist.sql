-- Onboarding's first table: per user and tenant progress through the setup checklist.
create table checklist_steps (
    tenant_id uuid not null,
    user_id uuid not null,
    step_id text not null,
    state text not null check (state in ('done', 'dismissed')),
    data jsonb,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, user_id, step_id)
);
