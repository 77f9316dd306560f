//! Onboarding's funnel facts as product events (`onramp_kit::product_events`): checklist steps
//! completed, the checklist finished, sales leads. Properties are ids, step ids and the company-size
//! bucket only, never a lead's name, email, company or message.

use onramp_kit::product_events::{ProductEvent, emit, names};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::service::checklist::ChecklistView;

/// `user` completed `step` of `tenant`'s checklist (once per step: new data for a done step is no
/// new fact), in the transaction that marks it done.
pub async fn step_completed(
    conn: &mut PgConnection,
    tenant: Uuid,
    user: Uuid,
    step: &str,
) -> sqlx::Result<()> {
    let event = ProductEvent::new(names::ONBOARDING_STEP_COMPLETED, user)
        .with("tenant_id", tenant)
        .with("step", step)
        .once(format_args!("{tenant}:{user}:{step}"));
    emit(conn, &event).await.map(drop)
}

/// Records, once per user and tenant, that the checklist has nothing pending after the user's own
/// change. Finishing is read from every context's facts (email verified, plan active…), so it is
/// recorded when the user's action leaves the list finished, in a transaction of its own.
pub async fn finished_if_done(pool: &PgPool, view: &ChecklistView) -> sqlx::Result<()> {
    if !view.finished() {
        return Ok(());
    }
    let event = ProductEvent::new(names::ONBOARDING_FINISHED, view.user_id)
        .with("tenant_id", view.tenant_id)
        .with(
            "steps_done",
            i64::try_from(view.done_count()).unwrap_or(i64::MAX),
        )
        .with("rest_dismissed", view.rest_dismissed)
        .once(format_args!("{}:{}", view.tenant_id, view.user_id));
    let mut tx = pool.begin().await?;
    emit(&mut tx, &event).await?;
    tx.commit().await
}

/// A sales lead was stored: anonymous, so its distinct id is the lead's own id.
pub async fn sales_lead(
    conn: &mut PgConnection,
    lead: Uuid,
    company_size: &'static str,
) -> sqlx::Result<()> {
    let event = ProductEvent::new(names::SALES_LEAD, lead)
        .with("lead_id", lead)
        .with("company_size", company_size);
    emit(conn, &event).await.map(drop)
}
