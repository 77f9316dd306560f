//! End-to-end tests: the whole stack in-process on ephemeral ports with fresh databases, driven over
//! real HTTP and gRPC. One binary; each module is one area.

mod billing_localstripe;
mod billing_plans;
mod billing_webhooks;
mod deadlines;
mod edge_browser;
mod edge_limits;
mod health;
mod helpers;
mod identity;
mod identity_email;
mod identity_limits;
mod identity_oauth;
mod identity_sessions;
mod identity_tokens;
mod onboarding_checklist;
mod onboarding_connect;
mod onboarding_connect_state;
mod onboarding_leads;
mod onboarding_support;
mod processes;
mod readiness;
mod tenancy;
mod tenancy_http;
mod tracing;
mod world;
