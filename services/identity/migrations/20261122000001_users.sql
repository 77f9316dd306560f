-- Identity's first table: the user accounts every other identity table hangs off.
create table users (
    id uuid primary key,
    -- Normalised (trimmed, lowercased) email; unique across all accounts.
    email text not null unique,
    display_name text not null,
    email_verified_at timestamptz,
    created_at timestamptz not null default now()
);
