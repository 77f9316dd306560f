//! Tenants: rows, lookups by membership, slugs and lifecycle state.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{lifecycle::TenantState, role::Role, slug::Slug};

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tenant {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) slug: String,
    pub(crate) state: TenantState,
    pub(crate) state_changed_at: DateTime<Utc>,
    pub(crate) activated_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) starter_template_version: String,
    pub(crate) last_billing_version: i64,
}

#[derive(Debug, FromRow)]
struct TenantRow {
    id: Uuid,
    name: String,
    slug: String,
    state: String,
    state_changed_at: DateTime<Utc>,
    activated_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    starter_template_version: String,
    last_billing_version: i64,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = anyhow::Error;

    fn try_from(row: TenantRow) -> anyhow::Result<Self> {
        let state = TenantState::from_db(&row.state)
            .ok_or_else(|| anyhow!("tenant {} has unknown state {}", row.id, row.state))?;
        Ok(Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
            state,
            state_changed_at: row.state_changed_at,
            activated_at: row.activated_at,
            created_at: row.created_at,
            starter_template_version: row.starter_template_version,
            last_billing_version: row.last_billing_version,
        })
    }
}

pub(crate) const COLUMNS: &str = "t.id, t.name, t.slug, t.state, t.state_changed_at, t.activated_at, \
     t.created_at, t.starter_template_version, t.last_billing_version";

/// A new tenant row.
#[derive(Debug)]
pub(crate) struct NewTenant<'a> {
    pub(crate) id: Uuid,
    pub(crate) name: &'a str,
    pub(crate) slug: &'a Slug,
    pub(crate) state: TenantState,
    pub(crate) template_version: &'a str,
}

pub(crate) async fn insert(
    conn: &mut PgConnection,
    new: &NewTenant<'_>,
) -> Result<Tenant, sqlx::Error> {
    let row: TenantRow = sqlx::query_as(&format!(
        "insert into tenants as t (id, name, slug, state, starter_template_version, activated_at) \
         values ($1, $2, $3, $4, $5, case when $4 = 'active' then now() end) returning {COLUMNS}"
    ))
    .bind(new.id)
    .bind(new.name)
    .bind(new.slug.as_str())
    .bind(new.state.as_str())
    .bind(new.template_version)
    .fetch_one(conn)
    .await?;
    Tenant::try_from(row).map_err(|error| sqlx::Error::Decode(error.into()))
}

/// Whether a slug is taken.
pub(crate) async fn slug_taken(
    executor: impl PgExecutor<'_>,
    slug: &Slug,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from tenants where slug = $1)")
        .bind(slug.as_str())
        .fetch_one(executor)
        .await
}

/// A tenant by id.
pub(crate) async fn get(executor: impl PgExecutor<'_>, id: Uuid) -> anyhow::Result<Option<Tenant>> {
    let row: Option<TenantRow> =
        sqlx::query_as(&format!("select {COLUMNS} from tenants t where t.id = $1"))
            .bind(id)
            .fetch_optional(executor)
            .await?;
    row.map(Tenant::try_from).transpose()
}

/// A tenant by id, locked for the rest of the transaction.
pub(crate) async fn lock(conn: &mut PgConnection, id: Uuid) -> anyhow::Result<Option<Tenant>> {
    let row: Option<TenantRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from tenants t where t.id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Tenant::try_from).transpose()
}

#[derive(Debug, FromRow)]
struct MemberTenantRow {
    #[sqlx(flatten)]
    tenant: TenantRow,
    role: String,
}

fn member_tenant(row: MemberTenantRow) -> anyhow::Result<(Tenant, Role)> {
    let role = Role::from_db(&row.role).ok_or_else(|| anyhow!("unknown role {}", row.role))?;
    Ok((Tenant::try_from(row.tenant)?, role))
}

/// The tenant and the user's role in it, when the user is a member (None otherwise: not visible).
pub(crate) async fn for_member(
    executor: impl PgExecutor<'_>,
    tenant_id: Uuid,
    user_id: Uuid,
) -> anyhow::Result<Option<(Tenant, Role)>> {
    let row: Option<MemberTenantRow> = sqlx::query_as(&format!(
        "select {COLUMNS}, m.role from tenants t join memberships m on m.tenant_id = t.id \
         where t.id = $1 and m.user_id = $2"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(executor)
    .await?;
    row.map(member_tenant).transpose()
}

/// The user's tenants, newest membership first, after the cursor `(joined_at, tenant_id)`.
pub(crate) async fn list_for_user(
    executor: impl PgExecutor<'_>,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<(Tenant, Role, DateTime<Utc>)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        inner: MemberTenantRow,
        joined_at: DateTime<Utc>,
    }
    let (after_at, after_id) = after.unzip();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "select {COLUMNS}, m.role, m.joined_at from tenants t join memberships m on m.tenant_id = t.id \
         where m.user_id = $1 and ($2::timestamptz is null or (m.joined_at, t.id) < ($2, $3)) \
         order by m.joined_at desc, t.id desc limit $4"
    ))
    .bind(user_id)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|row| member_tenant(row.inner).map(|(tenant, role)| (tenant, role, row.joined_at)))
        .collect()
}

/// Moves a tenant to `state` (and records the billing version that caused it).
pub(crate) async fn set_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: TenantState,
    billing_version: i64,
) -> anyhow::Result<Tenant> {
    let row: TenantRow = sqlx::query_as(&format!(
        "update tenants t set state = $2, state_changed_at = now(), \
         activated_at = coalesce(activated_at, case when $2 = 'active' then now() end), \
         last_billing_version = greatest(last_billing_version, $3) \
         where t.id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(state.as_str())
    .bind(billing_version)
    .fetch_one(conn)
    .await?;
    Tenant::try_from(row)
}

/// Records a billing version without changing the state.
pub(crate) async fn note_billing_version(
    conn: &mut PgConnection,
    id: Uuid,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("update tenants set last_billing_version = greatest(last_billing_version, $2) where id = $1")
        .bind(id)
        .bind(version)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many tenants are in each state (states with none are absent): one grouped scan, cheap
/// enough to run on an interval for the `onramp_tenants` gauge.
pub(crate) async fn count_by_state(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("select state, count(*) from tenants group by state")
        .fetch_all(db)
        .await
}
