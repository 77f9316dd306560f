//! The catalog sync: fills in each paid plan's Stripe product and price ids from Stripe, matching the
//! plan code to a price's `lookup_key` or its product's `onramp_plan_code` metadata. Run by the
//! SyncStripePrices RPC and by `billing sync-prices`. `billing setup-stripe` first creates, in a fresh
//! Stripe (test) account, the product and price of every paid plan that no price sells yet.

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

/// `billing setup-stripe`: makes a fresh Stripe account sell the catalog. For every paid plan that
/// no active price sells (by `lookup_key` or product metadata) it creates a product
/// (`metadata[onramp_plan_code]`) and a price (`lookup_key` = the plan code), then links them like
/// `sync-prices`. Idempotent: a second run finds the prices by their lookup keys and creates none.
pub async fn setup_stripe_command(config: crate::Config) -> anyhow::Result<String> {
    let key = config
        .stripe_secret_key
        .clone()
        .ok_or_else(|| anyhow::anyhow!("setup-stripe needs STRIPE_SECRET_KEY"))?;
    let stripe = StripeApi::new(&config.stripe_api_base, key)?;
    let pool = onramp_kit::db::connect_lazy(&config.base.database)?;
    let created = create_missing(&pool, &stripe).await?;
    let synced = run(&pool, &stripe, "setup-stripe command", false)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    pool.close().await;
    Ok(format!(
        "created in Stripe: [{}]; linked: [{}]; no Stripe price: [{}]; catalog version {}",
        created.join(", "),
        synced.updated.join(", "),
        synced.unmatched.join(", "),
        synced.version
    ))
}

/// Creates the product and price of each paid plan no price sells; answers their plan codes.
async fn create_missing(pool: &PgPool, stripe: &StripeApi) -> anyhow::Result<Vec<String>> {
    let prices = stripe.list_prices().await?;
    let mut conn = pool.acquire().await?;
    let (plans, _) = store::catalog::load(&mut conn)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    drop(conn);
    let mut created = Vec::new();
    for plan in plans.iter().filter(|plan| plan.kind == PlanKind::Paid) {
        let code = plan.code.as_str();
        if prices.iter().any(|price| price.sells(code)) {
            continue;
        }
        let mut product = vec![
            ("name", plan.name.clone()),
            ("metadata[onramp_plan_code]", code.to_owned()),
        ];
        // Stripe refuses an empty description.
        if !plan.description.is_empty() {
            product.push(("description", plan.description.clone()));
        }
        // The keys make a retry within Stripe's idempotency window (24 h) return the same objects;
        // after it, the lookup above is what keeps a second run from creating anything.
        let product_id = stripe
            .create_form("/v1/products", &product, &format!("onramp-product-{code}"))
            .await?;
        let mut price = vec![
            ("product", product_id),
            ("unit_amount", plan.price_amount_minor.to_string()),
            ("currency", plan.currency.clone()),
            ("lookup_key", code.to_owned()),
            ("nickname", plan.name.clone()),
        ];
        let interval = plan.interval.map_or("once", |interval| interval.as_str());
        if let Some(interval) = plan.interval {
            price.push(("recurring[interval]", interval.as_str().to_owned()));
        }
        let key = format!(
            "onramp-price-{code}-{}-{}-{interval}",
            plan.price_amount_minor, plan.currency
        );
        stripe.create_form("/v1/prices", &price, &key).await?;
        created.push(code.to_owned());
    }
    Ok(created)
}
