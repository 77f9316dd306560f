//! The setup checklist against the real identity, tenancy and billing services (which on this branch
//! do not implement the reads yet), a stopped service and a peer that never answers: steps owned by
//! a context that cannot answer are UNKNOWN, fast, never an error. The user's own steps are stored
//! in the real onboarding database.
//!
//! The gRPC and HTTP surfaces are gated by tenancy's CheckMembership, which fails closed until
//! tenancy implements it; these tests therefore drive the checklist use cases the RPCs call, as an
//! already verified member.

use std::time::Duration;

use onramp_onboarding::{
    OnboardingError,
    checklist::{Checklist, ChecklistView, StepChange, StepData},
    domain::{
        checklist::{FirstSetup, StepPayload, StepState},
        steps::Steps,
    },
    peers::Peers,
};
use onramp_proto::{common::v1::Caller, onboarding::v1::GetChecklistRequest};
use serde_json::json;
use uuid::Uuid;

use crate::{
    helpers::{attribute, wait_for_span},
    onboarding_support::OnboardingRig,
};

/// Far above the checklist's 300 ms peer deadline, far below the 10 s a hung call would take.
const BOUND: Duration = Duration::from_secs(5);

fn states(view: &ChecklistView) -> Vec<(&str, &'static str)> {
    view.steps
        .iter()
        .map(|s| {
            let state = match s.state {
                StepState::Done { .. } => "done",
                StepState::Pending => "pending",
                StepState::Dismissed { .. } => "dismissed",
                StepState::Unknown => "unknown",
            };
            (s.step.id.as_ref(), state)
        })
        .collect()
}

#[tokio::test]
async fn steps_of_contexts_that_cannot_answer_are_unknown_and_the_next_step_skips_them() {
    let mut rig = OnboardingRig::spawn(1).await;
    let (tenant, user) = (Uuid::new_v4(), Uuid::new_v4());
    // Every context the checklist reads from is down: their steps are unknown, not an error.
    for service in ["identity", "tenant-provisioning", "billing"] {
        rig.stack.stack.stop_service(service).await.expect("stops");
    }
    let view = tokio::time::timeout(BOUND, rig.checklist.get(tenant, user))
        .await
        .expect("answers within its peer deadlines")
        .expect("not an error");
    assert_eq!(
        states(&view),
        [
            ("verify_email", "unknown"),
            ("choose_plan", "unknown"),
            ("invite_teammates", "unknown"),
            ("connect_payouts", "pending"),
            ("first_setup", "pending"),
        ]
    );
    assert_eq!(view.next_step(), Some("connect_payouts"));
    assert!(!view.finished());
    rig.stop().await;
}

#[tokio::test]
async fn a_peer_that_never_answers_makes_its_step_unknown_within_the_deadline() {
    let rig = OnboardingRig::spawn(1).await;
    // Accepts TCP connections (the kernel's backlog) and never speaks HTTP/2.
    let blackhole = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = format!("http://{}", blackhole.local_addr().expect("addr"));
    let peers = Peers::connect(&addr, &addr, &addr).expect("channels");
    let checklist = Checklist::new(
        rig.db.clone(),
        peers,
        Duration::from_millis(300),
        Steps::default(),
    );
    let view = tokio::time::timeout(BOUND, checklist.get(Uuid::new_v4(), Uuid::new_v4()))
        .await
        .expect("answers within its peer deadlines")
        .expect("not an error");
    assert_eq!(
        states(&view)[..3]
            .iter()
            .filter(|(_, s)| *s == "unknown")
            .count(),
        3
    );
    drop(blackhole);
    rig.stop().await;
}

#[tokio::test]
async fn user_steps_complete_with_valid_data_only_and_context_steps_cannot_be_completed() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, user) = (Uuid::new_v4(), Uuid::new_v4());
    let checklist = &rig.checklist;

    let no_data = checklist
        .update(tenant, user, "first_setup", StepChange::Complete(None))
        .await
        .expect_err("data required");
    assert!(matches!(no_data, OnboardingError::Invalid { ref field, .. } if field == "data"));

    let context_step = checklist
        .update(tenant, user, "verify_email", StepChange::Complete(None))
        .await
        .expect_err("identity decides");
    assert!(matches!(context_step, OnboardingError::Conflict(_)));

    let unknown = checklist
        .update(tenant, user, "launch_rocket", StepChange::Dismiss)
        .await
        .expect_err("no such step");
    assert!(matches!(unknown, OnboardingError::NotFound(_)));

    let data =
        FirstSetup::parse("Acme", Some("small"), "Invoices", "Europe/Berlin").expect("valid");
    let view = checklist
        .update(
            tenant,
            user,
            "first_setup",
            StepChange::Complete(Some(StepData::FirstSetup(data.clone()))),
        )
        .await
        .expect("completed");
    let setup = view.steps.last().expect("first_setup");
    assert!(matches!(
        &setup.state,
        StepState::Done { data: Some(StepPayload::FirstSetup(d)), at: Some(_) } if *d == data
    ));
    assert_eq!(view.done_count(), 1);
    // Completing again with the same data is fine (idempotent).
    checklist
        .update(
            tenant,
            user,
            "first_setup",
            StepChange::Complete(Some(StepData::FirstSetup(data))),
        )
        .await
        .expect("idempotent");

    // Nothing leaks to another user of the same tenant.
    let other = checklist
        .get(tenant, Uuid::new_v4())
        .await
        .expect("checklist");
    assert_eq!(states(&other)[4], ("first_setup", "pending"));
    rig.stop().await;
}

#[tokio::test]
async fn dismiss_rest_dismisses_every_open_step_and_restore_brings_one_back() {
    let rig = OnboardingRig::spawn(1).await;
    let (tenant, user) = (Uuid::new_v4(), Uuid::new_v4());
    let checklist = &rig.checklist;
    let data = FirstSetup::parse("Acme", Some("solo"), "", "").expect("valid");
    checklist
        .update(
            tenant,
            user,
            "first_setup",
            StepChange::Complete(Some(StepData::FirstSetup(data))),
        )
        .await
        .expect("completed");

    let (view, dismissed) = checklist
        .dismiss_rest(tenant, user)
        .await
        .expect("dismissed");
    assert_eq!(
        dismissed,
        [
            "verify_email",
            "choose_plan",
            "invite_teammates",
            "connect_payouts"
        ]
    );
    assert!(view.rest_dismissed);
    assert!(view.finished());
    assert_eq!(view.next_step(), None);
    assert_eq!(
        states(&view)[4],
        ("first_setup", "done"),
        "done steps stay done"
    );

    let (_, again) = checklist
        .dismiss_rest(tenant, user)
        .await
        .expect("idempotent");
    assert!(again.is_empty());

    let view = checklist
        .update(tenant, user, "connect_payouts", StepChange::Restore)
        .await
        .expect("restored");
    assert_eq!(states(&view)[3], ("connect_payouts", "pending"));
    assert_eq!(view.next_step(), Some("connect_payouts"));

    let done = checklist
        .update(tenant, user, "first_setup", StepChange::Dismiss)
        .await
        .expect_err("a done step is not dismissed");
    assert!(matches!(done, OnboardingError::Conflict(_)));
    rig.stop().await;
}

#[tokio::test]
async fn the_checklist_rpc_and_routes_refuse_anonymous_callers_and_non_members() {
    let rig = OnboardingRig::spawn(1).await;
    let mut grpc = rig.grpc.clone();
    let anonymous = grpc
        .get_checklist(GetChecklistRequest {
            caller: None,
            tenant_id: Uuid::new_v4().to_string(),
        })
        .await
        .expect_err("no caller");
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    // Tenancy says this user is no member of that tenant: it does not exist for them.
    let (tenant, user) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let unverified = grpc
        .get_checklist(GetChecklistRequest {
            caller: Some(Caller {
                user_id: user.clone(),
                ..Caller::default()
            }),
            tenant_id: tenant.clone(),
        })
        .await
        .expect_err("not a member");
    assert_eq!(unverified.code(), tonic::Code::NotFound);
    // The RPC's span says who asked about which workspace.
    let span =
        wait_for_span(|s| attribute(s, "tenant_id").as_deref() == Some(tenant.as_str())).await;
    assert_eq!(attribute(&span, "user_id"), Some(user));
    for (method, path) in [
        (reqwest::Method::GET, "/v1/onboarding"),
        (reqwest::Method::PATCH, "/v1/onboarding/steps/first_setup"),
        (reqwest::Method::POST, "/v1/onboarding/dismiss-rest"),
    ] {
        let response = rig
            .http
            .request(method, rig.url(0, path))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 401, "{path}");
    }
    rig.stop().await;
}

#[tokio::test]
async fn configured_steps_follow_the_built_in_ones_and_take_custom_data_with_their_keys() {
    let rig = OnboardingRig::spawn(1).await;
    let peer = |name: &str| {
        format!(
            "http://{}",
            rig.stack.stack.service_addr(name).expect("runs")
        )
    };
    let steps = Steps::from_json(
        r#"[{"id": "import_data", "title": "Import your data", "required_keys": ["source"]}]"#,
    )
    .expect("valid steps");
    let checklist = Checklist::new(
        rig.db.clone(),
        Peers::connect(
            &peer("identity"),
            &peer("tenant-provisioning"),
            &peer("billing"),
        )
        .expect("channels"),
        Duration::from_millis(300),
        steps,
    );
    let (tenant, user) = (Uuid::new_v4(), Uuid::new_v4());
    let view = checklist.get(tenant, user).await.expect("checklist");
    assert_eq!(states(&view)[5], ("import_data", "pending"));

    let complete = |data: Option<StepData>| {
        checklist.update(tenant, user, "import_data", StepChange::Complete(data))
    };
    let field = |error: OnboardingError| match error {
        OnboardingError::Invalid { field, .. } => field,
        other => panic!("expected a validation error, got {other}"),
    };
    assert_eq!(field(complete(None).await.expect_err("needs data")), "data");
    assert_eq!(
        field(
            complete(Some(StepData::Custom(json!({"rows": 3}))))
                .await
                .expect_err("key")
        ),
        "data.custom.source"
    );
    let setup = FirstSetup::parse("Acme", Some("solo"), "", "").expect("valid");
    assert_eq!(
        field(
            complete(Some(StepData::FirstSetup(setup)))
                .await
                .expect_err("kind")
        ),
        "data"
    );
    assert_eq!(
        field(
            complete(Some(StepData::Custom(
                json!({"source": {"a": {"b": {"c": 1}}}})
            )))
            .await
            .expect_err("too deep")
        ),
        "data.custom"
    );

    let view = complete(Some(StepData::Custom(json!({"source": "csv", "rows": 3}))))
        .await
        .expect("completed");
    let import = &view.steps[5];
    assert!(matches!(
        &import.state,
        StepState::Done { data: Some(StepPayload::Custom(map)), .. } if map["source"] == "csv"
    ));
    rig.stop().await;
}
