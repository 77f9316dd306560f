-- Sales leads from the public form, and the transactional outbox of their notification emails.
create table sales_leads (
    id uuid primary key,
    client_ip text not null,
    full_name text not null,
    email text not null,
    company text not null,
    company_size text not null,
    phone text not null default '',
    message text not null default '',
    source text not null default '',
    user_agent text not null default '',
    received_at timestamptz not null default now()
);

-- The per-IP limit counts rows in this index (shared by every replica).
create index sales_leads_ip_time on sales_leads (client_ip, received_at);

-- The transactional email outbox (onramp_kit::mail::outbox::TABLE_SQL): the notification of each
-- lead is written in the lead's own transaction and relayed over SMTP afterwards.
create table email_outbox (
    id uuid primary key,
    to_address text not null,
    subject text not null,
    body_text text not null,
    created_at timestamptz not null default now(),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    sent_at timestamptz
);
create index email_outbox_pending on email_outbox (next_attempt_at) where sent_at is null;
