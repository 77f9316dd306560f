//! Domain rows -> proto messages.

use chrono::{DateTime, Utc};
use onramp_proto::onboarding::v1::{self as pb, CompanySize};

use crate::{
    domain::connect::{AccountStatus, TokenStatus},
    error::OnboardingError,
    store::connect::{AccountRow, TokenRow},
};

pub(super) fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

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
