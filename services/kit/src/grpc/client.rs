//! Outgoing calls: channels, and an interceptor that stamps every request with trace context and a
//! deadline.
//!
//! tonic's `Endpoint::timeout` only limits the client side and sends nothing to the server, so the
//! interceptor sets `grpc-timeout` itself from the caller's remaining [`Deadline`].

use std::time::Duration;

use tonic::{
    Request, Status,
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

use crate::{
    deadline::Deadline,
    grpc::{peer_failure::PeerFailures, trace_context},
};

/// A channel whose every request carries trace context and a deadline, and whose transport
/// failures (a peer that died mid-call) arrive as `UNAVAILABLE` ([`PeerFailures`]).
pub type TracedChannel = InterceptedService<PeerFailures<Channel>, OutgoingContext>;

/// How long a call made outside any request scope (jobs, startup) may take.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates a lazily connecting channel to `addr` (`http://host:port`); connection errors surface
/// as `UNAVAILABLE` on the first call, so a peer that starts later is fine.
///
/// `addr` may list several replicas separated by commas, or be `dns://host:port` (every address the
/// name resolves to, e.g. a Kubernetes headless Service); calls are then balanced over them
/// (power of two choices) among the replicas whose gRPC health says SERVING, so a draining
/// replica stops receiving new calls before it closes.
pub fn channel(addr: &str) -> Result<Channel, tonic::transport::Error> {
    if let Some((host, port)) = dns_target(addr) {
        return Ok(super::balance::dns_balanced(host, port));
    }
    let endpoints = addr
        .split(',')
        .map(str::trim)
        .filter(|one| !one.is_empty())
        .map(endpoint)
        .collect::<Result<Vec<_>, _>>()?;
    match endpoints.as_slice() {
        // An empty address is reported by the parser rather than becoming a channel to nowhere.
        [] => Ok(endpoint(addr)?.connect_lazy()),
        [one] => Ok(one.connect_lazy()),
        _ => Ok(super::balance::health_balanced(endpoints)),
    }
}

/// `dns://host:port` (or `dns:///host:port`, the gRPC name syntax) → the host and port to resolve.
fn dns_target(addr: &str) -> Option<(String, u16)> {
    let rest = addr.strip_prefix("dns://")?.trim_start_matches('/');
    let (host, port) = rest.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?))
}

pub(crate) fn endpoint(addr: &str) -> Result<Endpoint, tonic::transport::Error> {
    Ok(Endpoint::from_shared(addr.to_owned())?
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30)))
}

/// Wraps a channel so every call gets trace context and a deadline, and transport failures are
/// `UNAVAILABLE`.
pub fn traced(channel: Channel) -> TracedChannel {
    InterceptedService::new(PeerFailures::new(channel), OutgoingContext)
}

/// Interceptor that injects `traceparent` and sets `grpc-timeout` from the ambient deadline.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutgoingContext;

impl Interceptor for OutgoingContext {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        trace_context::inject_current(request.metadata_mut());
        let budget = match Deadline::current() {
            Some(deadline) if deadline.is_expired() => {
                return Err(Status::deadline_exceeded(
                    "the caller's deadline has passed",
                ));
            }
            Some(deadline) => deadline.remaining(),
            None => DEFAULT_CALL_TIMEOUT,
        };
        // An explicit, shorter timeout set by the caller wins over the ambient budget.
        let explicit = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(crate::deadline::parse_grpc_timeout);
        request.set_timeout(explicit.map_or(budget, |explicit| explicit.min(budget)));
        Ok(request)
    }
}
