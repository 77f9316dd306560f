//! What the end-to-end tests share: the test stack and its users, mail and spans at the root; one
//! module per area for the rest. Test modules import from here and export nothing.

pub(crate) mod billing;
pub(crate) mod fault_proxy;
pub(crate) mod fleet;
pub(crate) mod journey;
pub(crate) mod journey_team;
pub(crate) mod mail;
pub(crate) mod metrics;
pub(crate) mod oauth;
pub(crate) mod onboarding;
pub(crate) mod posthog;
pub(crate) mod processes;
pub(crate) mod stack;
pub(crate) mod stripe;
pub(crate) mod telemetry;
pub(crate) mod tenancy;
pub(crate) mod users;
pub(crate) mod web;

pub(crate) use self::{mail::*, stack::*, telemetry::*, users::*};
