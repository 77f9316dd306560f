//! Identity: users, credentials, sessions, email verification, OAuth/OIDC and signing keys.
#![forbid(unsafe_code)]

mod grpc;
mod startup;

pub use startup::{Application, Config};
