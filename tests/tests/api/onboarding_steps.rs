//! The user's own checklist steps over HTTP, as a member of a real workspace: `PATCH
//! /v1/onboarding/steps/{id}` validation (unknown step 404, bad data 422 naming the field, `complete`
//! without required data refused), `POST /v1/onboarding/dismiss-rest`, configured custom steps.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    User,
    onboarding::{OnboardingRig, RigOptions, get_checklist, state_of},
};

/// One member's checklist in one workspace.
struct Steps<'a> {
    rig: &'a OnboardingRig,
    user: &'a User,
    tenant: &'a str,
}

impl<'a> Steps<'a> {
    fn of(rig: &'a OnboardingRig, user: &'a User, tenant: &'a str) -> Self {
        Self { rig, user, tenant }
    }

    /// `PATCH /v1/onboarding/steps/{step}` with `body`.
    async fn patch(&self, step: &str, body: Value) -> reqwest::Response {
        self.rig
            .authed(
                Method::PATCH,
                &format!("/v1/onboarding/steps/{step}?tenant_id={}", self.tenant),
                self.user,
            )
            .json(&body)
            .send()
            .await
            .expect("request")
    }
}

/// Asserts a refusal with `status` naming `field`.
async fn refused(response: reqwest::Response, status: StatusCode, field: &str) {
    assert_eq!(response.status(), status, "{field}");
    let problem: Value = response.json().await.expect("json");
    assert_eq!(problem["field"], field, "{problem}");
    let reason = if status == StatusCode::UNPROCESSABLE_ENTITY {
        "INVALID_DATA"
    } else {
        "INVALID_ARGUMENT"
    };
    assert_eq!(problem["reason"], reason, "{problem}");
}

fn setup(company: &str, size: &str, zone: &str) -> Value {
    json!({ "action": "complete", "data": { "first_setup": {
        "company_name": company, "team_size": size, "use_case": "Invoices", "time_zone": zone } } })
}

#[tokio::test]
async fn step_updates_are_validated_and_complete_only_with_the_data_the_step_needs() {
    let rig = OnboardingRig::spawn().await;
    let owner = rig.world.verified_user().await;
    // On a plan: the workspace is usable, so a teammate can be invited below.
    let tenant = rig.workspace_on_plan(&owner, "free").await;

    let steps = Steps::of(&rig, &owner, &tenant);

    let unknown = steps
        .patch("launch_rocket", json!({"action": "dismiss"}))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let problem: Value = unknown.json().await.expect("json");
    assert_eq!(problem["reason"], "NOT_FOUND");

    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (json!({ "action": "complete" }), invalid, "data"),
        (
            setup(" ", "small", ""),
            invalid,
            "data.first_setup.company_name",
        ),
        (
            setup("Acme", "vast", ""),
            invalid,
            "data.first_setup.team_size",
        ),
        (setup("Acme", "", ""), invalid, "data.first_setup.team_size"),
        (
            setup("Acme", "small", "Mars/Olympus"),
            invalid,
            "data.first_setup.time_zone",
        ),
        (json!({ "action": "complete", "data": {} }), invalid, "data"),
        (
            json!({ "action": "complete", "data": { "custom": { "source": "csv" } } }),
            invalid,
            "data",
        ),
        // Malformed requests (not the step's data) are plain 400s naming what is wrong.
        (
            json!({"action": "finish"}),
            StatusCode::BAD_REQUEST,
            "action",
        ),
        (
            json!({"action": "complete", "colour": 1}),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
    ];
    for (body, status, field) in cases {
        refused(steps.patch("first_setup", body).await, status, field).await;
    }
    // A step another context decides cannot be completed by hand.
    let by_hand = steps
        .patch("verify_email", json!({"action": "complete"}))
        .await;
    assert_eq!(by_hand.status(), StatusCode::CONFLICT);
    // Nothing refused was stored.
    let view = get_checklist(&rig, &owner, &tenant).await;
    assert_eq!(state_of(&view, "first_setup"), "pending");

    let valid = setup("Acme", "small", "Europe/Berlin");
    let completed = steps.patch("first_setup", valid.clone()).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let view: Value = completed.json().await.expect("json");
    let step = &view["steps"][4];
    assert_eq!(step["id"], "first_setup");
    assert_eq!(step["state"], "done");
    assert_eq!(step["data"]["first_setup"]["company_name"], "Acme");
    assert_eq!(step["data"]["first_setup"]["team_size"], "small");
    assert!(step["completed_at"].is_string());
    // Completing again with the same data is fine (idempotent).
    let again = steps.patch("first_setup", valid).await;
    assert_eq!(again.status(), StatusCode::OK);

    // Steps are per user: a teammate's first_setup is still open.
    let teammate = rig.teammate(&owner, &tenant).await;
    let theirs = get_checklist(&rig, &teammate, &tenant).await;
    assert_eq!(state_of(&theirs, "first_setup"), "pending");
}

#[tokio::test]
async fn dismiss_rest_dismisses_every_open_step_and_restore_brings_one_back() {
    let rig = OnboardingRig::spawn().await;
    let owner = rig.world.verified_user().await;
    let tenant = rig.workspace(&owner).await;
    let steps = Steps::of(&rig, &owner, &tenant);
    let done = steps.patch("first_setup", setup("Acme", "solo", "")).await;
    assert_eq!(done.status(), StatusCode::OK);

    let dismiss_rest = || {
        rig.authed(
            Method::POST,
            &format!("/v1/onboarding/dismiss-rest?tenant_id={tenant}"),
            &owner,
        )
        .send()
    };
    let answer = dismiss_rest().await.expect("request");
    assert_eq!(answer.status(), StatusCode::OK);
    let view: Value = answer.json().await.expect("json");
    // verify_email is done already (a verified user), first_setup too.
    assert_eq!(
        view["dismissed_step_ids"],
        json!(["choose_plan", "invite_teammates", "connect_payouts"])
    );
    assert_eq!(view["rest_dismissed"], true);
    assert_eq!(view["finished"], true);
    assert_eq!(view["next_step_id"], Value::Null);
    assert_eq!(
        state_of(&view, "first_setup"),
        "done",
        "done steps stay done"
    );
    assert_eq!(state_of(&view, "verify_email"), "done");

    let again: Value = dismiss_rest()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(again["dismissed_step_ids"], json!([]), "idempotent");

    let restored = steps
        .patch("connect_payouts", json!({"action": "restore"}))
        .await;
    assert_eq!(restored.status(), StatusCode::OK);
    let view: Value = restored.json().await.expect("json");
    assert_eq!(state_of(&view, "connect_payouts"), "pending");
    assert_eq!(view["next_step_id"], "connect_payouts");

    let done_step = steps
        .patch("first_setup", json!({"action": "dismiss"}))
        .await;
    assert_eq!(
        done_step.status(),
        StatusCode::CONFLICT,
        "a done step is not dismissed"
    );
}

#[tokio::test]
async fn configured_steps_follow_the_built_in_ones_and_take_custom_data_with_their_keys() {
    let rig = OnboardingRig::spawn_with(RigOptions {
        custom_steps: Some(
            r#"[{"id": "import_data", "title": "Import your data", "required_keys": ["source"]}]"#
                .to_owned(),
        ),
        ..RigOptions::default()
    })
    .await;
    let owner = rig.world.verified_user().await;
    let tenant = rig.workspace(&owner).await;
    let view = get_checklist(&rig, &owner, &tenant).await;
    assert_eq!(view["steps"][5]["id"], "import_data");
    assert_eq!(view["steps"][5]["state"], "pending");

    let steps = Steps::of(&rig, &owner, &tenant);
    let complete = async |data: Value| {
        let body = json!({ "action": "complete", "data": data });
        steps.patch("import_data", body).await
    };
    let cases = [
        (json!({"custom": {"rows": 3}}), "data.custom.source"),
        (json!({"custom": {"source": null}}), "data.custom.source"),
        (
            json!({"first_setup": {"company_name": "Acme", "team_size": "solo"}}),
            "data",
        ),
        (
            json!({"custom": {"source": {"a": {"b": {"c": 1}}}}}),
            "data.custom",
        ),
    ];
    for (data, field) in cases {
        refused(
            complete(data).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            field,
        )
        .await;
    }
    let completed = complete(json!({"custom": {"source": "csv", "rows": 3}})).await;
    assert_eq!(completed.status(), StatusCode::OK);
    let view: Value = completed.json().await.expect("json");
    assert_eq!(view["steps"][5]["state"], "done");
    assert_eq!(view["steps"][5]["data"]["custom"]["source"], "csv");
}
