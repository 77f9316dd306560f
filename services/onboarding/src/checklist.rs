//! The setup checklist use cases: read it (asking the other contexts in parallel, each with its own
//! short deadline), complete / dismiss / restore a step, dismiss the rest.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::checklist::{self, FirstSetup, STEPS, Source, Step, StepState, resolve},
    error::OnboardingError,
    peers::Peers,
    store::{checklist as store, connect as connect_store},
};

/// One step as the caller sees it.
#[derive(Debug, Clone)]
pub struct StepView {
    /// The step's definition.
    pub step: &'static Step,
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
    pub fn next_step(&self) -> Option<&'static str> {
        self.steps
            .iter()
            .find(|s| s.state == StepState::Pending)
            .map(|s| s.step.id)
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
    /// Complete with (already parsed) data.
    Complete(Option<FirstSetup>),
    /// Dismiss.
    Dismiss,
    /// Undo a dismissal.
    Restore,
}

/// The checklist use cases.
#[derive(Debug, Clone)]
pub struct Checklist {
    pool: PgPool,
    peers: Peers,
    peer_timeout: Duration,
}

impl Checklist {
    /// Checklist over `pool`, asking `peers` with `peer_timeout` each.
    pub fn new(pool: PgPool, peers: Peers, peer_timeout: Duration) -> Self {
        Self {
            pool,
            peers,
            peer_timeout,
        }
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
        let steps = STEPS
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
                    step,
                    state: resolve(step, answer, marks.get(step.id)),
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
        let step = checklist::step(step_id)?;
        match change {
            StepChange::Complete(data) => {
                if step.source != Source::User {
                    return Err(OnboardingError::Conflict(format!(
                        "{} completes by itself once its condition is met",
                        step.id
                    )));
                }
                if step.data_required && data.is_none() {
                    return Err(OnboardingError::invalid("data", "this step needs its data"));
                }
                store::complete(&self.pool, tenant_id, user_id, step.id, data.as_ref()).await?;
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
                store::dismiss(&self.pool, tenant_id, user_id, &[step.id], false).await?;
            }
            StepChange::Restore => store::restore(&self.pool, tenant_id, user_id, step.id).await?,
        }
        self.get(tenant_id, user_id).await
    }

    /// Dismisses every step not done yet; answers the checklist and the ids this call dismissed.
    pub async fn dismiss_rest(
        &self,
        tenant_id: Uuid,
        user_id: Uuid,
    ) -> Result<(ChecklistView, Vec<&'static str>), OnboardingError> {
        let current = self.get(tenant_id, user_id).await?;
        let open: Vec<&'static str> = current
            .steps
            .iter()
            .filter(|s| matches!(s.state, StepState::Pending | StepState::Unknown))
            .map(|s| s.step.id)
            .collect();
        store::dismiss(&self.pool, tenant_id, user_id, &open, true).await?;
        Ok((self.get(tenant_id, user_id).await?, open))
    }
}
