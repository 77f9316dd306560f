-- Per user and tenant: whether the rest of the checklist was dismissed in one go (DismissRest).
create table checklist_progress (
    tenant_id uuid not null,
    user_id uuid not null,
    rest_dismissed_at timestamptz,
    primary key (tenant_id, user_id)
);
