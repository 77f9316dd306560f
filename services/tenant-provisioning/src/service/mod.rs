//! The application layer: each use case as a method of [`Tenancy`], over the store and the peers.

mod access;
pub(crate) mod invites;
pub(crate) mod lifecycle;
pub(crate) mod members;
mod meter;
pub(crate) mod provisioning;
pub(crate) mod sweep;

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::template::StarterTemplate,
    peers::{Entitlements, UserDirectory},
};

/// Tunables of the use cases (from the service's `Config`).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The Retry-After hint while a tenant waits for payment.
    pub(crate) payment_retry_after: Duration,
    /// How long an invite can be accepted.
    pub(crate) invite_validity: Duration,
    /// The sweep's default "stuck in pending_payment" threshold.
    pub(crate) pending_payment_threshold: Duration,
    /// Users allowed to read the sweep report.
    pub(crate) operators: Vec<Uuid>,
    /// Invite links are this followed by the code.
    pub(crate) invite_link_base: String,
}

/// Everything the use cases need; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Tenancy {
    pub(crate) pool: PgPool,
    pub(crate) entitlements: Arc<dyn Entitlements>,
    pub(crate) users: Arc<dyn UserDirectory>,
    pub(crate) template: Arc<StarterTemplate>,
    pub(crate) settings: Arc<Settings>,
}

pub(crate) use onramp_kit::grpc::convert::Page;
