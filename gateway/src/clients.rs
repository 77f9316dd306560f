//! One lazily connecting, traced channel per downstream service, and the clients built on it.

use onramp_kit::grpc::client::{self, TracedChannel};
use onramp_proto::billing::v1::billing_service_client::BillingServiceClient;
use onramp_proto::common::v1::service_info_client::ServiceInfoClient;
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
    /// The billing service's client.
    pub(crate) fn billing(&self) -> BillingServiceClient<TracedChannel> {
        BillingServiceClient::new(self.all[2].channel.clone())
    }
}
