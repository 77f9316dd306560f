//! axum's `Path` and `Query` with problem+json rejections: axum's own answer `text/plain`, which
//! breaks the one error shape (schemathesis found `?tenant_id=a&tenant_id=b` answering plain text).

use axum::extract::FromRequestParts;
use http::request::Parts;
use onramp_kit::ApiError;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// `axum::extract::Query` whose rejection is a 400 problem naming the field `query`.
#[derive(Debug)]
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(Problem(ApiError::invalid_field(
                "query",
                format!("invalid query string: {}", rejection.body_text()),
            ))),
        }
    }
}

/// `axum::extract::Path` whose rejection is a 400 problem naming the field `path`.
#[derive(Debug)]
pub(crate) struct Path<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(Problem(ApiError::invalid_field(
                "path",
                format!("invalid path: {}", rejection.body_text()),
            ))),
        }
    }
}
