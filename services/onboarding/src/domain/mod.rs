//! Onboarding's domain: parsed values and the rules that need no I/O.

pub mod checklist;
pub mod connect;
pub mod lead;
pub mod secret;
pub mod steps;
