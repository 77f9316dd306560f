//! OAuth / OIDC through the gateway: `start` redirects the browser to the provider and sets the
//! HttpOnly cookie that binds the `state` to this browser; `callback` sends the code, the state and
//! that cookie back to identity and answers with a session.

use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite, time::Duration};
use http::{HeaderValue, StatusCode, header};
use onramp_proto::identity::v1::{CompleteOauthRequest, StartOauthRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::session::{Browser, SessionJson, unix_now};
use crate::auth::cookies::{cookie, set_cookie};
use crate::routes::prelude::*;

/// The cookie that carries the browser binding between start and callback.
const BINDING_COOKIE: &str = "onramp_oauth_binding";

/// The binding cookie's `Set-Cookie` (an empty value and no age clears it).
fn binding_cookie(value: &str, max_age: i64) -> Result<HeaderValue, Problem> {
    let cookie = Cookie::build((BINDING_COOKIE, value))
        .max_age(Duration::seconds(max_age))
        .path("/v1/auth/oauth")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax);
    set_cookie(cookie).ok_or_else(Problem::internal)
}

/// `GET /v1/auth/oauth/{provider}/start` query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StartQuery {
    redirect_uri: String,
}

/// Redirects the browser to the provider and sets the HttpOnly binding cookie.
#[utoipa::path(get, path = "/v1/auth/oauth/{provider}/start", tag = "auth", operation_id = "start_oauth",
    params(
        ("provider" = String, Path, description = "A provider id from /v1/config/public"),
        ("redirect_uri" = Option<String>, Query, description = "Where the provider sends the browser back (must be allowed by identity)"),
    ),
    responses(
        (status = 302, description = "To the provider's authorization page",
            headers(("Location" = String), ("Set-Cookie" = String, description = "onramp_oauth_binding (HttpOnly, Secure, SameSite=Lax)"))),
        UnknownProvider,
    ))]
pub(crate) async fn start(
    Path(provider): Path<String>,
    c: Caller,
    Query(query): Query<StartQuery>,
) -> Result<Response, Problem> {
    let request = StartOauthRequest {
        caller: c.meta(),
        provider_id: provider,
        redirect_uri: query.redirect_uri,
    };
    let started = answer(c.identity().start_oauth(request)).await?;
    let max_age = (started.expires_at).map_or(600, |at| (at.seconds - unix_now()).max(0));
    let location = HeaderValue::from_str(&started.authorization_url).map_err(|_| {
        tracing::error!("identity returned an authorization URL that is not a header value");
        Problem::internal()
    })?;
    let cookie = binding_cookie(&started.browser_binding, max_age)?;
    Ok((
        StatusCode::FOUND,
        [(header::LOCATION, location), (header::SET_COOKIE, cookie)],
    )
        .into_response())
}

body! {
    /// `POST /v1/auth/oauth/{provider}/callback` body: what the provider put on the redirect.
    #[serde(default, deny_unknown_fields)]
    CallbackBody => CompleteOauthRequest(provider_id: String, browser_binding: String) {
        code: String,
        state: String,
        invite_code: String,
    }
}

/// `POST /v1/auth/oauth/{provider}/callback` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OauthDone {
    session: SessionJson,
    user_created: bool,
    identity_linked: bool,
    email_verified: bool,
}

#[utoipa::path(post, path = "/v1/auth/oauth/{provider}/callback", tag = "auth",
    operation_id = "complete_oauth",
    params(
        ("provider" = String, Path, description = "A provider id from /v1/config/public"),
        SessionMode,
    ),
    request_body = CallbackBody,
    responses(
        (status = 200, description = "Signed in: the session cookies are set (as on login) and the binding cookie is cleared", body = OauthDone),
        (status = 401, description = "The provider refused, or the state or binding did not match"),
        UnknownProvider,
        (status = 409, description = "The email belongs to an unverified password account"),
    ))]
pub(crate) async fn callback(
    c: Caller,
    to: Browser,
    Path(provider): Path<String>,
    Json(body): Json<CallbackBody>,
) -> Result<Response, Problem> {
    let binding = cookie(&to.headers, BINDING_COOKIE)
        .unwrap_or_default()
        .to_owned();
    let request = body.request(c.meta(), provider, binding);
    let done = answer(c.identity().complete_oauth(request)).await?;
    // A browser signing in through a provider gets the same session cookies as a password login
    // (and, when it asks, the same cookie-only answer).
    let (cookies, Json(session)) = to.session(done.session)?;
    let clear = binding_cookie("", 0)?;
    let body = OauthDone {
        session,
        user_created: done.user_created,
        identity_linked: done.identity_linked,
        email_verified: done.email_verified,
    };
    Ok(([(header::SET_COOKIE, clear)], cookies, Json(body)).into_response())
}
