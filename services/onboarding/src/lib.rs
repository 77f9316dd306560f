//! Onboarding: the setup checklist, Stripe Connect onboarding and sales leads.
#![forbid(unsafe_code)]

pub mod checklist;
mod config;
pub mod connect;
pub mod domain;
mod error;
pub mod funnel;
mod grpc;
mod leads;
pub mod peers;
mod startup;
pub mod store;
pub mod stripe;

pub use config::Config;
pub use error::OnboardingError;
pub use startup::Application;
