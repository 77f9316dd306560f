//! Integration tests of the kit's public pieces; one binary for the crate.

mod error_table;
mod mail_outbox;
mod product_events;
mod retry;
mod runtime;
mod support;
mod testing;
