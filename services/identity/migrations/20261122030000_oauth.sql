-- OAuth / OpenID Connect: pending logins (state) and linked provider identities.

-- A login in progress. Only hashes of the state and of the browser binding are kept; the PKCE verifier
-- and nonce live only until the callback (minutes) and are useless without the provider's code.
create table oauth_states (
    state_hash bytea primary key,
    provider_id text not null,
    binding_hash bytea not null,
    pkce_verifier text not null,
    nonce text not null,
    redirect_uri text not null,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at timestamptz
);

-- A provider account linked to a user. The provider's refresh token is stored encrypted (AES-256-GCM).
create table oauth_identities (
    provider_id text not null,
    subject text not null,
    user_id uuid not null references users (id) on delete cascade,
    email text,
    refresh_token_encrypted bytea,
    created_at timestamptz not null,
    last_login_at timestamptz not null,
    primary key (provider_id, subject)
);
create index oauth_identities_by_user on oauth_identities (user_id);
