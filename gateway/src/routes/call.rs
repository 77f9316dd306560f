//! The one shape of a handler: a [`Caller`] (who, checked per route, plus what the edge knows of
//! the request), one RPC through [`rpc`], and JSON out — or a problem+json answer through the one
//! error table (`onramp_kit::Code`, via [`Problem`]).

use std::{future::Future, marker::PhantomData, ops::Deref};

use axum::extract::FromRequestParts;
use http::{StatusCode, request::Parts};
use onramp_proto::common::v1 as common;

use crate::{
    auth::{AuthUser, AuthUserAllowUnverified, caller},
    clients::Peers,
    problem::Problem,
    routes::{AppState, extract::Json},
};

/// Who may call a route: an extractor that refuses everyone else, and the user id it proved.
pub(crate) trait Who: FromRequestParts<AppState, Rejection = Problem> {
    fn user(&self) -> Option<&AuthUser>;
}

/// Anyone at all (public routes): nothing to check.
#[derive(Debug)]
pub(crate) struct Anyone;

impl<S: Send + Sync> FromRequestParts<S> for Anyone {
    type Rejection = Problem;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(Self)
    }
}

impl Who for Anyone {
    fn user(&self) -> Option<&AuthUser> {
        None
    }
}

/// A signed-in user past the email-verification wall.
impl Who for AuthUser {
    fn user(&self) -> Option<&AuthUser> {
        Some(self)
    }
}

/// A signed-in user, even behind the wall (the wall's allow-list only).
impl Who for AuthUserAllowUnverified {
    fn user(&self) -> Option<&AuthUser> {
        Some(&self.0)
    }
}

/// The caller of a route, as `W` admits it: the `Caller` every RPC carries (the verified user, the
/// client IP from the trusted proxy, the user agent and request id) and the peers to call.
#[derive(Debug)]
pub(crate) struct Caller<W = Anyone> {
    peers: std::sync::Arc<Peers>,
    caller: common::Caller,
    who: PhantomData<W>,
}

impl<W> Caller<W> {
    /// The `caller` field of an RPC request.
    pub(crate) fn meta(&self) -> Option<common::Caller> {
        Some(self.caller.clone())
    }
}

/// The peers are what a handler calls, so `caller.tenancy()` reads as it should.
impl<W> Deref for Caller<W> {
    type Target = Peers;

    fn deref(&self) -> &Peers {
        &self.peers
    }
}

impl<W: Who + Send> FromRequestParts<AppState> for Caller<W> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let who = W::from_request_parts(parts, state).await?;
        Ok(Self {
            peers: state.peers.clone(),
            caller: caller(who.user(), &parts.headers),
            who: PhantomData,
        })
    }
}

/// The answer of one RPC, or the problem its status stands for.
pub(crate) async fn answer<R>(
    call: impl Future<Output = Result<tonic::Response<R>, tonic::Status>>,
) -> Result<R, Problem> {
    match call.await {
        Ok(response) => Ok(response.into_inner()),
        Err(status) => {
            let mut problem = Problem::from(status);
            // A list's bad token is the query parameter the client sent, not the RPC's field.
            if problem.0.field.as_deref() == Some("page.page_token") {
                problem.0.field = Some("page_token".to_owned());
            }
            Err(problem)
        }
    }
}

/// One RPC's answer as JSON (`to_json` shapes it), or the problem its status stands for.
pub(crate) async fn rpc<R, T>(
    call: impl Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    to_json: impl FnOnce(R) -> T,
) -> Result<Json<T>, Problem> {
    answer(call).await.map(|answer| Json(to_json(answer)))
}

/// A `201 Created` answer.
pub(crate) fn created<T>(json: Json<T>) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, json)
}
