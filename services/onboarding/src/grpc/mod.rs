//! The gRPC surface of the onboarding service: proto <-> domain only (the membership gate is in
//! `crate::service`).

mod convert;

use onramp_kit::grpc::convert::signed_in_user;
use onramp_proto::{
    common::v1::Caller,
    onboarding::v1::{self as pb, onboarding_service_server::OnboardingService},
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{
        connect::{AccountSnapshot, Country},
        lead::{LeadForm, SalesLead},
    },
    error::OnboardingError,
    service::{
        Onboarding,
        checklist::StepChange,
        connect::{AccountEvent, Outcome},
    },
};

use convert::{account, checklist, step_data, timestamp, token};

/// Implements `onramp.onboarding.v1.OnboardingService`.
#[derive(Debug, Clone)]
pub(crate) struct OnboardingApi {
    pub(crate) service: Onboarding,
}

type Answer<T> = Result<Response<T>, Status>;

/// The signed-in user, or UNAUTHENTICATED.
fn user_id(caller: Option<&Caller>) -> Result<Uuid, OnboardingError> {
    signed_in_user(caller).ok_or(OnboardingError::Unauthenticated)
}

fn tenant_id(raw: &str) -> Result<Uuid, OnboardingError> {
    Uuid::parse_str(raw).map_err(|_| OnboardingError::invalid("tenant_id", "must be a UUID"))
}

/// The tenant and the signed-in caller of a tenant-scoped request: `(tenant, user)`.
fn tenant_and_caller(
    caller: Option<&Caller>,
    tenant: &str,
) -> Result<(Uuid, Uuid), OnboardingError> {
    let user = user_id(caller)?;
    Ok((tenant_id(tenant)?, user))
}

#[tonic::async_trait]
impl OnboardingService for OnboardingApi {
    async fn get_checklist(
        &self,
        request: Request<pb::GetChecklistRequest>,
    ) -> Answer<pb::GetChecklistResponse> {
        let request = request.into_inner();
        let (tenant, user) = tenant_and_caller(request.caller.as_ref(), &request.tenant_id)?;
        let view = self.service.get_checklist(tenant, user).await?;
        Ok(Response::new(pb::GetChecklistResponse {
            checklist: Some(checklist(&view)),
        }))
    }

    async fn update_step(
        &self,
        request: Request<pb::UpdateStepRequest>,
    ) -> Answer<pb::UpdateStepResponse> {
        let request = request.into_inner();
        let (tenant, user) = tenant_and_caller(request.caller.as_ref(), &request.tenant_id)?;
        let change = match (request.action(), request.data) {
            (pb::StepAction::Unspecified, _) => {
                return Err(OnboardingError::invalid("action", "is required").into());
            }
            (pb::StepAction::Complete, data) => StepChange::Complete(step_data(data)?),
            (_, Some(_)) => {
                return Err(OnboardingError::invalid(
                    "data",
                    "must be unset to dismiss or restore a step",
                )
                .into());
            }
            (pb::StepAction::Dismiss, None) => StepChange::Dismiss,
            (pb::StepAction::Restore, None) => StepChange::Restore,
        };
        let view = self
            .service
            .update_step(tenant, user, &request.step_id, change)
            .await?;
        Ok(Response::new(pb::UpdateStepResponse {
            checklist: Some(checklist(&view)),
        }))
    }

    async fn dismiss_rest(
        &self,
        request: Request<pb::DismissRestRequest>,
    ) -> Answer<pb::DismissRestResponse> {
        let request = request.into_inner();
        let (tenant, user) = tenant_and_caller(request.caller.as_ref(), &request.tenant_id)?;
        let (view, dismissed) = self.service.dismiss_rest(tenant, user).await?;
        Ok(Response::new(pb::DismissRestResponse {
            checklist: Some(checklist(&view)),
            dismissed_step_ids: dismissed,
        }))
    }

    async fn create_connected_account(
        &self,
        request: Request<pb::CreateConnectedAccountRequest>,
    ) -> Answer<pb::CreateConnectedAccountResponse> {
        let request = request.into_inner();
        let (tenant, user) = tenant_and_caller(request.caller.as_ref(), &request.tenant_id)?;
        let country = Country::parse(&request.country)?;
        let (row, created) = self
            .service
            .create_connected_account(tenant, user, &country)
            .await?;
        Ok(Response::new(pb::CreateConnectedAccountResponse {
            account: Some(account(&row)),
            created,
        }))
    }

    async fn get_connected_account(
        &self,
        request: Request<pb::GetConnectedAccountRequest>,
    ) -> Answer<pb::GetConnectedAccountResponse> {
        let request = request.into_inner();
        let (tenant, user) = tenant_and_caller(request.caller.as_ref(), &request.tenant_id)?;
        let (row, latest) = self.service.connected_account(tenant, user).await?;
        Ok(Response::new(pb::GetConnectedAccountResponse {
            account: Some(account(&row)),
            latest_token: latest.as_ref().map(token),
        }))
    }

    async fn create_onboarding_token(
        &self,
        request: Request<pb::CreateOnboardingTokenRequest>,
    ) -> Answer<pb::CreateOnboardingTokenResponse> {
        let request = request.into_inner();
        let (tenant, user) = tenant_and_caller(request.caller.as_ref(), &request.tenant_id)?;
        let (secret, row) = self.service.create_onboarding_token(tenant, user).await?;
        Ok(Response::new(pb::CreateOnboardingTokenResponse {
            token: secret.expose().to_owned(),
            onboarding_token: Some(token(&row)),
        }))
    }

    async fn start_connect_onboarding(
        &self,
        request: Request<pb::StartConnectOnboardingRequest>,
    ) -> Answer<pb::StartConnectOnboardingResponse> {
        let started = self
            .service
            .connect
            .start(&request.into_inner().token)
            .await?;
        Ok(Response::new(pb::StartConnectOnboardingResponse {
            account_link_url: started.link.url,
            link_expires_at: Some(timestamp(started.link.expires_at)),
            onboarding_token: Some(token(&started.token)),
        }))
    }

    async fn handle_connect_return(
        &self,
        request: Request<pb::HandleConnectReturnRequest>,
    ) -> Answer<pb::HandleConnectReturnResponse> {
        let returned = self
            .service
            .connect
            .handle_return(&request.into_inner().state)
            .await?;
        Ok(Response::new(pb::HandleConnectReturnResponse {
            onboarding_token: Some(token(&returned.token)),
            account: Some(account(&returned.account)),
            account_refreshed: returned.refreshed,
        }))
    }

    async fn refresh_connect_link(
        &self,
        request: Request<pb::RefreshConnectLinkRequest>,
    ) -> Answer<pb::RefreshConnectLinkResponse> {
        let refreshed = self
            .service
            .connect
            .refresh_link(&request.into_inner().token)
            .await?;
        Ok(Response::new(pb::RefreshConnectLinkResponse {
            account_link_url: refreshed.link.url,
            link_expires_at: Some(timestamp(refreshed.link.expires_at)),
            onboarding_token: Some(token(&refreshed.token)),
        }))
    }

    async fn refresh_connect_account(
        &self,
        request: Request<pb::RefreshConnectAccountRequest>,
    ) -> Answer<pb::RefreshConnectAccountResponse> {
        let request = request.into_inner();
        let (tenant, user) = tenant_and_caller(request.caller.as_ref(), &request.tenant_id)?;
        let (row, completed) = self.service.refresh_connected_account(tenant, user).await?;
        Ok(Response::new(pb::RefreshConnectAccountResponse {
            account: Some(account(&row)),
            tokens_completed: u32::try_from(completed).unwrap_or(u32::MAX),
        }))
    }

    async fn apply_connect_account_update(
        &self,
        request: Request<pb::ApplyConnectAccountUpdateRequest>,
    ) -> Answer<pb::ApplyConnectAccountUpdateResponse> {
        let event = account_event(request.into_inner())?;
        let (outcome, row) = match self.service.connect.apply_event(&event).await? {
            Outcome::Applied(row, _) => (pb::ConnectUpdateOutcome::Applied, Some(row)),
            Outcome::Duplicate(row) => (pb::ConnectUpdateOutcome::Duplicate, Some(row)),
            Outcome::Stale(row) => (pb::ConnectUpdateOutcome::Stale, Some(row)),
            Outcome::UnknownAccount => (pb::ConnectUpdateOutcome::UnknownAccount, None),
        };
        Ok(Response::new(pb::ApplyConnectAccountUpdateResponse {
            outcome: outcome as i32,
            account: row.as_ref().map(account),
        }))
    }

    async fn submit_sales_lead(
        &self,
        request: Request<pb::SubmitSalesLeadRequest>,
    ) -> Answer<pb::SubmitSalesLeadResponse> {
        let request = request.into_inner();
        let lead = SalesLead::parse(LeadForm {
            full_name: &request.full_name,
            email: &request.email,
            company: &request.company,
            company_size: convert::company_size(request.company_size())?,
            phone: &request.phone,
            message: &request.message,
            source: &request.source,
        })?;
        let caller = request.caller.unwrap_or_default();
        let (id, received_at) = self
            .service
            .leads
            .submit(&caller.client_ip, &caller.user_agent, &lead)
            .await?;
        Ok(Response::new(pb::SubmitSalesLeadResponse {
            lead_id: id.to_string(),
            received_at: Some(timestamp(received_at)),
        }))
    }
}

fn account_event(
    request: pb::ApplyConnectAccountUpdateRequest,
) -> Result<AccountEvent, OnboardingError> {
    if request.event_id.is_empty() {
        return Err(OnboardingError::invalid("event_id", "is required"));
    }
    if request.stripe_account_id.is_empty() {
        return Err(OnboardingError::invalid("stripe_account_id", "is required"));
    }
    let created = request
        .event_created
        .as_ref()
        .and_then(onramp_kit::grpc::convert::datetime)
        .ok_or_else(|| OnboardingError::invalid("event_created", "is required"))?;
    Ok(AccountEvent {
        event_id: request.event_id,
        created,
        account: AccountSnapshot {
            stripe_account_id: request.stripe_account_id,
            country: String::new(),
            details_submitted: request.details_submitted,
            charges_enabled: request.charges_enabled,
            payouts_enabled: request.payouts_enabled,
            currently_due: request.requirements_currently_due,
            past_due: request.requirements_past_due,
            pending_verification: request.requirements_pending_verification,
            disabled_reason: request.disabled_reason,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_scoped_request_yields_the_tenant_then_the_caller() {
        let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
        let caller = Caller {
            user_id: user.to_string(),
            ..Caller::default()
        };
        assert_eq!(
            tenant_and_caller(Some(&caller), &tenant.to_string()).ok(),
            Some((tenant, user))
        );
        assert!(matches!(
            tenant_and_caller(None, &tenant.to_string()),
            Err(OnboardingError::Unauthenticated)
        ));
        assert!(matches!(
            tenant_and_caller(Some(&caller), "nope"),
            Err(OnboardingError::Invalid { .. })
        ));
    }
}
