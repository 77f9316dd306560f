//! One lazily connecting, traced channel per downstream service, and the clients built on it.

use onramp_kit::grpc::client::{self, TracedChannel};
use onramp_kit::retry::RetryPolicy;
use onramp_proto::billing::v1::billing_service_client::BillingServiceClient;
use onramp_proto::common::v1::service_info_client::ServiceInfoClient;
use onramp_proto::events::v1::product_events_service_client::ProductEventsServiceClient;
use onramp_proto::identity::v1::identity_service_client::IdentityServiceClient;
use onramp_proto::onboarding::v1::onboarding_service_client::OnboardingServiceClient;
use onramp_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use tonic_health::pb::health_client::HealthClient;

use crate::config::Config;

/// A downstream service: its name, its channel and its retry budget.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// The bounded context's name, as `/readyz` reports it.
    pub(crate) name: &'static str,
    channel: TracedChannel,
    /// The budget of this peer's idempotent calls: its own, so that calls to healthy peers never
    /// pay for retries to a sick one (which would then see far more than 1.1× its calls).
    pub(crate) retry: RetryPolicy,
}

impl Peer {
    fn connect(name: &'static str, addr: &str) -> anyhow::Result<Self> {
        let channel = client::traced(client::channel(addr)?);
        Ok(Self {
            name,
            channel,
            retry: RetryPolicy::default(),
        })
    }

    pub(crate) fn health(&self) -> HealthClient<TracedChannel> {
        HealthClient::new(self.channel.clone())
    }

    pub(crate) fn info(&self) -> ServiceInfoClient<TracedChannel> {
        ServiceInfoClient::new(self.channel.clone())
    }

    pub(crate) fn events(&self) -> ProductEventsServiceClient<TracedChannel> {
        ProductEventsServiceClient::new(self.channel.clone())
    }
}

/// Every downstream service, by name.
#[derive(Debug, Clone)]
pub(crate) struct Peers {
    identity: Peer,
    tenancy: Peer,
    billing: Peer,
    onboarding: Peer,
}

impl Peers {
    pub(crate) fn connect(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            identity: Peer::connect("identity", &config.identity_service_addr)?,
            tenancy: Peer::connect(
                "tenant-provisioning",
                &config.tenant_provisioning_service_addr,
            )?,
            billing: Peer::connect("billing", &config.billing_service_addr)?,
            onboarding: Peer::connect("onboarding", &config.onboarding_service_addr)?,
        })
    }

    /// Every peer, in the order `/v1/status` lists them.
    pub(crate) fn all(&self) -> [&Peer; 4] {
        [
            &self.identity,
            &self.tenancy,
            &self.billing,
            &self.onboarding,
        ]
    }

    /// Billing, then every other peer: billing decides who is an operator before the others are
    /// asked anything (the admin funnel).
    pub(crate) fn billing_first(&self) -> (&Peer, [&Peer; 3]) {
        let others = [&self.identity, &self.tenancy, &self.onboarding];
        (&self.billing, others)
    }

    pub(crate) fn identity(&self) -> IdentityServiceClient<TracedChannel> {
        IdentityServiceClient::new(self.identity.channel.clone())
    }

    pub(crate) fn tenancy(&self) -> TenancyServiceClient<TracedChannel> {
        TenancyServiceClient::new(self.tenancy.channel.clone())
    }

    pub(crate) fn billing(&self) -> BillingServiceClient<TracedChannel> {
        BillingServiceClient::new(self.billing.channel.clone())
    }

    pub(crate) fn onboarding(&self) -> OnboardingServiceClient<TracedChannel> {
        OnboardingServiceClient::new(self.onboarding.channel.clone())
    }
}
