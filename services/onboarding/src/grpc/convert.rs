//! Domain rows -> proto messages.

use onramp_proto::onboarding::v1::{self as pb, CompanySize};

use crate::{
    domain::{
        checklist::{FirstSetup, Source, StepPayload, StepState},
        connect::{AccountStatus, TokenStatus},
    },
    error::OnboardingError,
    service::checklist::{ChecklistView, StepData},
    store::connect::{AccountRow, TokenRow},
};

pub(super) use onramp_kit::grpc::convert::timestamp;

pub(super) fn account(row: &AccountRow) -> pb::ConnectedAccount {
    let status = match AccountStatus::from_db(&row.status) {
        Some(AccountStatus::Onboarding) => pb::ConnectAccountStatus::Onboarding,
        Some(AccountStatus::PendingVerification) => pb::ConnectAccountStatus::PendingVerification,
        Some(AccountStatus::Restricted) => pb::ConnectAccountStatus::Restricted,
        Some(AccountStatus::Complete) => pb::ConnectAccountStatus::Complete,
        None => pb::ConnectAccountStatus::Unspecified,
    };
    pb::ConnectedAccount {
        tenant_id: row.tenant_id.to_string(),
        stripe_account_id: row.stripe_account_id.clone(),
        status: status as i32,
        details_submitted: row.details_submitted,
        charges_enabled: row.charges_enabled,
        payouts_enabled: row.payouts_enabled,
        requirements_currently_due: row.requirements_currently_due.clone(),
        requirements_past_due: row.requirements_past_due.clone(),
        disabled_reason: row.disabled_reason.clone(),
        country: row.country.clone(),
        created_at: Some(timestamp(row.created_at)),
        stripe_state_at: Some(timestamp(row.stripe_state_at)),
    }
}

pub(super) fn token(row: &TokenRow) -> pb::OnboardingToken {
    let status = match TokenStatus::from_db(&row.status) {
        Some(TokenStatus::Pending) => pb::OnboardingTokenStatus::Pending,
        Some(TokenStatus::InProgress) => pb::OnboardingTokenStatus::InProgress,
        Some(TokenStatus::Complete) => pb::OnboardingTokenStatus::Complete,
        Some(TokenStatus::Expired) => pb::OnboardingTokenStatus::Expired,
        None => pb::OnboardingTokenStatus::Unspecified,
    };
    pb::OnboardingToken {
        id: row.id.to_string(),
        tenant_id: row.tenant_id.to_string(),
        status: status as i32,
        created_at: Some(timestamp(row.created_at)),
        expires_at: Some(timestamp(row.expires_at)),
        state_expires_at: row
            .state_expires_at
            .filter(|_| status == pb::OnboardingTokenStatus::InProgress)
            .map(timestamp),
        completed_at: row.completed_at.map(timestamp),
    }
}

pub(super) fn company_size(size: CompanySize) -> Result<&'static str, OnboardingError> {
    Ok(match size {
        CompanySize::Unspecified => "unspecified",
        CompanySize::Solo => "solo",
        CompanySize::Small => "small",
        CompanySize::Medium => "medium",
        CompanySize::Large => "large",
        CompanySize::Enterprise => "enterprise",
        CompanySize::Huge => "huge",
    })
}

/// Parses UpdateStep's data; custom data is checked against its step by the checklist.
pub(super) fn step_data(data: Option<pb::StepData>) -> Result<Option<StepData>, OnboardingError> {
    let Some(data) = data else {
        return Ok(None);
    };
    match data.kind {
        Some(pb::step_data::Kind::FirstSetup(setup)) => {
            let team_size = match setup.team_size() {
                CompanySize::Unspecified => None,
                size => Some(company_size(size)?),
            };
            FirstSetup::parse(
                &setup.company_name,
                team_size,
                &setup.use_case,
                &setup.time_zone,
            )
            .map(|setup| Some(StepData::FirstSetup(setup)))
        }
        Some(pb::step_data::Kind::Custom(object)) => {
            Ok(Some(StepData::Custom(json_of_struct(object))))
        }
        None => Err(OnboardingError::invalid_data(
            "data",
            "exactly one kind must be set",
        )),
    }
}

/// `google.protobuf.Struct` -> JSON (numbers are doubles on the wire).
fn json_of_struct(object: prost_types::Struct) -> serde_json::Value {
    serde_json::Value::Object(
        object
            .fields
            .into_iter()
            .map(|(key, value)| (key, json_of_value(value)))
            .collect(),
    )
}

fn json_of_value(value: prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(b),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(n)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s),
        Some(Kind::ListValue(list)) => {
            serde_json::Value::Array(list.values.into_iter().map(json_of_value).collect())
        }
        Some(Kind::StructValue(object)) => json_of_struct(object),
    }
}

/// JSON -> `google.protobuf.Value`.
fn value_of_json(value: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(value_of_json).collect(),
        }),
        serde_json::Value::Object(map) => Kind::StructValue(struct_of_json(map)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn struct_of_json(map: &serde_json::Map<String, serde_json::Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: map
            .iter()
            .map(|(key, value)| (key.clone(), value_of_json(value)))
            .collect(),
    }
}

fn payload(data: &StepPayload) -> pb::StepData {
    match data {
        StepPayload::FirstSetup(setup) => first_setup(setup),
        StepPayload::Custom(map) => pb::StepData {
            kind: Some(pb::step_data::Kind::Custom(struct_of_json(map))),
        },
    }
}

fn first_setup(data: &FirstSetup) -> pb::StepData {
    let team_size = match data.team_size.as_str() {
        "solo" => CompanySize::Solo,
        "small" => CompanySize::Small,
        "medium" => CompanySize::Medium,
        "large" => CompanySize::Large,
        "enterprise" => CompanySize::Enterprise,
        "huge" => CompanySize::Huge,
        _ => CompanySize::Unspecified,
    };
    pb::StepData {
        kind: Some(pb::step_data::Kind::FirstSetup(pb::FirstSetupData {
            company_name: data.company_name.clone(),
            team_size: team_size as i32,
            use_case: data.use_case.clone(),
            time_zone: data.time_zone.clone(),
        })),
    }
}

pub(super) fn checklist(view: &ChecklistView) -> pb::Checklist {
    let steps = view
        .steps
        .iter()
        .map(|s| {
            let (state, completed_at, dismissed_at, data) = match &s.state {
                StepState::Done { at, data } => (
                    pb::StepState::Done,
                    at.map(timestamp),
                    None,
                    data.as_ref().map(payload),
                ),
                StepState::Pending => (pb::StepState::Pending, None, None, None),
                StepState::Dismissed { at } => {
                    (pb::StepState::Dismissed, None, Some(timestamp(*at)), None)
                }
                StepState::Unknown => (pb::StepState::Unknown, None, None, None),
            };
            let source = match s.step.source {
                Source::User => pb::StepSource::User,
                Source::Identity => pb::StepSource::Identity,
                Source::Billing => pb::StepSource::Billing,
                Source::Tenancy => pb::StepSource::Tenancy,
                Source::Connect => pb::StepSource::Connect,
            };
            pb::ChecklistStep {
                step_id: s.step.id.to_string(),
                title: s.step.title.to_string(),
                description: s.step.description.to_string(),
                state: state as i32,
                source: source as i32,
                user_completable: s.step.source == Source::User,
                data_required: s.step.data_required(),
                action_path: s.step.action_path.to_string(),
                completed_at,
                dismissed_at,
                data,
            }
        })
        .collect();
    pb::Checklist {
        tenant_id: view.tenant_id.to_string(),
        user_id: view.user_id.to_string(),
        steps,
        next_step_id: view.next_step().unwrap_or_default().to_owned(),
        done_count: u32::try_from(view.done_count()).unwrap_or(u32::MAX),
        finished: view.finished(),
        rest_dismissed: view.rest_dismissed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(data: pb::StepData) -> String {
        match step_data(Some(data)) {
            Err(OnboardingError::InvalidData { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn step_data_of_the_wrong_kind_or_with_bad_fields_names_the_field() {
        assert_eq!(field(pb::StepData { kind: None }), "data");
        let no_size = pb::StepData {
            kind: Some(pb::step_data::Kind::FirstSetup(pb::FirstSetupData {
                company_name: "Acme".into(),
                ..pb::FirstSetupData::default()
            })),
        };
        assert_eq!(field(no_size), "data.first_setup.team_size");
        assert!(matches!(step_data(None), Ok(None)));
    }

    #[test]
    fn custom_data_round_trips_between_struct_and_json() {
        let json = serde_json::json!({"source": "csv", "rows": 10.0, "tags": ["a", null],
                                      "options": {"header": true}});
        let serde_json::Value::Object(map) = json.clone() else {
            panic!("object")
        };
        assert_eq!(json_of_struct(struct_of_json(&map)), json);
    }
}
