//! Gateways started beside a stack (a second replica, one reaching a peer through a proxy) or with no
//! stack at all, for what the edge decides on its own.

use std::net::{Ipv4Addr, SocketAddr};

use tokio_util::sync::CancellationToken;

use super::TestStack;

/// Starts a gateway in front of `peers` (in `onramp_stack::SERVICES` order), configured by
/// `adjust`; its URL and the token that stops it.
pub(crate) async fn start_gateway(
    peers: [String; 4],
    adjust: impl FnOnce(&mut onramp_gateway::Config),
) -> (String, CancellationToken) {
    let mut config = onramp_gateway::Config::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), peers);
    adjust(&mut config);
    let gateway = onramp_gateway::Application::build(config)
        .await
        .expect("gateway");
    let url = format!("http://{}", gateway.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    tokio::spawn(gateway.run_until_stopped(stop.clone()));
    (url, stop)
}

/// A gateway alone, its peers unreachable: for what the edge decides before any RPC.
pub(crate) async fn lone_gateway(
    adjust: impl FnOnce(&mut onramp_gateway::Config),
) -> (String, CancellationToken) {
    start_gateway(["http://127.0.0.1:1"; 4].map(str::to_owned), adjust).await
}

impl TestStack {
    /// The URL of the running service `name`.
    pub(crate) fn service_url(&self, name: &str) -> String {
        format!(
            "http://{}",
            self.stack.service_addr(name).expect("service running")
        )
    }

    /// A second gateway in front of the same services, configured by `adjust`.
    pub(crate) async fn second_gateway(
        &self,
        adjust: impl FnOnce(&mut onramp_gateway::Config),
    ) -> (String, CancellationToken) {
        start_gateway(
            onramp_stack::SERVICES.map(|name| self.service_url(name)),
            adjust,
        )
        .await
    }
}
