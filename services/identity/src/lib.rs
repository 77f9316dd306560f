//! Identity: users, credentials, sessions, email verification, OAuth/OIDC and signing keys.
#![forbid(unsafe_code)]

mod config;
mod domain;
mod error;
mod funnel;
mod grpc;
mod keys;
mod oauth;
mod passwords;
mod peers;
mod service;
mod startup;
mod store;
mod tokens;

pub use config::Config;
pub use oauth::{OauthProviderConfig, ProviderKind};
pub use startup::Application;
