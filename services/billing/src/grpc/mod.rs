//! The gRPC surface of the billing service: proto <-> domain only. Each RPC is one `BillingApi`
//! method in the module of its area (message in, `Result<message, BillingError>` out); this module
//! wires them to `onramp.billing.v1.BillingService` and answers their errors through the table.

mod catalog;
mod convert;
mod operations;
mod payments;
mod plans;
mod summary;
mod tenant;
mod webhooks;

use onramp_proto::billing::v1::{
    CheckEntitlementRequest, CheckEntitlementResponse, CreateCheckoutSessionRequest,
    CreateCheckoutSessionResponse, CreatePortalSessionRequest, CreatePortalSessionResponse,
    EnsureEntitlementRequest, EnsureEntitlementResponse, GetEntitlementRequest,
    GetEntitlementResponse, GetLimitRequest, GetLimitResponse, GetPlanCatalogRequest,
    GetPlanCatalogResponse, GetSubscriptionSummaryRequest, GetSubscriptionSummaryResponse,
    GetUsageRequest, GetUsageResponse, GrantComplimentaryRequest, GrantComplimentaryResponse,
    HandleStripeWebhookRequest, HandleStripeWebhookResponse, ListPublicPlansRequest,
    ListPublicPlansResponse, ListStripeEventsRequest, ListStripeEventsResponse,
    PutPlanCatalogRequest, PutPlanCatalogResponse, ReconcileWithStripeRequest,
    ReconcileWithStripeResponse, RecordUsageRequest, RecordUsageResponse, ReplayStripeEventRequest,
    ReplayStripeEventResponse, StartPlanWithoutCardRequest, StartPlanWithoutCardResponse,
    SyncStripePricesRequest, SyncStripePricesResponse, billing_service_server::BillingService,
};
use tonic::{Request, Response, Status};

use crate::service::Billing;

pub(crate) use convert::{entitlement, outcome, stored_event, tenant_id, timestamp};

/// Implements `onramp.billing.v1.BillingService`.
#[derive(Debug, Clone)]
pub(crate) struct BillingApi {
    pub(crate) service: Billing,
}

/// Implements `BillingService` with each `rpc` answered by `BillingApi::method`: the request's
/// message in, the response's message (or a `BillingError`, encoded through the table) out.
macro_rules! billing_service {
    ($( $rpc:ident($request:ty) -> $response:ty = $method:ident; )*) => {
        #[tonic::async_trait]
        impl BillingService for BillingApi {
            $(
                async fn $rpc(
                    &self,
                    request: Request<$request>,
                ) -> Result<Response<$response>, Status> {
                    Ok(Response::new(self.$method(request.into_inner()).await?))
                }
            )*
        }
    };
}

billing_service! {
    list_public_plans(ListPublicPlansRequest) -> ListPublicPlansResponse = public_plans;
    get_plan_catalog(GetPlanCatalogRequest) -> GetPlanCatalogResponse = catalog;
    put_plan_catalog(PutPlanCatalogRequest) -> PutPlanCatalogResponse = put_catalog;
    create_checkout_session(CreateCheckoutSessionRequest) -> CreateCheckoutSessionResponse = create_checkout;
    create_portal_session(CreatePortalSessionRequest) -> CreatePortalSessionResponse = create_portal;
    sync_stripe_prices(SyncStripePricesRequest) -> SyncStripePricesResponse = sync_prices;
    list_stripe_events(ListStripeEventsRequest) -> ListStripeEventsResponse = list_events;
    reconcile_with_stripe(ReconcileWithStripeRequest) -> ReconcileWithStripeResponse = reconcile;
    handle_stripe_webhook(HandleStripeWebhookRequest) -> HandleStripeWebhookResponse = webhook;
    replay_stripe_event(ReplayStripeEventRequest) -> ReplayStripeEventResponse = replay;
    get_entitlement(GetEntitlementRequest) -> GetEntitlementResponse = entitlement_of;
    ensure_entitlement(EnsureEntitlementRequest) -> EnsureEntitlementResponse = ensure;
    start_plan_without_card(StartPlanWithoutCardRequest) -> StartPlanWithoutCardResponse = start_without_card;
    grant_complimentary(GrantComplimentaryRequest) -> GrantComplimentaryResponse = grant;
    get_subscription_summary(GetSubscriptionSummaryRequest) -> GetSubscriptionSummaryResponse = subscription_summary;
    check_entitlement(CheckEntitlementRequest) -> CheckEntitlementResponse = check;
    get_limit(GetLimitRequest) -> GetLimitResponse = limit;
    record_usage(RecordUsageRequest) -> RecordUsageResponse = usage_change;
    get_usage(GetUsageRequest) -> GetUsageResponse = usage;
}
