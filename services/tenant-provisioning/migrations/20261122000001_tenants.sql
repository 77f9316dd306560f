-- Tenant provisioning's first table: workspaces and their lifecycle state.
create table tenants (
    id uuid primary key,
    name text not null,
    -- URL-safe unique handle of the workspace.
    slug text not null unique,
    state text not null check (state in ('pending_payment', 'active', 'past_due', 'suspended', 'canceled')),
    created_at timestamptz not null default now()
);
