//! Client-side balancing over several replicas that follows their gRPC health.
//!
//! Each replica's `grpc.health.v1.Health/Check` is polled; it receives calls only while it reports
//! SERVING. A replica that starts draining (NOT_SERVING for its drain period before it closes) is
//! taken out of rotation before it stops, so no new call lands on it. Polling with unary calls,
//! rather than holding a `Watch` stream open, never keeps a draining server from finishing.

use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tonic::transport::{Channel, Endpoint, channel::Change};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How often each replica's health is asked; well inside any drain period.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How long one health answer may take before the replica counts as unhealthy.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// A channel balancing over `endpoints`, each admitted only while its health says SERVING.
pub(crate) fn health_balanced(endpoints: Vec<Endpoint>) -> Channel {
    let (channel, changes) = Channel::balance_channel::<usize>(endpoints.len() * 2);
    for (key, endpoint) in endpoints.into_iter().enumerate() {
        tokio::spawn(follow_health(key, endpoint, changes.clone()));
    }
    channel
}

/// Keeps one replica's membership in step with its health; ends when the balanced channel is dropped.
async fn follow_health(key: usize, endpoint: Endpoint, changes: Sender<Change<usize, Endpoint>>) {
    let mut health = HealthClient::new(endpoint.connect_lazy());
    let mut admitted = false;
    loop {
        let serving = is_serving(&mut health).await;
        if serving != admitted {
            let change = if serving {
                Change::Insert(key, endpoint.clone())
            } else {
                Change::Remove(key)
            };
            if changes.send(change).await.is_err() {
                return;
            }
            admitted = serving;
        }
        if changes.is_closed() {
            return;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
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
