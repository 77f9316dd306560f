//! Catalog RPCs: the public plan list (anyone), the operators' catalog read and write. Plans are
//! converted in `super::plans`; the operator check is `crate::service::operations`'.

use onramp_proto::billing::v1::{
    BillingProvider, GetPlanCatalogRequest, GetPlanCatalogResponse, ListPublicPlansRequest,
    ListPublicPlansResponse, PutPlanCatalogRequest, PutPlanCatalogResponse,
};

use super::{BillingApi, plans, tenant::user_of};
use crate::{config::ProviderKind, error::BillingError, service};

/// How long browsers and CDNs may cache the public plan list.
const PUBLIC_PLANS_MAX_AGE: u32 = 300;

impl BillingApi {
    pub(super) async fn public_plans(
        &self,
        _request: ListPublicPlansRequest,
    ) -> Result<ListPublicPlansResponse, BillingError> {
        let (plans, _) = service::catalog::load(self.service.pool()).await?;
        let provider = match self.service.provider {
            ProviderKind::Stripe => BillingProvider::Stripe,
            ProviderKind::Manual => BillingProvider::Manual,
        };
        Ok(ListPublicPlansResponse {
            plans: plans
                .iter()
                .filter(|plan| plan.public && !plan.archived)
                .map(|plan| plans::plan_message(plan, false))
                .collect(),
            provider: provider as i32,
            cache_max_age_seconds: PUBLIC_PLANS_MAX_AGE,
        })
    }

    pub(super) async fn catalog(
        &self,
        request: GetPlanCatalogRequest,
    ) -> Result<GetPlanCatalogResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
        let (plans, version) = self.service.plan_catalog(user).await?;
        Ok(GetPlanCatalogResponse {
            plans: plans
                .iter()
                .map(|plan| plans::plan_message(plan, true))
                .collect(),
            version,
        })
    }

    pub(super) async fn put_catalog(
        &self,
        request: PutPlanCatalogRequest,
    ) -> Result<PutPlanCatalogResponse, BillingError> {
        let user = user_of(request.caller.as_ref())?;
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
