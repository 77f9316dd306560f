//! The `manual` provider over HTTP, with no Stripe anywhere: a complimentary workspace and a card-less
//! trial are both active the moment they are provisioned, and the summary says which.

use reqwest::StatusCode;

use crate::support::billing::{
    add_plan, complimentary_plan, manual_world, paid_plan, provision, subscription, tenant_status,
};

#[tokio::test]
async fn the_manual_provider_activates_complimentary_and_trial_workspaces_at_once() {
    let world = manual_world().await;
    add_plan(&world, complimentary_plan("enterprise")).await;
    // A paid plan without a card-less trial: with no provider to take payment it is complimentary.
    add_plan(&world, paid_plan("team", "", 5)).await;
    let owner = world.verified_user().await;

    for (plan, trial_state, status) in [
        ("enterprise", "complimentary", "active"),
        ("team", "complimentary", "active"),
        ("pro", "pristine", "trialing"),
    ] {
        let provisioned = provision(&world, &owner, &format!("On {plan}"), plan).await;
        let tenant = provisioned["tenant"]["id"].as_str().expect("id").to_owned();
        assert_eq!(
            provisioned["status"]["state"], "active",
            "{plan}: {provisioned}"
        );
        let now = tenant_status(&world, &owner, &tenant).await;
        assert_eq!(
            (now["state"].as_str(), now["ready"].as_bool()),
            (Some("active"), Some(true)),
            "{plan}: {now}"
        );

        let (code, summary) = subscription(&world, &owner, &tenant).await;
        assert_eq!(code, StatusCode::OK, "{summary}");
        assert_eq!(summary["provider"], "manual");
        assert_eq!(summary["plan"]["code"], plan);
        assert_eq!(summary["trial_state"], trial_state, "{plan}: {summary}");
        assert_eq!(summary["status"], status, "{plan}: {summary}");
        assert_eq!(summary["has_billing_account"], false);
    }
}
