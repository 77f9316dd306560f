//! Onboarding: the setup checklist, Stripe Connect onboarding and sales leads.
#![forbid(unsafe_code)]

mod grpc;
mod startup;

pub use startup::{Application, Config};
