//! The setup checklist use cases: read it (asking the other contexts in parallel, each with its own
//! short deadline), complete / dismiss / restore a step, dismiss the rest.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::{
        checklist::{DataKind, FirstSetup, Source, Step, StepPayload, StepState, resolve},
        steps::{Steps, parse_custom},
    },
    error::OnboardingError,
    peers::Peers,
    store::{checklist as store, connect as connect_store},
};

/// One step as the caller sees it.
#[derive(Debug, Clone)]
pub struct StepView {
    /// The step's definition.
    pub step: Step,
    /// Its state for the caller.
    pub state: StepState,
}

/// The caller's checklist.
#[derive(Debug, Clone)]
pub struct ChecklistView {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// Every step, in order.
    pub steps: Vec<StepView>,
    /// Whether DismissRest was used.
    pub rest_dismissed: bool,
}

impl ChecklistView {
    /// The first PENDING step (not UNKNOWN, DONE or DISMISSED).
    pub fn next_step(&self) -> Option<&str> {
        self.steps
            .iter()
            .find(|s| s.state == StepState::Pending)
            .map(|s| s.step.id.as_ref())
    }

    /// How many steps are done.
    pub fn done_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.state, StepState::Done { .. }))
            .count()
    }

    /// Whether every step is done or dismissed.
    pub fn finished(&self) -> bool {
        self.steps.iter().all(|s| {
            matches!(
                s.state,
                StepState::Done { .. } | StepState::Dismissed { .. }
            )
        })
    }
}

/// What UpdateStep asks for.
#[derive(Debug, Clone)]
pub enum StepChange {
    /// Complete with data (first_setup already parsed; custom checked against the step here).
    Complete(Option<StepData>),
    /// Dismiss.
    Dismiss,
    /// Undo a dismissal.
    Restore,
}

/// UpdateStep's data, before it is matched with its step.
#[derive(Debug, Clone)]
pub enum StepData {
    /// For `first_setup`, parsed.
    FirstSetup(FirstSetup),
    /// For a configured step: any JSON, validated against the step's required keys.
    Custom(serde_json::Value),
}

/// The checklist use cases.
#[derive(Debug, Clone)]
pub struct Checklist {
    pool: PgPool,
    peers: Peers,
    peer_timeout: Duration,
    steps: Steps,
}

impl Checklist {
    /// Checklist of `steps` over `pool`, asking `peers` with `peer_timeout` each.
    pub fn new(pool: PgPool, peers: Peers, peer_timeout: Duration, steps: Steps) -> Self {
        Self {
            pool,
            peers,
            peer_timeout,
            steps,
        }
    }

    /// NOT_FOUND unless the checklist has a step `id`.
    pub fn check_step(&self, id: &str) -> Result<(), OnboardingError> {
        self.steps.get(id).map(|_| ())
    }

    /// The caller's checklist. Other contexts are asked in parallel; one that is down, slow or not
    /// implemented makes its step UNKNOWN, never an error.
    pub async fn get(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
    ) -> Result<ChecklistView, OnboardingError> {
        let wait = self.peer_timeout;
        let (identity, billing, tenancy, connect, marks) = tokio::join!(
            self.peers.email_verified(user_id, wait),
            self.peers.plan_active(tenant_id, wait),
            self.peers.has_teammates(tenant_id, wait),
            connect_store::account_by_tenant(&self.pool, tenant_id),
            store::marks(&self.pool, tenant_id, user_id),
        );
        let connect = connect?.map(|account| account.status == "complete");
        let (marks, rest) = marks?;
        let steps = self
            .steps
            .iter()
            .map(|step| {
                let answer = match step.source {
                    Source::Identity => identity,
                    Source::Billing => billing,
                    Source::Tenancy => tenancy,
                    // No connected account yet is a definite "not done".
                    Source::Connect => Some(connect.unwrap_or(false)),
                    Source::User => None,
                };
                StepView {
                    step: step.clone(),
                    state: resolve(step, answer, marks.get(step.id.as_ref())),
                }
            })
            .collect();
        Ok(ChecklistView {
            tenant_id,
            user_id,
            steps,
            rest_dismissed: rest.is_some(),
        })
    }

    /// Completes, dismisses or restores one step, then answers the new checklist.
    pub async fn update(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
        step_id: &str,
        change: StepChange,
    ) -> Result<ChecklistView, OnboardingError> {
        let step = self.steps.get(step_id)?;
        match change {
            StepChange::Complete(data) => {
                if step.source != Source::User {
                    return Err(OnboardingError::Conflict(format!(
                        "{} completes by itself once its condition is met",
                        step.id
                    )));
                }
                let payload = payload(step, data)?;
                store::complete(&self.pool, tenant_id, user_id, &step.id, payload.as_ref()).await?;
            }
            StepChange::Dismiss => {
                let current = self.get(tenant_id, user_id).await?;
                let done = current
                    .steps
                    .iter()
                    .any(|s| s.step.id == step.id && matches!(s.state, StepState::Done { .. }));
                if done {
                    return Err(OnboardingError::Conflict(format!(
                        "{} is already done",
                        step.id
                    )));
                }
                store::dismiss(
                    &self.pool,
                    tenant_id,
                    user_id,
                    &[step.id.to_string()],
                    false,
                )
                .await?;
            }
            StepChange::Restore => store::restore(&self.pool, tenant_id, user_id, &step.id).await?,
        }
        let view = self.get(tenant_id, user_id).await?;
        crate::funnel::finished_if_done(&self.pool, &view).await?;
        Ok(view)
    }

    /// Dismisses every step not done yet; answers the checklist and the ids this call dismissed.
    pub async fn dismiss_rest(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
    ) -> Result<(ChecklistView, Vec<String>), OnboardingError> {
        let current = self.get(tenant_id, user_id).await?;
        let open: Vec<String> = current
            .steps
            .iter()
            .filter(|s| matches!(s.state, StepState::Pending | StepState::Unknown))
            .map(|s| s.step.id.to_string())
            .collect();
        store::dismiss(&self.pool, tenant_id, user_id, &open, true).await?;
        let view = self.get(tenant_id, user_id).await?;
        crate::funnel::finished_if_done(&self.pool, &view).await?;
        Ok((view, open))
    }
}

/// Matches UpdateStep's data with the step: the right kind, and what the step requires.
fn payload(step: &Step, data: Option<StepData>) -> Result<Option<StepPayload>, OnboardingError> {
    match (&step.data, data) {
        (DataKind::FirstSetup, Some(StepData::FirstSetup(setup))) => {
            Ok(Some(StepPayload::FirstSetup(setup)))
        }
        (DataKind::Custom { required_keys }, Some(StepData::Custom(value))) => Ok(Some(
            StepPayload::Custom(parse_custom(required_keys, value)?),
        )),
        (DataKind::FirstSetup, Some(StepData::Custom(_))) => Err(OnboardingError::invalid_data(
            "data",
            "this step takes first_setup data",
        )),
        (DataKind::Custom { .. }, Some(StepData::FirstSetup(_))) => Err(
            OnboardingError::invalid_data("data", "this step takes custom data"),
        ),
        (DataKind::Nothing, Some(_)) => Err(OnboardingError::invalid_data(
            "data",
            "this step takes no data",
        )),
        (_, None) if step.data_required() => Err(OnboardingError::invalid_data(
            "data",
            "this step needs its data",
        )),
        (_, None) => Ok(None),
    }
}
