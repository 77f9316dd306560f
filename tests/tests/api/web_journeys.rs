//! Journeys through the web app in a real Chromium (tests/browser/*.test.mjs, Playwright driving the
//! system Chromium): the pages, not the API, are what the scripts use. Each test is one stack and
//! one browser; the scripts also run axe-core on every screen and save a screenshot of each at
//! 375 px and 1280 px (target/web-screenshots).

use std::time::Duration;

use crate::support::web::{browser_world, run_journey};

/// Sign up → verify from the mail → welcome (double click makes one workspace) → 14-day trial
/// on the manual provider → payment pending → ready → checklist → setup form errors → invite a
/// teammate who signs up, verifies and accepts → members show 2 → billing → contact sales to 429;
/// plus every other screen's picture.
#[tokio::test]
async fn trial_journey_in_a_browser() {
    let (world, base) = browser_world(|_| {}).await;
    run_journey(world, &base, "trial.test.mjs").await;
}

/// With no grace period, a new account meets the verification wall (resend, change account);
/// after verifying, the free plan's seat limit shows the upgrade prompt.
#[tokio::test]
async fn the_verification_wall_after_the_grace_period() {
    let (world, base) = browser_world(|options| {
        options.identity(|config: &mut onramp_identity::Config| {
            config.email_verification_grace = Duration::ZERO;
        });
    })
    .await;
    run_journey(world, &base, "wall.test.mjs").await;
}
