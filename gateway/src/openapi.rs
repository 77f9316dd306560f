//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! attributes and served at `GET /openapi.json`.
//!
//! Handlers declare what is theirs: path, parameters, bodies, success responses and the error
//! statuses they can answer. What is the same everywhere is added here, once, from the one error
//! table (`onramp_kit::Code`): every error status becomes `application/problem+json` whose `reason`
//! is limited to the reasons the table maps to that status; every operation gets the trace headers,
//! the statuses any RPC can produce (500, 503, 504), and, when it needs a signed-in user, 401/403.
//!
//! The committed copy is `gateway/openapi.json`; a test fails when it differs from the code's
//! document (`gateway/tests/edge/openapi.rs`). Regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p onramp-gateway openapi`.

use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use onramp_kit::Code;
use serde_json::{Map, Value, json};

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    serde_json::to_string_pretty(&document()).unwrap_or_else(|_| String::from("{}"))
});

/// `GET /openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "get_openapi",
    responses((status = 200, description = "This OpenAPI 3.1 document", body = Object))
)]
pub(crate) async fn serve() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT.as_str(),
    )
        .into_response()
}

/// The whole document: the handlers' paths, then the shared parts.
fn document() -> Value {
    let mut doc = serde_json::to_value(crate::routes::api_doc()).unwrap_or_default();
    doc["info"] = json!({
        "title": "Onramp API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "The HTTP API of Onramp's gateway. JSON uses snake_case; every error is RFC 9457 \
            `application/problem+json` whose `reason` is a stable machine-readable code. Signed-in \
            routes take `Authorization: Bearer <access_token>` (from /v1/auth/login). Send a W3C \
            `traceparent` to join your trace; every response carries `x-request-id`.",
        "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
    });
    let components = doc["components"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    doc["components"] = Value::Object(components);
    doc["components"]["securitySchemes"] = json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from /v1/auth/login, /v1/auth/refresh or an OAuth callback.",
        }
    });
    doc["components"]["schemas"]["Problem"] = problem_schema();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (_, operation) in item.iter_mut() {
                finish_operation(path, operation);
            }
        }
    }
    doc
}

/// The JSON Schema format of a path or query parameter the services parse strictly (answering 400
/// naming it otherwise), by its name; body fields say theirs in `#[schema(format = ...)]`.
fn input_format(name: &str) -> Option<&'static str> {
    match name {
        "tenant_id" | "user_id" | "invite_id" => Some("uuid"),
        "email" => Some("email"),
        _ => None,
    }
}

/// RFC 9457 problem details as this API answers them.
fn problem_schema() -> Value {
    let reasons: Vec<&str> = Code::ALL.iter().map(|code| code.reason()).collect();
    json!({
        "type": "object",
        "description": "RFC 9457 problem details: the one error shape of the API.",
        "required": ["type", "title", "status", "detail", "reason"],
        "properties": {
            "type": { "type": "string", "description": "A URI naming the problem type, stable per reason." },
            "title": { "type": "string" },
            "status": { "type": "integer", "description": "The HTTP status, repeated." },
            "detail": { "type": "string", "description": "What went wrong, for a person." },
            "reason": { "type": "string", "enum": reasons, "description": "The machine-readable reason from the error table." },
            "field": { "type": "string", "description": "The request field at fault, for validation errors." },
            "trace_id": { "type": "string", "description": "The trace to quote when reporting the problem." },
        },
    })
}

/// Reasons the error table answers with this HTTP status.
fn reasons_for(status: u16) -> Vec<&'static str> {
    Code::ALL
        .iter()
        .filter(|code| code.http_status() == status)
        .map(|code| code.reason())
        .collect()
}

fn header_param(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "header",
        "required": false,
        "description": description,
        "schema": { "type": "string" },
    })
}

/// Adds the shared parameters, error statuses and headers to one operation.
fn finish_operation(path: &str, operation: &mut Value) {
    let Some(op) = operation.as_object_mut() else {
        return;
    };
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|list| !list.is_empty());
    let has_body = op.contains_key("requestBody");
    let takes_input = has_body
        || op
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|p| p["in"] != "header"));
    let parameters = op
        .entry("parameters")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(parameters) = parameters.as_array_mut() {
        for parameter in parameters.iter_mut() {
            if let Some(format) = parameter["name"].as_str().and_then(input_format) {
                parameter["schema"]["format"] = json!(format);
            }
        }
        parameters.push(header_param(
            "traceparent",
            "W3C trace context; the request joins this trace across every service.",
        ));
        parameters.push(header_param(
            "x-request-id",
            "A request id to correlate logs; one is made when absent, and echoed back.",
        ));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    let probe = path == "/healthz" || path == "/openapi.json";
    let mut implied: Vec<u16> = Vec::new();
    if !probe {
        // Any RPC can fail or time out; the edge's global rate limit covers every API route.
        implied.extend([429, 500, 503, 504]);
    }
    if takes_input {
        implied.push(400);
    }
    if has_body {
        // The edge's body checks: size and media type.
        implied.extend([413, 415]);
    }
    if secured {
        implied.extend([401, 403]);
    }
    for status in implied {
        responses
            .entry(status.to_string())
            .or_insert_with(|| json!({ "description": "" }));
    }
    for (status, response) in responses.iter_mut() {
        let Ok(status) = status.parse::<u16>() else {
            continue;
        };
        let headers = response
            .as_object_mut()
            .map(|r| r.entry("headers").or_insert_with(|| json!({})));
        if let Some(headers) = headers.and_then(Value::as_object_mut) {
            headers.insert(
                "x-request-id".into(),
                json!({ "description": "The request's id (the caller's, or a new UUID).", "schema": { "type": "string" } }),
            );
            if matches!(status, 402 | 429 | 503 | 504) {
                headers.insert(
                    "Retry-After".into(),
                    json!({ "description": "Seconds to wait before retrying.", "schema": { "type": "integer", "minimum": 0 } }),
                );
            }
        }
        if status >= 400 {
            problem_response(status, response);
        }
    }
}

/// Makes an error response problem+json limited to the status's reasons, and lists them.
fn problem_response(status: u16, response: &mut Value) {
    let reasons = reasons_for(status);
    let described = response["description"].as_str().unwrap_or_default().trim();
    let listed = if reasons.is_empty() {
        String::from("problem+json")
    } else {
        format!("reason: {}", reasons.join(", "))
    };
    response["description"] = Value::String(if described.is_empty() {
        listed
    } else {
        format!("{described} ({listed})")
    });
    let mut narrowed = json!({ "status": { "const": status } });
    if !reasons.is_empty() {
        narrowed["reason"] = json!({ "enum": reasons });
    }
    response["content"] = json!({
        "application/problem+json": {
            "schema": {
                "allOf": [
                    { "$ref": "#/components/schemas/Problem" },
                    { "type": "object", "properties": narrowed },
                ]
            }
        }
    });
}
