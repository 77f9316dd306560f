//! Login, refresh, logout and logout-everywhere. Login and refresh also set the session cookies
//! (browsers), and refresh and logout take the refresh token from the body or, for browsers, from
//! the refresh cookie; logout always clears the cookies.
//!
//! A browser asks for a cookie-only answer with `X-Onramp-Session: cookie`: the tokens then travel
//! only in the HttpOnly cookies and the JSON body carries neither, so no page script (nor anything
//! injected into one) can read them. Bearer clients send no such header and get the tokens as before.

use axum::{
    Extension,
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, request::Parts};
use onramp_proto::identity::v1::{
    LoginRequest, LogoutEverywhereRequest, LogoutEverywhereResponse, LogoutRequest, LogoutResponse,
    RefreshRequest, Session,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::routes::prelude::*;
use crate::{
    auth::{
        CookiePolicy,
        cookies::{self, CookieHeaders, SessionCookies},
    },
    middleware::header_str,
    routes::json_time::rfc3339,
};

body! {
    /// `POST /v1/auth/login` body.
    #[serde(default, deny_unknown_fields)]
    LoginBody => LoginRequest {
        #[schema(format = "email")]
        email: String,
        password: String,
    }
}

/// A refresh-token body (refresh, logout); a browser sends `{}` and its refresh cookie instead.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RefreshBody {
    refresh_token: String,
}

/// The request header by which a browser asks for a cookie-only session answer.
pub(crate) const SESSION_MODE_HEADER: &str = "x-onramp-session";

/// Whether the request asked for the session in cookies only (`X-Onramp-Session: cookie`).
pub(crate) fn cookie_only(headers: &HeaderMap) -> bool {
    header_str(headers, SESSION_MODE_HEADER)
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("cookie"))
}

/// A session as the client receives it (instants RFC 3339 UTC; `expires_in` in seconds). The two
/// tokens are absent when the request sent `X-Onramp-Session: cookie` (they are in the cookies).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub(crate) struct SessionJson {
    /// Absent in a cookie-only answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    token_type: String,
    /// Seconds until the access token expires.
    expires_in: i64,
    #[schema(format = DateTime)]
    access_token_expires_at: Option<String>,
    /// Absent in a cookie-only answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[schema(format = DateTime)]
    refresh_token_expires_at: Option<String>,
    session_id: String,
    user_id: String,
    /// The expiries in Unix seconds, for the cookies' `Max-Age`; not part of the JSON.
    #[serde(skip)]
    access_expires_unix: i64,
    #[serde(skip)]
    refresh_expires_unix: i64,
}

impl SessionJson {
    /// The cookies carrying this session, lifetimes counted from `now` (Unix seconds).
    pub(super) fn cookies(&self, policy: &CookiePolicy, now: i64) -> CookieHeaders {
        policy.set(&SessionCookies {
            access_token: self.access_token.as_deref().unwrap_or_default(),
            access_max_age: self.access_expires_unix - now,
            refresh_token: self.refresh_token.as_deref().unwrap_or_default(),
            refresh_max_age: self.refresh_expires_unix - now,
        })
    }

    fn from_proto(session: Option<Session>) -> Result<Self, Problem> {
        let session = session.ok_or_else(|| {
            tracing::error!("identity returned no session");
            Problem::internal()
        })?;
        let seconds = |t: Option<prost_types::Timestamp>| t.map_or(0, |t| t.seconds);
        let access_expires = seconds(session.access_token_expires_at);
        let now = unix_now();
        Ok(Self {
            access_token: Some(session.access_token),
            token_type: session.token_type,
            expires_in: (access_expires - now).max(0),
            access_token_expires_at: rfc3339(session.access_token_expires_at),
            refresh_token: Some(session.refresh_token),
            refresh_token_expires_at: rfc3339(session.refresh_token_expires_at),
            session_id: session.session_id,
            user_id: session.user_id,
            access_expires_unix: access_expires,
            refresh_expires_unix: seconds(session.refresh_token_expires_at),
        })
    }
}

pub(super) fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(super) type SessionAnswer = Result<(CookieHeaders, Json<SessionJson>), Problem>;

/// What a session answer needs of the request: the cookie policy, and the headers that carry the
/// browser's cookies and its wish for a cookie-only answer.
pub(crate) struct Browser {
    pub(super) policy: CookiePolicy,
    pub(super) headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for Browser {
    type Rejection = <Extension<CookiePolicy> as FromRequestParts<S>>::Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Extension(policy) = Extension::from_request_parts(parts, state).await?;
        let headers = parts.headers.clone();
        Ok(Self { policy, headers })
    }
}

impl Browser {
    /// The cookies for `session`, and its JSON: without the tokens when the request asked for a
    /// cookie-only answer.
    pub(super) fn session(&self, session: Option<Session>) -> SessionAnswer {
        let mut session = SessionJson::from_proto(session)?;
        let cookies = session.cookies(&self.policy, unix_now());
        if cookie_only(&self.headers) {
            session.access_token = None;
            session.refresh_token = None;
        }
        Ok((cookies, Json(session)))
    }

    /// The body's refresh token, else the browser's refresh cookie.
    fn refresh_token(&self, body: RefreshBody) -> String {
        if body.refresh_token.is_empty() {
            let cookie = cookies::cookie(&self.headers, self.policy.refresh);
            cookie.unwrap_or_default().to_owned()
        } else {
            body.refresh_token
        }
    }
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginBody,
    params(SessionMode),
    responses(
        (status = 200, description = "A new session", body = SessionJson),
        (status = 401, description = "Email or password did not match"),
        (status = 429, description = "Too many attempts"),
    ))]
pub(crate) async fn login(c: Caller, to: Browser, Json(body): Json<LoginBody>) -> SessionAnswer {
    let login = answer(c.identity().login(body.request(c.meta()))).await?;
    to.session(login.session)
}

/// Rotates the refresh token; presenting a used one revokes its whole family.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refresh_session",
    request_body = RefreshBody,
    params(SessionMode),
    responses(
        (status = 200, description = "The rotated session", body = SessionJson),
        (status = 401, description = "Unknown, expired or reused refresh token"),
    ))]
pub(crate) async fn refresh(
    c: Caller,
    to: Browser,
    Json(body): Json<RefreshBody>,
) -> SessionAnswer {
    let refresh_token = to.refresh_token(body);
    let request = RefreshRequest {
        caller: c.meta(),
        refresh_token,
    };
    to.session(answer(c.identity().refresh(request)).await?.session)
}

answer! {
    /// `POST /v1/auth/logout` answer.
    LogoutJson from LogoutResponse {
        revoked: bool,
    }
}

/// Revokes the session's refresh token; the cookies are cleared whatever identity answers, so a
/// browser is never left holding a session it asked to end.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
    request_body = RefreshBody,
    responses((status = 200, description = "The refresh token's session is revoked (if it was live)", body = LogoutJson)))]
pub(crate) async fn logout(c: Caller, to: Browser, Json(body): Json<RefreshBody>) -> Response {
    let refresh_token = to.refresh_token(body);
    let request = LogoutRequest {
        caller: c.meta(),
        refresh_token,
    };
    let answer = rpc(c.identity().logout(request), LogoutJson::from).await;
    (to.policy.clear(), answer).into_response()
}

answer! {
    /// `POST /v1/auth/logout-everywhere` answer.
    LogoutEverywhereJson from LogoutEverywhereResponse {
        sessions_revoked: u32,
    }
}

one_rpc! {
    #[utoipa::path(post, path = "/v1/auth/logout-everywhere", tag = "auth",
        operation_id = "logout_everywhere", security(("bearer" = [])),
        responses((status = 200, description = "Every session of the user is revoked", body = LogoutEverywhereJson)))]
    pub(crate) fn logout_everywhere(c: Caller<AuthUserAllowUnverified>) -> LogoutEverywhereJson =
        c.identity().logout_everywhere(LogoutEverywhereRequest { caller: c.meta() });
}
