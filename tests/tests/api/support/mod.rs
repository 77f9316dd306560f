//! What the end-to-end tests share: the test stack and its users, mail and spans at the root; one
//! module per area for the rest. Test modules import from here and export nothing.

pub(crate) mod billing;
pub(crate) mod db;
pub(crate) mod fault_load;
pub(crate) mod fault_proxy;
pub(crate) mod flaky_peer;
pub(crate) mod fleet;
pub(crate) mod gateways;
pub(crate) mod journey;
pub(crate) mod journey_team;
pub(crate) mod mail;
pub(crate) mod metrics;
pub(crate) mod oauth;
pub(crate) mod onboarding;
pub(crate) mod poll;
pub(crate) mod posthog;
pub(crate) mod private_postgres;
pub(crate) mod processes;
pub(crate) mod provisioning_storm;
pub(crate) mod routes;
pub(crate) mod stack;
pub(crate) mod stripe;
pub(crate) mod tally;
pub(crate) mod telemetry;
pub(crate) mod tenancy;
pub(crate) mod up;
pub(crate) mod users;
pub(crate) mod web;
pub(crate) mod webhook_storm;

pub(crate) use self::{mail::*, stack::*, telemetry::*, users::*};
