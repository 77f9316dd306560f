//! The web app as the gateway serves it, over real HTTP: app routes get the page (with the pages'
//! CSP) while the API's unknown paths stay problem+json; the app's own origin may make
//! cookie-authenticated changes (still with the CSRF token); and a browser can ask for a session
//! answer that carries no token in its body.

use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestStack, signed_up};

fn csp(response: &Response) -> String {
    response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn app_paths_serve_the_app_and_api_paths_stay_problem_json() {
    let app = TestStack::spawn().await;
    for path in [
        "/",
        "/invites/some-code",
        "/verify-email?token=x",
        "/no/such/screen",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert!(
            page.headers()[header::CONTENT_TYPE]
                .to_str()
                .expect("ascii")
                .starts_with("text/html"),
            "{path}"
        );
        let policy = csp(&page);
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let body = page.text().await.expect("html");
        assert!(body.contains(r#"<script type="module" src="/js/main.js">"#));
    }
    let script = app.get("/js/main.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/javascript")
    );
    // A missing asset is a 404, never the HTML page parsed as a script.
    let missing = app.get("/js/nope.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    for path in ["/v1/no-such-route", "/.well-known/nope", "/v1"] {
        let api = app.get(path).await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            api.headers()[header::CONTENT_TYPE],
            "application/problem+json",
            "{path}"
        );
        assert_eq!(csp(&api), "default-src 'none'; frame-ancestors 'none'");
    }
    let status = app.get("/v1/status").await;
    assert_eq!(csp(&status), "default-src 'none'; frame-ancestors 'none'");
    // The app is not API: it never enters the OpenAPI document.
    let doc: Value = app.get_json("/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.keys().all(|p| p.starts_with("/v1/")
        || p.starts_with("/.well-known/")
        || p == "/healthz"
        || p == "/readyz"
        || p == "/openapi.json"));
}

/// Logs in as a browser on the gateway's own origin; returns (cookie header, csrf token, body).
async fn own_origin_login(app: &TestStack, cookie_only: bool) -> (String, String, Value) {
    let email = signed_up(app).await;
    let mut request = app
        .http
        .post(app.url("/v1/auth/login"))
        .header(header::ORIGIN, app.stack.gateway_url())
        .json(&json!({ "email": email, "password": PASSWORD }));
    if cookie_only {
        request = request.header("X-Onramp-Session", "cookie");
    }
    let response = request.send().await.expect("login");
    assert_eq!(response.status(), StatusCode::OK);
    let cookies: Vec<String> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|line| line.split(';').next())
        .map(str::to_owned)
        .collect();
    let csrf = cookies
        .iter()
        .find_map(|c| c.split_once("onramp_csrf=").map(|(_, v)| v.to_owned()))
        .expect("csrf cookie");
    (
        cookies.join("; "),
        csrf,
        response.json().await.expect("session"),
    )
}

#[tokio::test]
async fn browser_sessions_are_cookie_only_and_the_own_origin_may_change_things() {
    let app = TestStack::spawn().await;
    // A bearer client still gets its tokens.
    let (_, _, bearer) = own_origin_login(&app, false).await;
    assert!(bearer["access_token"].is_string() && bearer["refresh_token"].is_string());

    let (cookies, csrf, body) = own_origin_login(&app, true).await;
    assert!(body.get("access_token").is_none(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(
        body["session_id"].is_string() && body["expires_in"].is_number(),
        "{body}"
    );

    let own = app.stack.gateway_url();
    let change = |origin: &str, token: &str| {
        app.http
            .patch(app.url("/v1/users/me"))
            .header(header::COOKIE, &cookies)
            .header(header::ORIGIN, origin.to_owned())
            .header("x-csrf-token", token.to_owned())
            .json(&json!({ "display_name": "Browser Person" }))
            .send()
    };
    // The gateway's own origin (scheme + Host) is accepted without any CORS configuration…
    let accepted = change(&own, &csrf).await.expect("patch");
    assert_eq!(accepted.status(), StatusCode::OK);
    // …but still needs the double-submit token, and other origins are still refused.
    let no_token = change(&own, "wrong").await.expect("patch");
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let other = change("http://evil.example", &csrf).await.expect("patch");
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    let other_port = own
        .rsplit_once(':')
        .map(|(host, _)| format!("{host}:1"))
        .expect("port");
    let wrong_port = change(&other_port, &csrf).await.expect("patch");
    assert_eq!(wrong_port.status(), StatusCode::FORBIDDEN);

    // Refresh, cookie-only, from the refresh cookie.
    let refreshed = app
        .http
        .post(app.url("/v1/auth/refresh"))
        .header(header::COOKIE, &cookies)
        .header(header::ORIGIN, &own)
        .header("x-csrf-token", &csrf)
        .header("X-Onramp-Session", "cookie")
        .json(&json!({}))
        .send()
        .await
        .expect("refresh");
    assert_eq!(refreshed.status(), StatusCode::OK);
    assert!(
        refreshed
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .count()
            >= 3
    );
    let body: Value = refreshed.json().await.expect("json");
    assert!(
        body.get("access_token").is_none() && body.get("refresh_token").is_none(),
        "{body}"
    );
}
