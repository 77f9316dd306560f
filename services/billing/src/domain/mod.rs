//! Billing's domain: subscription states and what they entitle, and the trial pill.

pub(crate) mod plan;
pub(crate) mod start;
pub(crate) mod subscription;
pub(crate) mod trial;
