//! Onboarding: the setup checklist, Stripe Connect onboarding and sales leads.
#![forbid(unsafe_code)]

mod config;
pub mod domain;
mod error;
pub mod funnel;
mod grpc;
pub mod peers;
pub mod service;
mod startup;
pub mod store;
pub mod stripe;

pub use config::Config;
pub use error::OnboardingError;
pub use startup::Application;
