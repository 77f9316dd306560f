//! The setup checklist over HTTP (signed-in members; `?tenant_id=` names the workspace).

use onramp_kit::{ApiError, Code};
use onramp_proto::onboarding::v1::{
    self as pb, CompanySize, DismissRestRequest, GetChecklistRequest, StepAction, UpdateStepRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json;
use crate::routes::prelude::*;

/// `PATCH /v1/onboarding/steps/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepBody {
    /// `complete`, `dismiss` or `restore`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    data: Option<StepDataBody>,
}

/// Exactly one of `first_setup` (the built-in step) or `custom` (a configured step's JSON object).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepDataBody {
    first_setup: Option<FirstSetupBody>,
    #[schema(value_type = Option<Object>)]
    custom: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FirstSetupBody {
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    team_size: String,
    #[serde(default)]
    use_case: String,
    #[serde(default)]
    time_zone: String,
}

answer! {
    /// One checklist step (times are RFC 3339).
    #[schema(as = ChecklistStep)]
    StepView from pb::ChecklistStep {
        id <- step_id: String,
        title: String,
        description: String,
        state: String => word_of::<pb::StepState>,
        source: String => word_of::<pb::StepSource>,
        user_completable: bool,
        data_required: bool,
        action_path: String,
        completed_at: Option<String> => time,
        dismissed_at: Option<String> => time,
        /// `{"first_setup": {…}}` or `{"custom": {…}}`, as completed.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<Object>)]
        data: Option<serde_json::Value> => data_json,
    }
}

/// A completed step's data as JSON.
fn data_json(data: Option<pb::StepData>) -> Option<serde_json::Value> {
    Some(match data?.kind? {
        pb::step_data::Kind::FirstSetup(setup) => {
            let size = Some(setup.team_size()).filter(|s| *s != CompanySize::Unspecified);
            let body = FirstSetupBody {
                team_size: size.map(word).unwrap_or_default(),
                company_name: setup.company_name,
                use_case: setup.use_case,
                time_zone: setup.time_zone,
            };
            serde_json::json!({ "first_setup": body })
        }
        pb::step_data::Kind::Custom(object) => {
            serde_json::json!({ "custom": json::of_struct(object) })
        }
    })
}

/// A member's onboarding checklist for one workspace.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Checklist)]
pub(crate) struct ChecklistView {
    tenant_id: String,
    steps: Vec<StepView>,
    /// The next-step card: the first pending step, or null.
    next_step_id: Option<String>,
    done_count: u32,
    finished: bool,
    rest_dismissed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    dismissed_step_ids: Option<Vec<String>>,
}

fn view(checklist: Option<pb::Checklist>, dismissed: Option<Vec<String>>) -> ChecklistView {
    let checklist = checklist.unwrap_or_default();
    ChecklistView {
        tenant_id: checklist.tenant_id,
        steps: each(checklist.steps),
        next_step_id: known(checklist.next_step_id),
        done_count: checklist.done_count,
        finished: checklist.finished,
        rest_dismissed: checklist.rest_dismissed,
        dismissed_step_ids: dismissed,
    }
}

one_rpc! {
    /// `GET /v1/onboarding?tenant_id=…`: the ordered checklist and the next step.
    #[utoipa::path(get, path = "/v1/onboarding", tag = "onboarding", operation_id = "get_checklist",
        security(("bearer" = [])), params(TenantParam),
        responses(
            (status = 200, description = "The ordered checklist", body = ChecklistView),
            NotAMember,
        ))]
    pub(crate) fn get(c: Caller<AuthUser>, Query(query): Query<TenantQuery>) -> ChecklistView =
        c.onboarding().get_checklist(for_tenant!(GetChecklistRequest, c, query)),
        |answer| view(answer.checklist, None);
}

/// Step data that parsed as JSON but breaks the step's rules: 422, like the service's own checks.
fn invalid_data(field: &str, message: &str) -> Problem {
    Problem(ApiError::new(Code::InvalidData, message).with_field(field))
}

fn step_data(body: Option<StepDataBody>) -> Result<Option<pb::StepData>, Problem> {
    let Some(data) = body else { return Ok(None) };
    let setup = match (data.first_setup, data.custom) {
        (Some(setup), None) => setup,
        (None, Some(custom)) => {
            return Ok(Some(pb::StepData {
                kind: Some(pb::step_data::Kind::Custom(json::to_struct(&custom))),
            }));
        }
        _ => {
            return Err(invalid_data(
                "data",
                "data: exactly one of first_setup or custom is required",
            ));
        }
    };
    let team_size = match setup.team_size.as_str() {
        "" => CompanySize::Unspecified,
        name => parse(name).ok_or_else(|| {
            invalid_data(
                "data.first_setup.team_size",
                "data.first_setup.team_size: must be one of solo, small, medium, large, enterprise, huge",
            )
        })?,
    };
    Ok(Some(pb::StepData {
        kind: Some(pb::step_data::Kind::FirstSetup(pb::FirstSetupData {
            company_name: setup.company_name,
            team_size: team_size.into(),
            use_case: setup.use_case,
            time_zone: setup.time_zone,
        })),
    }))
}

one_rpc! {
    /// `PATCH /v1/onboarding/steps/{id}?tenant_id=…` `{action, data?}`.
    #[utoipa::path(patch, path = "/v1/onboarding/steps/{id}", tag = "onboarding", operation_id = "update_step",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The step's id"), TenantParam),
        request_body = StepBody,
        responses(
            (status = 200, description = "The checklist after the change", body = ChecklistView),
            (status = 400, description = "Malformed body or action, naming the field"),
            (status = 404, description = "Unknown step or workspace"),
            (status = 409, description = "Another context decides this step"),
            (status = 422, description = "Step data that breaks the step's rules or is missing where required, naming the field"),
        ))]
    pub(crate) fn update(
        c: Caller<AuthUser>,
        Path(step_id): Path<String>,
        Query(query): Query<TenantQuery>,
        Json(body): Json<StepBody>,
    ) -> ChecklistView = c.onboarding().update_step(UpdateStepRequest {
        caller: c.meta(),
        tenant_id: query.tenant_id,
        step_id,
        action: parse_field::<StepAction>(
            &body.action,
            "action",
            "action: must be complete, dismiss or restore",
        )?
        .into(),
        data: step_data(body.data)?,
    }), |answer| view(answer.checklist, None);
}

one_rpc! {
    /// `POST /v1/onboarding/dismiss-rest?tenant_id=…`.
    #[utoipa::path(post, path = "/v1/onboarding/dismiss-rest", tag = "onboarding", operation_id = "dismiss_rest",
        security(("bearer" = [])), params(TenantParam),
        responses(
            (status = 200, description = "The checklist, with the steps just dismissed", body = ChecklistView),
            NotAMember,
        ))]
    pub(crate) fn dismiss_rest(c: Caller<AuthUser>, Query(query): Query<TenantQuery>)
        -> ChecklistView = c.onboarding().dismiss_rest(for_tenant!(DismissRestRequest, c, query)),
        |answer| view(answer.checklist, Some(answer.dismissed_step_ids));
}
