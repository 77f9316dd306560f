//! End-to-end tests: the whole stack in-process on ephemeral ports with fresh databases, driven over
//! real HTTP and gRPC. One binary; each module is one area.

mod billing_localstripe;
mod billing_plans;
mod billing_webhooks;
mod deadlines;
mod health;
mod helpers;
mod readiness;
mod tracing;
