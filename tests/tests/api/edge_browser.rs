//! Browser support at the edge, over real HTTP: CORS from the allow-list, the session as cookies
//! (login sets them, cookie-authenticated reads work, logout clears them), CSRF on
//! cookie-authenticated mutations only, and security headers on every kind of response.

use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestStack, login, new_email, problem, signed_up};

const APP: &str = "https://app.example";
const EVIL: &str = "https://evil.example";

/// A stack whose gateway allows `APP` (and only it) to call with credentials.
async fn stack() -> TestStack {
    TestStack::spawn_with(|options| {
        options.gateway(|config: &mut onramp_gateway::Config| {
            config.edge.cors_allowed_origins = vec![APP.to_owned()];
        });
    })
    .await
}

/// A browser's session: its cookies (as one `Cookie` header) and the CSRF token it was handed.
struct BrowserSession {
    cookie_header: String,
    csrf: String,
    set_cookies: Vec<String>,
    body: Value,
}

fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().expect("ascii").to_owned())
        .collect()
}

/// `name=value` of every cookie a response set (what a browser would send back).
fn cookie_header(set_cookies: &[String]) -> String {
    set_cookies
        .iter()
        .filter_map(|line| line.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn browser_login(app: &TestStack) -> BrowserSession {
    let email = signed_up(app).await;
    let response = app
        .http
        .post(app.url("/v1/auth/login"))
        .header(header::ORIGIN, APP)
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    BrowserSession::handed(response).await
}

impl BrowserSession {
    /// The session a login or refresh answer hands the browser.
    async fn handed(response: Response) -> Self {
        let csrf = response.headers()["x-csrf-token"]
            .to_str()
            .expect("csrf")
            .to_owned();
        let set_cookies = set_cookies(&response);
        Self {
            cookie_header: cookie_header(&set_cookies),
            csrf,
            set_cookies,
            body: response.json().await.expect("session"),
        }
    }
}

fn with_cookies(
    app: &TestStack,
    method: Method,
    path: &str,
    session: &BrowserSession,
) -> RequestBuilder {
    app.http
        .request(method, app.url(path))
        .header(header::COOKIE, &session.cookie_header)
}

/// A cookie-authenticated POST of `{}` from the allowed origin, with the session's CSRF token.
async fn csrf_post(app: &TestStack, path: &str, session: &BrowserSession) -> Response {
    with_cookies(app, Method::POST, path, session)
        .header(header::ORIGIN, APP)
        .header("x-csrf-token", &session.csrf)
        .json(&json!({}))
        .send()
        .await
        .expect("post")
}

#[tokio::test]
async fn an_allowed_origin_gets_credentialed_cors_and_others_get_nothing() {
    let app = stack().await;

    let preflight = |origin: &'static str| {
        app.http
            .request(Method::OPTIONS, app.url("/v1/users/me"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PATCH")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "content-type, x-csrf-token",
            )
            .send()
    };
    let allowed = preflight(APP).await.expect("preflight");
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], APP);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .expect("ascii");
    assert!(methods.contains("PATCH"), "{methods}");
    let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .expect("ascii");
    assert!(
        allowed_headers.contains("x-csrf-token"),
        "{allowed_headers}"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

    let refused = preflight(EVIL).await.expect("preflight");
    assert!(
        !refused
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "an unlisted origin must get no Access-Control-Allow-Origin"
    );

    // Simple (non-preflighted) requests: the listed origin may read the answer, others may not.
    let get = |origin: &'static str| {
        app.http
            .get(app.url("/v1/status"))
            .header(header::ORIGIN, origin)
            .send()
    };
    let read = get(APP).await.expect("get");
    assert_eq!(read.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], APP);
    let exposed = read.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        exposed.contains("retry-after") && exposed.contains("x-csrf-token"),
        "{exposed}"
    );
    let foreign = get(EVIL).await.expect("get");
    assert!(
        !foreign
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
}

#[tokio::test]
async fn login_sets_secure_http_only_cookies_that_authenticate_reads() {
    let app = stack().await;
    let session = browser_login(&app).await;

    let named = |prefix: &str| {
        session
            .set_cookies
            .iter()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} cookie in {:?}", session.set_cookies))
            .clone()
    };
    let access = named("__Host-onramp_access=");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/;"] {
        assert!(
            access.contains(attribute),
            "access cookie lacks {attribute}: {access}"
        );
    }
    let refresh = named("__Secure-onramp_refresh=");
    assert!(
        refresh.contains("HttpOnly") && refresh.contains("Path=/v1/auth;"),
        "{refresh}"
    );
    let csrf = named("__Host-onramp_csrf=");
    assert!(
        !csrf.contains("HttpOnly"),
        "the page must be able to read {csrf}"
    );
    assert!(csrf.contains(&session.csrf));
    // The access cookie is the session's access token.
    let token = session.body["access_token"].as_str().expect("token");
    assert!(access.starts_with(&format!("__Host-onramp_access={token};")));

    let me = with_cookies(&app, Method::GET, "/v1/users/me", &session)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.headers()[header::CACHE_CONTROL], "no-store");
    let me: Value = me.json().await.expect("me json");
    assert_eq!(me["id"], session.body["user_id"]);

    // Without any credential the same read is refused.
    let anonymous = app.get("/v1/users/me").await;
    problem(anonymous, 401).await;
}

#[tokio::test]
async fn cookie_mutations_need_the_csrf_token_from_an_allowed_origin_and_bearer_ones_do_not() {
    let app = stack().await;
    let session = browser_login(&app).await;
    let rename = |name: &str| json!({ "display_name": name });
    // A cookie-authenticated rename from `origin`, with `token` as its CSRF header if any.
    let cookie_rename = async |origin: &str, token: Option<&str>, name: &str| {
        let mut request = with_cookies(&app, Method::PATCH, "/v1/users/me", &session)
            .header(header::ORIGIN, origin)
            .json(&rename(name));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send().await.expect("patch")
    };

    let refused = [
        ("no token", APP, None),
        ("wrong token", APP, Some("not-the-token")),
        ("foreign origin", EVIL, Some(session.csrf.as_str())),
    ];
    for (case, origin, token) in refused {
        let response = cookie_rename(origin, token, case).await;
        assert_eq!(
            problem(response, 403).await["reason"],
            "CSRF_FAILED",
            "{case}"
        );
    }

    let proper = cookie_rename(APP, Some(&session.csrf), "Cookie Person").await;
    assert_eq!(proper.status(), StatusCode::OK, "{:?}", proper.text().await);

    // A bearer client sends no cookie, no Origin and no token.
    let token = session.body["access_token"].as_str().expect("token");
    let bearer = app
        .http
        .patch(app.url("/v1/users/me"))
        .bearer_auth(token)
        .json(&rename("Bearer Person"))
        .send()
        .await
        .expect("patch");
    assert_eq!(bearer.status(), StatusCode::OK);
    let me: Value = bearer.json().await.expect("me");
    assert_eq!(me["display_name"], "Bearer Person");

    // Stripe's webhook stays open to a POST without cookies or token: its answer is about the
    // signature, never CSRF.
    let webhook = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header("stripe-signature", "t=1,v1=00")
        .header(header::CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .expect("webhook");
    let answer: Value = webhook.json().await.expect("problem");
    assert_ne!(answer["reason"], "CSRF_FAILED", "{answer}");
}

#[tokio::test]
async fn refresh_and_logout_work_from_cookies_and_logout_clears_them() {
    let app = stack().await;
    let session = browser_login(&app).await;

    let refreshed = csrf_post(&app, "/v1/auth/refresh", &session).await;
    assert_eq!(
        refreshed.status(),
        StatusCode::OK,
        "{:?}",
        refreshed.text().await
    );
    let renewed = BrowserSession::handed(refreshed).await;
    assert_ne!(renewed.body["refresh_token"], session.body["refresh_token"]);

    let logout = csrf_post(&app, "/v1/auth/logout", &renewed).await;
    assert_eq!(logout.status(), StatusCode::OK);
    let cleared = set_cookies(&logout);
    assert_eq!(cleared.len(), 3, "{cleared:?}");
    assert!(
        cleared.iter().all(|line| line.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let body: Value = logout.json().await.expect("logout json");
    assert_eq!(body["revoked"], true);

    // The revoked refresh cookie no longer refreshes.
    let again = csrf_post(&app, "/v1/auth/refresh", &renewed).await;
    problem(again, 401).await;
}

/// The headers every response must carry.
fn assert_security_headers(response: &Response, what: &str) {
    let headers = response.headers();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
}

#[tokio::test]
async fn security_headers_are_on_success_not_found_and_problem_responses() {
    let app = stack().await;
    let ok = app.get("/v1/status").await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_security_headers(&ok, "200");
    assert!(
        !ok.headers().contains_key(header::CACHE_CONTROL),
        "an anonymous public answer need not be no-store"
    );

    let missing = app.get("/v1/no-such-route").await;
    assert_security_headers(&missing, "404");
    problem(missing, 404).await;

    let bad_login = login(&app, &new_email(), "wrong password").await;
    assert_security_headers(&bad_login, "401 problem");
    problem(bad_login, 401).await;

    let probe = app.get("/healthz").await;
    assert_security_headers(&probe, "probe");

    let authed = app
        .http
        .get(app.url("/v1/users/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("me");
    assert_security_headers(&authed, "401 with credentials");
    assert_eq!(authed.headers()[header::CACHE_CONTROL], "no-store");
}
