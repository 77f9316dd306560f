//! One lazily connecting, traced channel per downstream service, and the clients built on it.

use onramp_kit::grpc::client::{self, TracedChannel};
use onramp_proto::billing::v1::billing_service_client::BillingServiceClient;
use onramp_proto::common::v1::service_info_client::ServiceInfoClient;
use onramp_proto::identity::v1::identity_service_client::IdentityServiceClient;
use onramp_proto::onboarding::v1::onboarding_service_client::OnboardingServiceClient;
use onramp_proto::tenancy::v1::tenancy_service_client::TenancyServiceClient;
use tonic_health::pb::health_client::HealthClient;

use crate::config::Config;

/// A downstream service: its name and its channel.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// The bounded context's name, as `/readyz` reports it.
    pub(crate) name: &'static str,
    channel: TracedChannel,
}

impl Peer {
    pub(crate) fn health(&self) -> HealthClient<TracedChannel> {
        HealthClient::new(self.channel.clone())
    }

    pub(crate) fn info(&self) -> ServiceInfoClient<TracedChannel> {
        ServiceInfoClient::new(self.channel.clone())
    }
}

/// Every downstream service, in a fixed order.
#[derive(Debug, Clone)]
pub(crate) struct Peers {
    pub(crate) all: [Peer; 4],
}

impl Peers {
    /// The identity service's client.
    pub(crate) fn identity(&self) -> IdentityServiceClient<TracedChannel> {
        IdentityServiceClient::new(self.all[0].channel.clone())
    }

    pub(crate) fn connect(config: &Config) -> anyhow::Result<Self> {
        let peer = |name, addr: &str| -> anyhow::Result<Peer> {
            Ok(Peer {
                name,
                channel: client::traced(client::channel(addr)?),
            })
        };
        Ok(Self {
            all: [
                peer("identity", &config.identity_service_addr)?,
                peer(
                    "tenant-provisioning",
                    &config.tenant_provisioning_service_addr,
                )?,
                peer("billing", &config.billing_service_addr)?,
                peer("onboarding", &config.onboarding_service_addr)?,
            ],
        })
    }
}

impl Peers {
    /// The tenant-provisioning service (second in `all`).
    pub(crate) fn tenancy(&self) -> TenancyServiceClient<TracedChannel> {
        TenancyServiceClient::new(self.all[1].channel.clone())
    }

    /// The onboarding service's client.
    pub(crate) fn onboarding(&self) -> OnboardingServiceClient<TracedChannel> {
        OnboardingServiceClient::new(self.all[3].channel.clone())
    }

    /// The billing service's client.
    pub(crate) fn billing(&self) -> BillingServiceClient<TracedChannel> {
        BillingServiceClient::new(self.all[2].channel.clone())
    }
}
