//! Runs the whole Onramp stack in one process: every service and the gateway on their own ports,
//! each service on its own database of one Postgres server. Used by `onramp up` and by the tests.
#![forbid(unsafe_code)]

pub mod mailbox;
pub mod postgres;
mod stack;
pub mod up;

pub use stack::{ConfigHook, RunningStack, SERVICES, StackOptions};
