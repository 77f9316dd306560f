//! `http_server_request_duration_seconds{http_route, http_request_method, http_response_status_code}`
//! for an axum router: apply [`track`] with `Router::layer(axum::middleware::from_fn(track))`, or
//! start a [`RequestTimer`] in a layer of your own; either way it must run after routing
//! (`Router::layer`), so the route *template* (`/v1/tenants/{id}`) is known; the raw path never
//! becomes a label. Requests no route matched share the route `unmatched`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use http::StatusCode;

/// The route label of requests that matched no route (a 404 from the fallback, a scanner's probe).
pub const UNMATCHED: &str = "unmatched";

/// Times one request, from its arrival at this layer to its response head.
pub async fn track(request: Request, next: Next) -> Response {
    let timer = RequestTimer::start(&request);
    let response = next.run(request).await;
    timer.finish(response.status());
    response
}

/// One request's duration, started when it arrives and recorded with its status when it is answered.
#[derive(Debug)]
pub struct RequestTimer {
    started: Instant,
    route: String,
    method: &'static str,
}

impl RequestTimer {
    /// Starts timing `request` (after routing, so its route template is known).
    pub fn start<B>(request: &http::Request<B>) -> Self {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str);
        Self {
            started: Instant::now(),
            route: route.to_owned(),
            method: super::method_label(request.method()),
        }
    }

    /// Records the duration so far, labelled with the answer's `status`.
    pub fn finish(self, status: StatusCode) {
        metrics::histogram!(
            "http_server_request_duration_seconds",
            "http_route" => self.route,
            "http_request_method" => self.method,
            "http_response_status_code" => status_label(status),
        )
        .record(self.started.elapsed().as_secs_f64());
    }
}

/// The status as a label: the common ones without formatting (a label is built on every request).
fn status_label(status: StatusCode) -> metrics::SharedString {
    let fixed = match status.as_u16() {
        200 => "200",
        201 => "201",
        204 => "204",
        301 => "301",
        302 => "302",
        303 => "303",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        other => return other.to_string().into(),
    };
    fixed.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_label_is_its_three_digits() {
        for code in [200, 201, 299, 404, 418, 429, 503, 504, 599] {
            let status = StatusCode::from_u16(code).expect("a status");
            assert_eq!(&*status_label(status), code.to_string());
        }
    }
}
