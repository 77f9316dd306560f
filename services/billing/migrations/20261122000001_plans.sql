-- Billing's first table: the plan catalog.
create table plans (
    id uuid primary key,
    -- Stable plan code used in URLs and APIs ("starter", "pro").
    code text not null unique,
    name text not null,
    stripe_price_id text,
    is_public boolean not null default true,
    is_archived boolean not null default false,
    created_at timestamptz not null default now()
);
