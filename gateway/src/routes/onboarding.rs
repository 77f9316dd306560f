//! `/v1/onboarding/...`: the setup checklist and the Connect onboarding routes.
//!
//! The Connect start, refresh and return routes are public on purpose: Stripe sends the browser to
//! them, possibly in another browser or after the session ended. The start and refresh links carry
//! the onboarding token (the credential); the return carries the single-use `state` minted with the
//! link. Account and token management needs a signed-in owner or admin.

pub(super) mod checklist;
pub(super) mod connect;
mod json;
