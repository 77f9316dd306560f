//! All of identity's SQL. Functions take a connection so callers decide the transaction.

pub(crate) mod audit;
pub(crate) mod email_tokens;
pub(crate) mod limits;
pub(crate) mod oauth;
pub(crate) mod sessions;
pub(crate) mod users;
