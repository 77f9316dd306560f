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

create table sales_lead_outbox (
    id uuid primary key,
    lead_id uuid not null unique references sales_leads (id),
    created_at timestamptz not null default now(),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    sent_at timestamptz
);

create index sales_lead_outbox_due on sales_lead_outbox (next_attempt_at) where sent_at is null;
