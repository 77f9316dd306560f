//! Cross-cutting HTTP middleware: trace continuation and the per-request time budget.

pub(crate) mod budget;
pub(crate) mod client_ip;
pub(crate) mod trace;
