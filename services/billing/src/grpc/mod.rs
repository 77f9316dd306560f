//! The gRPC surface of the billing service: proto <-> domain only. Methods not built yet answer
//! UNIMPLEMENTED through the generated default stubs.

mod convert;
mod operations;
mod payments;
mod plans;
mod summary;
mod tenant;

use std::collections::BTreeMap;

use onramp_proto::billing::v1::{
    BillingProvider, CheckEntitlementRequest, CheckEntitlementResponse,
    CreateCheckoutSessionRequest, CreateCheckoutSessionResponse, CreatePortalSessionRequest,
    CreatePortalSessionResponse, EnsureEntitlementRequest, EnsureEntitlementResponse,
    GetEntitlementRequest, GetEntitlementResponse, GetLimitRequest, GetLimitResponse,
    GetPlanCatalogRequest, GetPlanCatalogResponse, GetSubscriptionSummaryRequest,
    GetSubscriptionSummaryResponse, GetUsageRequest, GetUsageResponse, GrantComplimentaryRequest,
    GrantComplimentaryResponse, HandleStripeWebhookRequest, HandleStripeWebhookResponse,
    ListPublicPlansRequest, ListPublicPlansResponse, PutPlanCatalogRequest, PutPlanCatalogResponse,
    RecordUsageRequest, RecordUsageResponse, ReplayStripeEventRequest, ReplayStripeEventResponse,
    StartPlanWithoutCardRequest, StartPlanWithoutCardResponse,
    billing_service_server::BillingService,
};
use onramp_proto::billing::v1::{ReconcileWithStripeRequest, ReconcileWithStripeResponse};
use tonic::{Request, Response, Status};

use crate::{
    config::ProviderKind,
    error::BillingError,
    service::{self, Billing},
    webhook::Delivery,
};

pub(crate) use convert::{entitlement, outcome, stored_event, tenant_id, timestamp};

/// Largest accepted webhook payload (Stripe's events are far smaller).
const MAX_PAYLOAD: usize = 1024 * 1024;

/// Implements `onramp.billing.v1.BillingService`.
#[derive(Debug, Clone)]
pub(crate) struct BillingApi {
    pub(crate) service: Billing,
}

/// How long browsers and CDNs may cache the public plan list.
const PUBLIC_PLANS_MAX_AGE: u32 = 300;

impl BillingApi {
    async fn put_catalog(
        &self,
        request: PutPlanCatalogRequest,
    ) -> Result<PutPlanCatalogResponse, BillingError> {
        let user = tenant::user_of(request.caller.as_ref())?;
        let plans = request
            .plans
            .into_iter()
            .enumerate()
            .map(|(i, plan)| plans::parse_plan(i, plan))
            .collect::<Result<Vec<_>, _>>()?;
        let written = self
            .service
            .put_plan_catalog(user, request.expected_version, plans)
            .await?;
        Ok(PutPlanCatalogResponse {
            plans: written
                .plans
                .iter()
                .map(|plan| plans::plan_message(plan, true))
                .collect(),
            version: written.version,
            changed_plan_codes: written.changed,
        })
    }
}

#[tonic::async_trait]
impl BillingService for BillingApi {
    async fn list_public_plans(
        &self,
        _request: Request<ListPublicPlansRequest>,
    ) -> Result<Response<ListPublicPlansResponse>, Status> {
        let (plans, _) = service::catalog::load(self.service.pool()).await?;
        let provider = match self.service.provider {
            ProviderKind::Stripe => BillingProvider::Stripe,
            ProviderKind::Manual => BillingProvider::Manual,
        };
        Ok(Response::new(ListPublicPlansResponse {
            plans: plans
                .iter()
                .filter(|plan| plan.public && !plan.archived)
                .map(|plan| plans::plan_message(plan, false))
                .collect(),
            provider: provider as i32,
            cache_max_age_seconds: PUBLIC_PLANS_MAX_AGE,
        }))
    }

    async fn get_plan_catalog(
        &self,
        request: Request<GetPlanCatalogRequest>,
    ) -> Result<Response<GetPlanCatalogResponse>, Status> {
        let user = tenant::user_of(request.get_ref().caller.as_ref())?;
        let (plans, version) = self.service.plan_catalog(user).await?;
        Ok(Response::new(GetPlanCatalogResponse {
            plans: plans
                .iter()
                .map(|plan| plans::plan_message(plan, true))
                .collect(),
            version,
        }))
    }

    async fn create_checkout_session(
        &self,
        request: Request<CreateCheckoutSessionRequest>,
    ) -> Result<Response<CreateCheckoutSessionResponse>, Status> {
        Ok(Response::new(
            self.create_checkout(request.into_inner()).await?,
        ))
    }

    async fn create_portal_session(
        &self,
        request: Request<CreatePortalSessionRequest>,
    ) -> Result<Response<CreatePortalSessionResponse>, Status> {
        Ok(Response::new(
            self.create_portal(request.into_inner()).await?,
        ))
    }

    async fn sync_stripe_prices(
        &self,
        request: Request<onramp_proto::billing::v1::SyncStripePricesRequest>,
    ) -> Result<Response<onramp_proto::billing::v1::SyncStripePricesResponse>, Status> {
        Ok(Response::new(self.sync_prices(request.into_inner()).await?))
    }

    async fn list_stripe_events(
        &self,
        request: Request<onramp_proto::billing::v1::ListStripeEventsRequest>,
    ) -> Result<Response<onramp_proto::billing::v1::ListStripeEventsResponse>, Status> {
        Ok(Response::new(self.list_events(request.into_inner()).await?))
    }

    async fn reconcile_with_stripe(
        &self,
        request: Request<ReconcileWithStripeRequest>,
    ) -> Result<Response<ReconcileWithStripeResponse>, Status> {
        Ok(Response::new(self.reconcile(request.into_inner()).await?))
    }

    async fn ensure_entitlement(
        &self,
        request: Request<EnsureEntitlementRequest>,
    ) -> Result<Response<EnsureEntitlementResponse>, Status> {
        Ok(Response::new(self.ensure(request.into_inner()).await?))
    }

    async fn start_plan_without_card(
        &self,
        request: Request<StartPlanWithoutCardRequest>,
    ) -> Result<Response<StartPlanWithoutCardResponse>, Status> {
        Ok(Response::new(
            self.start_without_card(request.into_inner()).await?,
        ))
    }

    async fn grant_complimentary(
        &self,
        request: Request<GrantComplimentaryRequest>,
    ) -> Result<Response<GrantComplimentaryResponse>, Status> {
        Ok(Response::new(self.grant(request.into_inner()).await?))
    }

    async fn get_subscription_summary(
        &self,
        request: Request<GetSubscriptionSummaryRequest>,
    ) -> Result<Response<GetSubscriptionSummaryResponse>, Status> {
        Ok(Response::new(
            self.subscription_summary(request.into_inner()).await?,
        ))
    }

    async fn check_entitlement(
        &self,
        request: Request<CheckEntitlementRequest>,
    ) -> Result<Response<CheckEntitlementResponse>, Status> {
        Ok(Response::new(self.check(request.into_inner()).await?))
    }

    async fn get_limit(
        &self,
        request: Request<GetLimitRequest>,
    ) -> Result<Response<GetLimitResponse>, Status> {
        Ok(Response::new(self.limit(request.into_inner()).await?))
    }

    async fn record_usage(
        &self,
        request: Request<RecordUsageRequest>,
    ) -> Result<Response<RecordUsageResponse>, Status> {
        Ok(Response::new(
            self.usage_change(request.into_inner()).await?,
        ))
    }

    async fn get_usage(
        &self,
        request: Request<GetUsageRequest>,
    ) -> Result<Response<GetUsageResponse>, Status> {
        Ok(Response::new(self.usage(request.into_inner()).await?))
    }

    async fn put_plan_catalog(
        &self,
        request: Request<PutPlanCatalogRequest>,
    ) -> Result<Response<PutPlanCatalogResponse>, Status> {
        Ok(Response::new(self.put_catalog(request.into_inner()).await?))
    }

    async fn handle_stripe_webhook(
        &self,
        request: Request<HandleStripeWebhookRequest>,
    ) -> Result<Response<HandleStripeWebhookResponse>, Status> {
        let request = request.into_inner();
        if request.payload.len() > MAX_PAYLOAD {
            return Err(BillingError::invalid("payload", "larger than 1 MiB").into());
        }
        // Credentials never go into the stored delivery, whatever the edge forwarded.
        let headers: BTreeMap<String, String> = request
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .filter(|(name, _)| name != "authorization" && name != "cookie")
            .collect();
        let delivery = Delivery {
            payload: request.payload,
            signature: request.stripe_signature,
            headers,
            connect: request.connect,
        };
        let (event, result) = self.service.inbox.ingest(delivery).await?;
        tracing::info!(stripe.event_id = %event.id, event_type = %event.kind, outcome = result.as_str(),
            "stripe webhook");
        Ok(Response::new(HandleStripeWebhookResponse {
            event_id: event.id,
            event_type: event.kind,
            outcome: outcome(result) as i32,
        }))
    }

    async fn replay_stripe_event(
        &self,
        request: Request<ReplayStripeEventRequest>,
    ) -> Result<Response<ReplayStripeEventResponse>, Status> {
        let request = request.into_inner();
        let user = tenant::user_of(request.caller.as_ref())?;
        if !request.event_id.starts_with("evt_") {
            return Err(BillingError::invalid("event_id", "must start with evt_").into());
        }
        let (row, result) = self
            .service
            .replay_stripe_event(user, &request.event_id)
            .await?;
        Ok(Response::new(ReplayStripeEventResponse {
            event: Some(stored_event(row)),
            outcome: outcome(result) as i32,
        }))
    }

    async fn get_entitlement(
        &self,
        request: Request<GetEntitlementRequest>,
    ) -> Result<Response<GetEntitlementResponse>, Status> {
        let tenant = tenant_id(&request.into_inner().tenant_id, "tenant_id")?;
        let row = self.service.entitlement(tenant).await?;
        Ok(Response::new(GetEntitlementResponse {
            entitlement: Some(entitlement(tenant, row)),
        }))
    }
}
