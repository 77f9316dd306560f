//! A JSON body extractor whose rejections are problem+json (axum's own answer plain text).
//!
//! Request structs default every field, so a missing field reaches identity as empty and comes
//! back as `400` naming that field; a body that is not a JSON object, or that carries a field the
//! API does not know, is rejected here (naming `body` or the unknown field).

use axum::{
    Json,
    extract::{FromRequest, Request},
};
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// `Json<T>` with problem+json rejections naming the field at fault (or `body`).
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(crate::routes::extract::json_problem(&rejection)),
        }
    }
}
