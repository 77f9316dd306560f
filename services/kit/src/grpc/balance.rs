//! Client-side balancing over several replicas that follows their gRPC health.
//!
//! Replicas come from a fixed list or from DNS (a Kubernetes headless Service resolves to one
//! address per ready pod; it is re-resolved every few seconds).
//!
//! Each replica's `grpc.health.v1.Health/Check` is polled; it receives calls only while it reports
//! SERVING. A replica that starts draining (NOT_SERVING for its drain period before it closes) is
//! taken out of rotation before it stops, so no new call lands on it. Polling with unary calls,
//! rather than holding a `Watch` stream open, never keeps a draining server from finishing.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    time::Duration,
};

use tokio::sync::mpsc::Sender;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint, channel::Change};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How often each replica's health is asked; well inside any drain period.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How long one health answer may take before the replica counts as unhealthy.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// How often a DNS name is resolved again to find replicas that came or went.
const DNS_REFRESH: Duration = Duration::from_secs(5);

type Changes = Sender<Change<String, Endpoint>>;

/// A channel balancing over `endpoints`, each admitted only while its health says SERVING.
pub(crate) fn health_balanced(endpoints: Vec<Endpoint>) -> Channel {
    let (channel, changes) = Channel::balance_channel::<String>(endpoints.len() * 2);
    for endpoint in endpoints {
        let key = endpoint.uri().to_string();
        tokio::spawn(follow_health(
            key,
            endpoint,
            changes.clone(),
            CancellationToken::new(),
        ));
    }
    channel
}

/// A channel balancing over every address `host` resolves to (re-resolved every few seconds),
/// each admitted only while its health says SERVING.
pub(crate) fn dns_balanced(host: String, port: u16) -> Channel {
    let (channel, changes) = Channel::balance_channel::<String>(64);
    tokio::spawn(follow_dns(host, port, changes));
    channel
}

async fn follow_dns(host: String, port: u16, changes: Changes) {
    let mut followers: HashMap<SocketAddr, CancellationToken> = HashMap::new();
    while !changes.is_closed() {
        match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(resolved) => {
                let current: HashSet<SocketAddr> = resolved.collect();
                followers.retain(|addr, stop| {
                    let keep = current.contains(addr);
                    if !keep {
                        stop.cancel();
                    }
                    keep
                });
                for addr in current {
                    followers.entry(addr).or_insert_with(|| {
                        let stop = CancellationToken::new();
                        let uri = format!("http://{addr}");
                        if let Ok(endpoint) = super::client::endpoint(&uri) {
                            tokio::spawn(follow_health(
                                uri,
                                endpoint,
                                changes.clone(),
                                stop.clone(),
                            ));
                        }
                        stop
                    });
                }
            }
            // Keep the replicas we know; a resolver hiccup is not a reason to drop them.
            Err(error) => tracing::warn!(%host, %error, "resolving replicas failed"),
        }
        tokio::time::sleep(DNS_REFRESH).await;
    }
    followers.values().for_each(CancellationToken::cancel);
}

/// Keeps one replica's membership in step with its health; ends (removing it) when `stop` fires or
/// the balanced channel is dropped.
async fn follow_health(key: String, endpoint: Endpoint, changes: Changes, stop: CancellationToken) {
    let mut health = HealthClient::new(endpoint.connect_lazy());
    let mut admitted = false;
    loop {
        if stop.is_cancelled() {
            if admitted {
                let _ = changes.send(Change::Remove(key)).await;
            }
            return;
        }
        let serving = is_serving(&mut health).await;
        if serving != admitted {
            let change = if serving {
                Change::Insert(key.clone(), endpoint.clone())
            } else {
                Change::Remove(key.clone())
            };
            if changes.send(change).await.is_err() {
                return;
            }
            admitted = serving;
        }
        if changes.is_closed() {
            return;
        }
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

async fn is_serving(health: &mut HealthClient<Channel>) -> bool {
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    request.set_timeout(CHECK_TIMEOUT);
    match tokio::time::timeout(CHECK_TIMEOUT, health.check(request)).await {
        Ok(Ok(response)) => response.into_inner().status() == ServingStatus::Serving,
        _ => false,
    }
}
