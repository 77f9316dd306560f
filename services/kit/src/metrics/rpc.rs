//! `rpc_server_duration_seconds{rpc_service, rpc_method, rpc_grpc_status_code}`: a server-side
//! tower layer timing every call from its request to its `grpc-status`.
//!
//! A unary call's status usually travels in the trailers, after the body, so the clock stops when
//! the response body is done: at the trailers, or when the body is dropped (a client that went away
//! before them counts as CANCELLED). An error answered before any body ("trailers-only") carries
//! its status in the headers.

use std::time::Instant;

use http_body_util::BodyExt as _;
use tower::Service;

use crate::grpc::per_call::{CallFuture, PerCallLayer, WrapCall};

/// gRPC's CANCELLED: the body ended without a status (the client reset the stream).
const CANCELLED: u16 = 1;
/// gRPC's UNKNOWN: the server failed below gRPC (a transport error).
const UNKNOWN: u16 = 2;
/// gRPC's UNIMPLEMENTED: also what an unknown service or method gets.
const UNIMPLEMENTED: u16 = 12;

/// Records [`rpc_server_duration_seconds`](self) for every call but health checks and reflection.
pub type RpcMetricsLayer = PerCallLayer<RpcTiming>;

/// How a [`RpcMetricsLayer`] times each call.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpcTiming;

impl<S, B> WrapCall<S, B> for RpcTiming
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Send + 'static,
    S::Future: Send + 'static,
{
    fn wrap(&self, mut inner: S, request: http::Request<B>) -> CallFuture<S::Response, S::Error> {
        let timer = CallTimer::for_path(request.uri().path());
        let call = inner.call(request);
        Box::pin(async move {
            let outcome = call.await;
            let Some(mut timer) = timer else {
                return outcome;
            };
            match outcome {
                Ok(response) => {
                    if let Some(code) = status_code(response.headers()) {
                        timer.finish(code);
                        return Ok(response);
                    }
                    let (parts, body) = response.into_parts();
                    let body = body.inspect_frame(move |frame| {
                        if let Some(code) = frame.trailers_ref().and_then(status_code) {
                            timer.finish(code);
                        }
                    });
                    Ok(http::Response::from_parts(
                        parts,
                        tonic::body::Body::new(body),
                    ))
                }
                Err(error) => {
                    timer.finish(UNKNOWN);
                    Err(error)
                }
            }
        })
    }
}

/// Times one call; records once, at [`CallTimer::finish`] or, failing that, when dropped.
struct CallTimer {
    started: Instant,
    service: String,
    method: String,
    recorded: bool,
}

impl CallTimer {
    /// A timer for a call to `/package.Service/Method`; none for probes and reflection, whose
    /// Watch streams live as long as a connection and would drown every latency in the histogram.
    fn for_path(path: &str) -> Option<Self> {
        let (service, method) = split_path(path);
        if service.starts_with("grpc.health.") || service.starts_with("grpc.reflection.") {
            return None;
        }
        Some(Self {
            started: Instant::now(),
            service: service.to_owned(),
            method: method.to_owned(),
            recorded: false,
        })
    }

    fn finish(&mut self, code: u16) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        // An unknown path answers UNIMPLEMENTED; its made-up names must not become series.
        let (service, method) = if code == UNIMPLEMENTED {
            ("unknown".to_owned(), "unknown".to_owned())
        } else {
            (
                std::mem::take(&mut self.service),
                std::mem::take(&mut self.method),
            )
        };
        metrics::histogram!(
            "rpc_server_duration_seconds",
            "rpc_service" => service,
            "rpc_method" => method,
            "rpc_grpc_status_code" => code.to_string(),
        )
        .record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for CallTimer {
    fn drop(&mut self) {
        self.finish(CANCELLED);
    }
}

/// `/package.Service/Method` as (`package.Service`, `Method`); anything else as (`unknown`, `unknown`).
fn split_path(path: &str) -> (&str, &str) {
    match path.trim_start_matches('/').split_once('/') {
        Some((service, method)) if !service.is_empty() && !method.is_empty() => (service, method),
        _ => ("unknown", "unknown"),
    }
}

/// The `grpc-status` in `headers` (response headers or trailers), if there is a valid one.
fn status_code(headers: &http::HeaderMap) -> Option<u16> {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .filter(|code| *code <= 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            split_path("/onramp.identity.v1.IdentityService/Login"),
            ("onramp.identity.v1.IdentityService", "Login")
        );
        assert_eq!(split_path("/nonsense"), ("unknown", "unknown"));
        assert_eq!(split_path("/"), ("unknown", "unknown"));
    }

    #[test]
    fn probes_and_reflection_are_not_timed() {
        assert!(CallTimer::for_path("/grpc.health.v1.Health/Watch").is_none());
        assert!(
            CallTimer::for_path("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
                .is_none()
        );
        assert!(CallTimer::for_path("/onramp.billing.v1.BillingService/GetAccount").is_some());
    }

    #[test]
    fn a_status_is_read_only_when_valid() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(status_code(&headers), None);
        headers.insert("grpc-status", http::HeaderValue::from_static("5"));
        assert_eq!(status_code(&headers), Some(5));
        headers.insert("grpc-status", http::HeaderValue::from_static("99"));
        assert_eq!(status_code(&headers), None);
    }
}
