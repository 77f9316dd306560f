//! The catalog sync: fills in each paid plan's Stripe product and price ids from Stripe, matching the
//! plan code to a price's `lookup_key` or its product's `onramp_plan_code` metadata. Run by the
//! SyncStripePrices RPC and by `billing sync-prices`.

use sqlx::PgPool;

use crate::{domain::plan::PlanKind, error::BillingError, store, stripe::StripeApi};

/// What a sync found.
#[derive(Debug)]
pub(crate) struct Synced {
    pub(crate) updated: Vec<String>,
    pub(crate) unmatched: Vec<String>,
    pub(crate) version: i64,
}

/// One sync in one transaction (nothing is written on a dry run).
pub(crate) async fn run(
    pool: &PgPool,
    stripe: &StripeApi,
    actor: &str,
    dry_run: bool,
) -> Result<Synced, BillingError> {
    let prices = stripe
        .list_prices()
        .await
        .map_err(BillingError::StripeUnavailable)?;
    let mut tx = pool.begin().await?;
    // Locks the version row: a concurrent catalog write waits, then sees this write or is refused.
    let mut version: i64 = sqlx::query_scalar("select version from catalog_version for update")
        .fetch_one(&mut *tx)
        .await?;
    let (plans, _) = store::catalog::load(&mut tx).await?;
    let (mut updated, mut unmatched) = (Vec::new(), Vec::new());
    for plan in plans.iter().filter(|plan| plan.kind == PlanKind::Paid) {
        let Some(price) = prices.iter().find(|price| price.sells(plan.code.as_str())) else {
            unmatched.push(plan.code.as_str().to_owned());
            continue;
        };
        let product = price.product_id();
        if plan.stripe_price_id.as_deref() == Some(price.id.as_str())
            && plan.stripe_product_id == product
        {
            continue;
        }
        updated.push(plan.code.as_str().to_owned());
        if !dry_run {
            store::catalog::set_stripe_ids(&mut tx, actor, plan, product.as_deref(), &price.id)
                .await?;
        }
    }
    if !dry_run && !updated.is_empty() {
        version = store::catalog::bump_version(&mut tx).await?;
        tx.commit().await?;
    }
    Ok(Synced {
        updated,
        unmatched,
        version,
    })
}

/// `billing sync-prices [--dry-run]`: the sync as a command, for operators with the service's config.
pub async fn sync_prices_command(config: crate::Config, dry_run: bool) -> anyhow::Result<String> {
    let key = config
        .stripe_secret_key
        .clone()
        .ok_or_else(|| anyhow::anyhow!("sync-prices needs STRIPE_SECRET_KEY"))?;
    let stripe = StripeApi::new(&config.stripe_api_base, key)?;
    let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
    let synced = run(&pool, &stripe, "sync-prices command", dry_run)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    pool.close().await;
    Ok(format!(
        "{}updated: [{}]; no Stripe price: [{}]; catalog version {}",
        if dry_run { "(dry run) " } else { "" },
        synced.updated.join(", "),
        synced.unmatched.join(", "),
        synced.version
    ))
}
