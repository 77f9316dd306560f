//! Runs the whole Onramp stack in one process: every service and the gateway on their own ports,
//! each service on its own database of one Postgres server. Used by `onramp up` and by the tests.
#![forbid(unsafe_code)]

pub mod mailbox;
mod options;
pub mod postgres;
mod stack;
pub mod up;

pub use options::{ConfigHook, StackOptions};
pub use stack::{RunningStack, SERVICES};
