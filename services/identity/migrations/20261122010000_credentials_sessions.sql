-- Password credentials, sessions (refresh-token families), login failure counting and the audit trail.

-- A PHC string (argon2id); null for accounts without a password (OAuth only).
alter table users add column password_hash text;
-- When the verification grace period ends; null once the email is verified.
alter table users add column verification_grace_ends_at timestamptz;

-- A session: every refresh token rotated from one login belongs to one family.
create table refresh_families (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null,
    revoked_at timestamptz,
    -- Why the family ended: logout, logout_everywhere, reuse, password_reset.
    revoked_reason text
);
create index refresh_families_live_by_user on refresh_families (user_id) where revoked_at is null;

-- Refresh tokens, stored only as SHA-256 hashes. A token is single use: rotated_at is set when it is
-- exchanged, and presenting it again revokes its family (reuse detection).
create table refresh_tokens (
    token_hash bytea primary key,
    family_id uuid not null references refresh_families (id) on delete cascade,
    issued_at timestamptz not null,
    expires_at timestamptz not null,
    rotated_at timestamptz
);
create index refresh_tokens_by_family on refresh_tokens (family_id);

-- Failed logins, counted per account (email) and per client IP across every replica.
create table login_failures (
    id bigserial primary key,
    email text not null,
    client_ip text,
    failed_at timestamptz not null
);
create index login_failures_by_email on login_failures (email, failed_at);
create index login_failures_by_ip on login_failures (client_ip, failed_at) where client_ip is not null;

-- Append-only security events (signup, login ok/failed, refresh reuse, reset, OAuth link).
create table audit_events (
    id bigserial primary key,
    occurred_at timestamptz not null,
    kind text not null,
    user_id uuid,
    email text,
    client_ip text,
    user_agent text,
    detail jsonb not null default '{}'
);
create index audit_events_by_user on audit_events (user_id, occurred_at);

-- The audit trail is append-only: updates and deletes are refused by the database itself.
create function audit_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_events is append-only';
end;
$$;
create trigger audit_events_no_change before update or delete on audit_events
    for each row execute function audit_events_append_only();
