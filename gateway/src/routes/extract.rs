//! axum's `Json`, `Path` and `Query` with problem+json rejections: axum's own answer `text/plain`,
//! which breaks the one error shape (schemathesis found `?tenant_id=a&tenant_id=b` answering plain
//! text), and one query struct for the routes that name their workspace in `?tenant_id=`.

use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    response::{IntoResponse, Response},
};
use http::request::Parts;
use onramp_kit::ApiError;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::problem::Problem;

/// A JSON body in (a rejection is a 400 problem naming the field at fault, see [`json_problem`]),
/// and a JSON answer out.
#[derive(Debug)]
pub(crate) struct Json<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `?tenant_id=`: the workspace a billing or onboarding route acts on (missing: empty, which the
/// service refuses naming `tenant_id`).
#[derive(Debug, Deserialize)]
pub(crate) struct TenantQuery {
    #[serde(default)]
    pub(crate) tenant_id: String,
}

/// axum's `$axum` extractor whose rejection is a 400 problem naming the field `$field`
/// (axum's own answers plain text).
macro_rules! named_rejection {
    ($(#[$meta:meta])* $name:ident, $axum:ident, $field:literal, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub(crate) struct $name<T>(pub(crate) T);

        impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for $name<T> {
            type Rejection = Problem;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
                match axum::extract::$axum::<T>::from_request_parts(parts, state).await {
                    Ok(axum::extract::$axum(value)) => Ok(Self(value)),
                    Err(rejection) => Err(Problem(ApiError::invalid_field(
                        $field,
                        format!("invalid {}: {}", $what, rejection.body_text()),
                    ))),
                }
            }
        }
    };
}

named_rejection!(
    /// `axum::extract::Query`, its rejection a 400 problem naming `query`.
    Query, Query, "query", "query string"
);
named_rejection!(
    /// `axum::extract::Path`, its rejection a 400 problem naming `path`.
    Path, Path, "path", "path"
);

/// The 400 problem for a JSON body serde refused, naming the field at fault: an unknown field
/// (every body denies them, so a misspelt or unsupported field is never silently ignored), a
/// missing one or one of the wrong type, as a dotted path (`invites.0.role`); else `body`.
pub(crate) fn json_problem(rejection: &JsonRejection) -> Problem {
    let text = rejection.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(&text);
    let field = field_at_fault(detail).unwrap_or_else(|| "body".to_owned());
    Problem(ApiError::invalid_field(
        field,
        format!("invalid JSON body: {detail}"),
    ))
}

/// `path: unknown field `name`, expected …` -> `path.name`; `missing field `name`` -> `name`
/// under its path; `path: invalid type …` -> `path`.
fn field_at_fault(detail: &str) -> Option<String> {
    let (path, message) = match detail.split_once(": ") {
        Some((path, message)) if !path.contains(' ') => (Some(path), message),
        _ => (None, detail),
    };
    // A top-level array (`[0]…`) is a body that is not an object at all: `body` names that best.
    let path = path.filter(|path| *path != "." && !path.starts_with('['));
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|marker| message.strip_prefix(marker))
        .and_then(|rest| rest.split('`').next());
    match (path, named) {
        (Some(path), Some(name)) if path == name || path.ends_with(&format!(".{name}")) => {
            Some(path.to_owned())
        }
        (Some(path), Some(name)) => Some(format!("{path}.{name}")),
        (None, Some(name)) => Some(name.to_owned()),
        (Some(path), None) => Some(path.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only deserialised")]
    struct Row {
        role: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only deserialised")]
    struct Outer {
        #[serde(default)]
        name: String,
        #[serde(default)]
        rows: Vec<Row>,
    }

    async fn field_for(body: &str) -> String {
        let request = http::Request::builder()
            .method("POST")
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request");
        let problem = Json::<Outer>::from_request(request, &())
            .await
            .expect_err("refused");
        problem.0.field.clone().expect("a field")
    }

    #[tokio::test]
    async fn the_problem_names_the_unknown_missing_or_mistyped_field() {
        assert_eq!(field_for(r#"{"name":"Acme","plan":"pro"}"#).await, "plan");
        assert_eq!(
            field_for(r#"{"rows":[{"role":"a","colour":"red"}]}"#).await,
            "rows[0].colour"
        );
        assert_eq!(field_for(r#"{"rows":[{}]}"#).await, "rows[0].role");
        assert_eq!(field_for(r#"{"name":7}"#).await, "name");
        assert_eq!(field_for(r#"[1]"#).await, "body");
    }
}
