//! The gRPC surface of the tenant-provisioning service: parse requests into domain values, call the
//! use case, convert the answer back. Errors become the shared table's statuses here, once.

mod convert;
mod invites;

use std::time::Duration;

use onramp_proto::tenancy::v1::{self as pb, tenancy_service_server::TenancyService};
use prost::Message as _;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use crate::{
    domain::{
        inputs::{IdempotencyKey, PlanHint, TenantName, parse_id},
        slug::Slug,
    },
    error::TenancyError,
    service::{
        Tenancy,
        lifecycle::{BillingEvent, EventOutcome},
        provisioning::ProvisionInput,
    },
};

use convert::signed_in;

/// Implements `onramp.tenancy.v1.TenancyService`.
#[derive(Debug, Clone)]
pub(crate) struct TenancyApi {
    service: Tenancy,
}

impl TenancyApi {
    pub(crate) fn new(service: Tenancy) -> Self {
        Self { service }
    }
}

type Answer<T> = Result<Response<T>, Status>;

/// A span carrying the ids operators search by (`tenant_id`, `user_id`), under the RPC's span.
fn ids_span(
    name: &'static str,
    tenant_id: Option<&uuid::Uuid>,
    user_id: Option<&uuid::Uuid>,
) -> tracing::Span {
    let tenant_id = tenant_id.map(ToString::to_string).unwrap_or_default();
    let user_id = user_id.map(ToString::to_string).unwrap_or_default();
    tracing::info_span!("tenancy", otel.name = name, tenant_id = %tenant_id, user_id = %user_id)
}

fn ok<T>(value: T) -> Answer<T> {
    Ok(Response::new(value))
}

#[tonic::async_trait]
impl TenancyService for TenancyApi {
    async fn provision_tenant(
        &self,
        request: Request<pb::ProvisionTenantRequest>,
    ) -> Answer<pb::ProvisionTenantResponse> {
        let request = request.into_inner();
        let user_id = signed_in(request.caller.as_ref())?;
        let key = IdempotencyKey::parse(&request.idempotency_key)
            .map_err(|invalid| TenancyError::IdempotencyKeyInvalid(invalid.message))?;
        let slug = match request.slug.trim() {
            "" => None,
            slug => Some(Slug::parse(slug).map_err(TenancyError::from)?),
        };
        let input = ProvisionInput {
            user_id,
            key,
            name: TenantName::parse(&request.name).map_err(TenancyError::from)?,
            slug,
            plan: PlanHint::parse(&request.plan_id).map_err(TenancyError::from)?,
        };
        let result = self
            .service
            .provision(input, |made| {
                pb::ProvisionTenantResponse {
                    tenant: Some(convert::tenant(&made.tenant)),
                    owner_membership: Some(convert::membership(&made.owner, None)),
                    status: Some(convert::status(&made.tenant, &made.status)),
                    replayed: false,
                }
                .encode_to_vec()
            })
            .instrument(ids_span("provision", None, Some(&user_id)))
            .await?;
        let mut response = pb::ProvisionTenantResponse::decode(result.response.as_slice())
            .map_err(|error| TenancyError::Unexpected(error.into()))?;
        response.replayed = result.replayed;
        ok(response)
    }

    async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Answer<pb::GetTenantResponse> {
        let request = request.into_inner();
        let user_id = signed_in(request.caller.as_ref())?;
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let (tenant, role) = self.service.member_of(tenant_id, user_id).await?;
        ok(pb::GetTenantResponse {
            tenant: Some(convert::tenant(&tenant)),
            caller_role: convert::role(role).into(),
        })
    }

    async fn list_my_tenants(
        &self,
        request: Request<pb::ListMyTenantsRequest>,
    ) -> Answer<pb::ListMyTenantsResponse> {
        let request = request.into_inner();
        let user_id = signed_in(request.caller.as_ref())?;
        let page = convert::page(request.page.as_ref()).map_err(TenancyError::from)?;
        let tenants = self.service.my_tenants(user_id, page).await?;
        ok(pb::ListMyTenantsResponse {
            page: Some(onramp_proto::common::v1::PageInfo {
                next_page_token: page.next_token(tenants.len()),
            }),
            tenants: tenants
                .iter()
                .map(|(tenant, role)| pb::TenantMembership {
                    tenant: Some(convert::tenant(tenant)),
                    role: convert::role(*role).into(),
                })
                .collect(),
        })
    }

    async fn get_tenant_status(
        &self,
        request: Request<pb::GetTenantStatusRequest>,
    ) -> Answer<pb::GetTenantStatusResponse> {
        let request = request.into_inner();
        let user_id = signed_in(request.caller.as_ref())?;
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let (tenant, status) = self
            .service
            .tenant_status(user_id, tenant_id)
            .instrument(ids_span("status", Some(&tenant_id), Some(&user_id)))
            .await?;
        ok(pb::GetTenantStatusResponse {
            status: Some(convert::status(&tenant, &status)),
        })
    }

    async fn get_starter_data(
        &self,
        request: Request<pb::GetStarterDataRequest>,
    ) -> Answer<pb::GetStarterDataResponse> {
        let request = request.into_inner();
        let user_id = signed_in(request.caller.as_ref())?;
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let (tenant, items) = self.service.starter_data(user_id, tenant_id).await?;
        ok(pb::GetStarterDataResponse {
            template_version: tenant.starter_template_version,
            items: items.iter().map(convert::starter_item).collect(),
        })
    }

    async fn apply_billing_event(
        &self,
        request: Request<pb::ApplyBillingEventRequest>,
    ) -> Answer<pb::ApplyBillingEventResponse> {
        let request = request.into_inner();
        let event = BillingEvent {
            event_id: parse_id("event_id", &request.event_id).map_err(TenancyError::from)?,
            tenant_id: parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?,
            transition: convert::transition_from(request.transition).map_err(TenancyError::from)?,
            billing_version: request.billing_version,
            occurred_at: request.occurred_at.as_ref().and_then(convert::from_ts),
            stripe_event_id: request.stripe_event_id,
            reason: request.reason,
        };
        let span = tracing::info_span!(
            "tenancy",
            otel.name = "apply billing event",
            tenant_id = %event.tenant_id,
            stripe.event_id = %event.stripe_event_id,
            billing.event_id = %event.event_id,
        );
        let result = self
            .service
            .apply_billing_event(event)
            .instrument(span)
            .await?;
        let outcome = match result.outcome {
            EventOutcome::Applied => pb::BillingEventOutcome::Applied,
            EventOutcome::Duplicate => pb::BillingEventOutcome::Duplicate,
            EventOutcome::NoChange => pb::BillingEventOutcome::NoChange,
            EventOutcome::Stale => pb::BillingEventOutcome::Stale,
        };
        ok(pb::ApplyBillingEventResponse {
            outcome: outcome.into(),
            previous_state: convert::state(result.previous).into(),
            state: convert::state(result.state).into(),
        })
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Answer<pb::ListMembersResponse> {
        let request = request.into_inner();
        let user_id = signed_in(request.caller.as_ref())?;
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let page = convert::page(request.page.as_ref()).map_err(TenancyError::from)?;
        let (members, users) = self.service.list_members(user_id, tenant_id, page).await?;
        ok(pb::ListMembersResponse {
            page: Some(onramp_proto::common::v1::PageInfo {
                next_page_token: page.next_token(members.len()),
            }),
            members: members
                .iter()
                .map(|m| convert::membership(m, users.get(&m.user_id)))
                .collect(),
        })
    }

    async fn change_member_role(
        &self,
        request: Request<pb::ChangeMemberRoleRequest>,
    ) -> Answer<pb::ChangeMemberRoleResponse> {
        let request = request.into_inner();
        let caller = signed_in(request.caller.as_ref())?;
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let target = parse_id("user_id", &request.user_id).map_err(TenancyError::from)?;
        let role = convert::role_from(request.role, "role").map_err(TenancyError::from)?;
        let membership = self
            .service
            .change_role(caller, tenant_id, target, role)
            .await?;
        ok(pb::ChangeMemberRoleResponse {
            membership: Some(convert::membership(&membership, None)),
        })
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Answer<pb::RemoveMemberResponse> {
        let request = request.into_inner();
        let caller = signed_in(request.caller.as_ref())?;
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let target = parse_id("user_id", &request.user_id).map_err(TenancyError::from)?;
        let remaining = self
            .service
            .remove_member(caller, tenant_id, target)
            .await?;
        ok(pb::RemoveMemberResponse {
            remaining_members: u32::try_from(remaining).unwrap_or_default(),
        })
    }

    async fn check_membership(
        &self,
        request: Request<pb::CheckMembershipRequest>,
    ) -> Answer<pb::CheckMembershipResponse> {
        let request = request.into_inner();
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let user_id = parse_id("user_id", &request.user_id).map_err(TenancyError::from)?;
        let minimum = match request.minimum_role {
            0 => None,
            value => Some(convert::role_from(value, "minimum_role").map_err(TenancyError::from)?),
        };
        let check = self
            .service
            .check_membership(tenant_id, user_id, minimum, request.require_usable)
            .instrument(ids_span(
                "check membership",
                Some(&tenant_id),
                Some(&user_id),
            ))
            .await?;
        ok(pb::CheckMembershipResponse {
            membership: Some(convert::membership(&check.membership, None)),
            tenant: Some(convert::tenant(&check.tenant)),
            status: Some(convert::status(&check.tenant, &check.status)),
        })
    }

    async fn count_members(
        &self,
        request: Request<pb::CountMembersRequest>,
    ) -> Answer<pb::CountMembersResponse> {
        let request = request.into_inner();
        let tenant_id = parse_id("tenant_id", &request.tenant_id).map_err(TenancyError::from)?;
        let (members, pending) = self.service.count_members(tenant_id).await?;
        ok(pb::CountMembersResponse {
            members: u32::try_from(members).unwrap_or(u32::MAX),
            pending_invites: u32::try_from(pending).unwrap_or(u32::MAX),
        })
    }

    async fn create_invites(
        &self,
        request: Request<pb::CreateInvitesRequest>,
    ) -> Answer<pb::CreateInvitesResponse> {
        invites::create(&self.service, request.into_inner()).await
    }

    async fn lookup_invite(
        &self,
        request: Request<pb::LookupInviteRequest>,
    ) -> Answer<pb::LookupInviteResponse> {
        invites::lookup(&self.service, request.into_inner()).await
    }

    async fn resolve_invite(
        &self,
        request: Request<pb::ResolveInviteRequest>,
    ) -> Answer<pb::ResolveInviteResponse> {
        invites::resolve(&self.service, request.into_inner()).await
    }

    async fn accept_invite(
        &self,
        request: Request<pb::AcceptInviteRequest>,
    ) -> Answer<pb::AcceptInviteResponse> {
        invites::accept(&self.service, request.into_inner()).await
    }

    async fn revoke_invite(
        &self,
        request: Request<pb::RevokeInviteRequest>,
    ) -> Answer<pb::RevokeInviteResponse> {
        invites::revoke(&self.service, request.into_inner()).await
    }

    async fn list_invites(
        &self,
        request: Request<pb::ListInvitesRequest>,
    ) -> Answer<pb::ListInvitesResponse> {
        invites::list(&self.service, request.into_inner()).await
    }

    async fn get_sweep_report(
        &self,
        request: Request<pb::GetSweepReportRequest>,
    ) -> Answer<pb::GetSweepReportResponse> {
        let request = request.into_inner();
        let caller = signed_in(request.caller.as_ref())?;
        const MAX_AGE: u32 = 30 * 24 * 3600;
        let older_than = match request.pending_payment_older_than_seconds {
            0 => None,
            seconds if seconds > MAX_AGE => {
                return Err(TenancyError::from(crate::domain::inputs::Invalid::new(
                    "pending_payment_older_than_seconds",
                    "pending_payment_older_than_seconds must be at most 30 days",
                ))
                .into());
            }
            seconds => Some(Duration::from_secs(u64::from(seconds))),
        };
        let limit = match request.limit {
            0 => 100,
            n => i64::from(n.min(1000)),
        };
        let report = self
            .service
            .sweep_report_for(caller, older_than, limit)
            .await?;
        ok(pb::GetSweepReportResponse {
            generated_at: Some(convert::ts(report.generated_at)),
            incomplete_starter_data: report
                .incomplete
                .iter()
                .map(|i| pb::IncompleteStarterData {
                    tenant_id: i.tenant_id.to_string(),
                    slug: i.slug.clone(),
                    missing_item_keys: i.missing_keys.clone(),
                    created_at: Some(convert::ts(i.created_at)),
                })
                .collect(),
            stuck_pending_payment: report
                .stuck
                .iter()
                .map(|s| pb::StuckPendingPayment {
                    tenant_id: s.tenant_id.to_string(),
                    slug: s.slug.clone(),
                    pending_since: Some(convert::ts(s.pending_since)),
                    owner_user_id: s.owner_user_id.map(|id| id.to_string()).unwrap_or_default(),
                })
                .collect(),
            stuck_pending_payment_total: u32::try_from(report.stuck_total).unwrap_or(u32::MAX),
        })
    }
}
