//! End-to-end tests: the whole stack in-process on ephemeral ports with fresh databases, driven over
//! real HTTP and gRPC. One binary; each module is one area.

mod deadlines;
mod health;
mod helpers;
mod onboarding_checklist;
mod onboarding_connect;
mod onboarding_connect_state;
mod onboarding_leads;
mod onboarding_support;
mod processes;
mod readiness;
mod tracing;
