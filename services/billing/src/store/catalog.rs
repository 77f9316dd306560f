//! The plan catalog, its limits, its version and the audit trail of its changes.

use sqlx::PgConnection;
use uuid::Uuid;

use super::Tx;
use crate::{
    domain::plan::{
        Interval, Limit, LimitField, LimitValue, Plan, PlanCode, PlanKind, check_catalog,
    },
    error::BillingError,
};

#[derive(Debug, sqlx::FromRow)]
struct PlanRow {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    kind: String,
    price_amount_minor: i64,
    currency: String,
    billing_interval: Option<String>,
    per_seat: bool,
    trial_days: i32,
    trial_requires_card: bool,
    is_public: bool,
    is_archived: bool,
    sort_order: i32,
    highlights: serde_json::Value,
    stripe_product_id: Option<String>,
    stripe_price_id: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct LimitRow {
    plan_id: Uuid,
    field: String,
    kind: String,
    max_value: Option<i64>,
    enabled: Option<bool>,
    display_name: String,
}

fn corrupt(what: &str) -> BillingError {
    BillingError::Unexpected(anyhow::anyhow!("stored catalog has an invalid {what}"))
}

fn to_plan(row: PlanRow, limits: &[LimitRow]) -> Result<Plan, BillingError> {
    let limits = limits
        .iter()
        .filter(|limit| limit.plan_id == row.id)
        .map(|limit| {
            let value = match (limit.kind.as_str(), limit.max_value, limit.enabled) {
                ("numeric", Some(max), _) => LimitValue::Max(max),
                ("numeric", None, _) => LimitValue::Unlimited,
                (_, _, enabled) => LimitValue::Enabled(enabled.unwrap_or(false)),
            };
            Ok(Limit {
                field: LimitField::parse(&limit.field).map_err(|_| corrupt("limit field"))?,
                value,
                display_name: limit.display_name.clone(),
            })
        })
        .collect::<Result<Vec<_>, BillingError>>()?;
    Ok(Plan {
        id: Some(row.id),
        code: PlanCode::parse(&row.code).map_err(|_| corrupt("plan code"))?,
        name: row.name,
        description: row.description,
        kind: PlanKind::parse(&row.kind).ok_or_else(|| corrupt("plan kind"))?,
        price_amount_minor: row.price_amount_minor,
        currency: row.currency,
        interval: row.billing_interval.as_deref().and_then(Interval::parse),
        per_seat: row.per_seat,
        trial_days: u32::try_from(row.trial_days).unwrap_or(0),
        trial_requires_card: row.trial_requires_card,
        public: row.is_public,
        archived: row.is_archived,
        sort_order: row.sort_order,
        highlights: serde_json::from_value(row.highlights).map_err(|_| corrupt("highlights"))?,
        stripe_product_id: row.stripe_product_id,
        stripe_price_id: row.stripe_price_id,
        limits,
    })
}

/// The catalog's current version (cheap: one row).
pub(crate) async fn version(executor: impl sqlx::PgExecutor<'_>) -> Result<i64, BillingError> {
    Ok(sqlx::query_scalar("select version from catalog_version")
        .fetch_one(executor)
        .await?)
}

/// Every plan (by sort order, then code) and the catalog version.
pub(crate) async fn load(conn: &mut PgConnection) -> Result<(Vec<Plan>, i64), BillingError> {
    let version: i64 = sqlx::query_scalar("select version from catalog_version")
        .fetch_one(&mut *conn)
        .await?;
    let plans: Vec<PlanRow> = sqlx::query_as(
        "select id, code, name, description, kind, price_amount_minor, currency, billing_interval,
                per_seat, trial_days, trial_requires_card, is_public, is_archived, sort_order, highlights,
                stripe_product_id, stripe_price_id
         from plans order by sort_order, code",
    )
    .fetch_all(&mut *conn)
    .await?;
    let limits: Vec<LimitRow> = sqlx::query_as(
        "select plan_id, field, kind, max_value, enabled, display_name from plan_limits order by field",
    )
    .fetch_all(&mut *conn)
    .await?;
    let plans = plans
        .into_iter()
        .map(|row| to_plan(row, &limits))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((plans, version))
}

/// The result of a catalog write.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) plans: Vec<Plan>,
    pub(crate) version: i64,
    pub(crate) changed: Vec<String>,
}

/// Replaces the catalog in the caller's transaction: the version check, every row and one audit row per
/// changed plan, or (on any error, once the caller drops the transaction) none of it.
pub(crate) async fn put(
    tx: &mut Tx<'_>,
    actor: &str,
    expected_version: i64,
    plans: Vec<Plan>,
) -> Result<Written, BillingError> {
    let bumped: Option<i64> = sqlx::query_scalar(
        "update catalog_version set version = version + 1 where version = $1 returning version",
    )
    .bind(expected_version)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(version) = bumped else {
        return Err(BillingError::Conflict(
            "the catalog changed since it was read; read it again and retry".to_owned(),
        ));
    };
    let (stored, _) = load(tx).await?;
    check_catalog(&plans, &stored)
        .map_err(|(field, message)| BillingError::invalid(field, message))?;
    let mut changed = Vec::new();
    for mut plan in plans {
        let before = stored
            .iter()
            .find(|old| plan.id.is_some() && old.id == plan.id);
        if before == Some(&plan) {
            continue;
        }
        let id = *plan.id.get_or_insert_with(Uuid::now_v7);
        write_plan(tx, id, &plan).await?;
        let before = before.map(|b| serde_json::to_value(b).unwrap_or_default());
        let after = serde_json::to_value(&plan).unwrap_or_default();
        audit(tx, actor, "catalog.put", &plan, before, after).await?;
        changed.push(plan.code.as_str().to_owned());
    }
    let (plans, _) = load(tx).await?;
    Ok(Written {
        plans,
        version,
        changed,
    })
}

async fn write_plan(tx: &mut Tx<'_>, id: Uuid, plan: &Plan) -> Result<(), BillingError> {
    sqlx::query(
        "insert into plans (id, code, name, description, kind, price_amount_minor, currency,
             billing_interval, per_seat, trial_days, trial_requires_card, is_public, is_archived,
             sort_order, highlights, stripe_product_id, stripe_price_id, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now())
         on conflict (id) do update set name = excluded.name, description = excluded.description,
             kind = excluded.kind, price_amount_minor = excluded.price_amount_minor,
             currency = excluded.currency, billing_interval = excluded.billing_interval,
             per_seat = excluded.per_seat, trial_days = excluded.trial_days,
             trial_requires_card = excluded.trial_requires_card, is_public = excluded.is_public,
             is_archived = excluded.is_archived, sort_order = excluded.sort_order,
             highlights = excluded.highlights, stripe_product_id = excluded.stripe_product_id,
             stripe_price_id = excluded.stripe_price_id, updated_at = now()",
    )
    .bind(id)
    .bind(plan.code.as_str())
    .bind(&plan.name)
    .bind(&plan.description)
    .bind(plan.kind.as_str())
    .bind(plan.price_amount_minor)
    .bind(&plan.currency)
    .bind(plan.interval.map(Interval::as_str))
    .bind(plan.per_seat)
    .bind(i32::try_from(plan.trial_days).unwrap_or(0))
    .bind(plan.trial_requires_card)
    .bind(plan.public)
    .bind(plan.archived)
    .bind(plan.sort_order)
    .bind(serde_json::to_value(&plan.highlights).unwrap_or_default())
    .bind(&plan.stripe_product_id)
    .bind(&plan.stripe_price_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("delete from plan_limits where plan_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for limit in &plan.limits {
        let (kind, max, enabled) = match limit.value {
            LimitValue::Max(max) => ("numeric", Some(max), None),
            LimitValue::Unlimited => ("numeric", None, None),
            LimitValue::Enabled(on) => ("boolean", None, Some(on)),
        };
        sqlx::query(
            "insert into plan_limits (plan_id, field, kind, max_value, enabled, display_name)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(limit.field.as_str())
        .bind(kind)
        .bind(max)
        .bind(enabled)
        .bind(&limit.display_name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Sets one plan's Stripe ids (the sync command), with an audit row; the caller bumps the version.
pub(crate) async fn set_stripe_ids(
    tx: &mut Tx<'_>,
    actor: &str,
    plan: &Plan,
    product_id: Option<&str>,
    price_id: &str,
) -> Result<(), BillingError> {
    sqlx::query("update plans set stripe_product_id = $2, stripe_price_id = $3, updated_at = now() where id = $1")
        .bind(plan.id)
        .bind(product_id)
        .bind(price_id)
        .execute(&mut **tx)
        .await?;
    let before =
        serde_json::json!({"product": plan.stripe_product_id, "price": plan.stripe_price_id});
    let after = serde_json::json!({"product": product_id, "price": price_id});
    audit(
        tx,
        actor,
        "catalog.sync_stripe_prices",
        plan,
        Some(before),
        after,
    )
    .await
}

/// The audit row of a change `actor` made to `plan`.
async fn audit(
    tx: &mut Tx<'_>,
    actor: &str,
    action: &str,
    plan: &Plan,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
) -> Result<(), BillingError> {
    sqlx::query(
        "insert into audit_log (id, actor_user_id, action, subject, before, after)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(actor)
    .bind(action)
    .bind(plan.code.as_str())
    .bind(before)
    .bind(after)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Bumps the version after a write that did not go through [`put`].
pub(crate) async fn bump_version(tx: &mut Tx<'_>) -> Result<i64, BillingError> {
    Ok(
        sqlx::query_scalar("update catalog_version set version = version + 1 returning version")
            .fetch_one(&mut **tx)
            .await?,
    )
}
