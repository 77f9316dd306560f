//! Identity's funnel facts as product events (`onramp_kit::product_events`), each recorded in the
//! transaction that commits the fact. Properties are ids and labels only, never the email or name.

use onramp_kit::product_events::{ProductEvent, emit, names};
use sqlx::PgConnection;
use uuid::Uuid;

/// A new account: `method` is `password` or the OAuth provider's id; `invited` when an invite
/// code opened the signup.
pub(crate) async fn account_created(
    conn: &mut PgConnection,
    user: Uuid,
    method: &str,
    invited: bool,
) -> sqlx::Result<()> {
    let event = ProductEvent::new(names::ACCOUNT_CREATED, user)
        .with("user_id", user)
        .with("method", method)
        .with("invited", invited)
        .once(user);
    emit(conn, &event).await.map(drop)
}

/// The account's address was proven `via` a link, a password reset or the OAuth provider (once per
/// account: the first proof is the funnel's step).
pub(crate) async fn email_verified(
    conn: &mut PgConnection,
    user: Uuid,
    via: &'static str,
) -> sqlx::Result<()> {
    let event = ProductEvent::new(names::EMAIL_VERIFIED, user)
        .with("user_id", user)
        .with("via", via)
        .once(user);
    emit(conn, &event).await.map(drop)
}
