//! The session as cookies, for browsers: an HttpOnly access cookie (every path), an HttpOnly refresh
//! cookie scoped to `/v1/auth` (refresh and logout only), and a readable CSRF cookie whose value the
//! page echoes in `X-CSRF-Token` on mutations (double submit; see `middleware::csrf`).

use ::cookie::{Cookie, CookieBuilder, time::Duration};
use axum::response::{IntoResponseParts, ResponseParts};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderValue, header};
use rand::RngCore as _;

use crate::config::{EdgeConfig, SameSite};

/// The path the refresh cookie is scoped to: the browser sends it to refresh and logout only.
pub(crate) const REFRESH_PATH: &str = "/v1/auth";

/// The header carrying the CSRF token (to the page on login/refresh; back from it on mutations).
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// How session cookies are named and marked. Cheap to clone; installed as a request extension.
#[derive(Debug, Clone)]
pub(crate) struct CookiePolicy {
    secure: bool,
    same_site: SameSite,
    pub(crate) access: &'static str,
    pub(crate) refresh: &'static str,
    pub(crate) csrf: &'static str,
}

/// The cookies a session turns into, with their lifetimes (seconds).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SessionCookies<'a> {
    pub(crate) access_token: &'a str,
    pub(crate) access_max_age: i64,
    pub(crate) refresh_token: &'a str,
    pub(crate) refresh_max_age: i64,
}

impl CookiePolicy {
    pub(crate) fn new(config: &EdgeConfig) -> Self {
        // `__Host-` pins a cookie to this host and path `/` (no subdomain can plant it, which is
        // what makes the double-submit CSRF cookie trustworthy); browsers accept the prefixes only
        // with `Secure`.
        let secure = config.cookie_secure;
        let (access, refresh, csrf) = if secure {
            (
                "__Host-onramp_access",
                "__Secure-onramp_refresh",
                "__Host-onramp_csrf",
            )
        } else {
            ("onramp_access", "onramp_refresh", "onramp_csrf")
        };
        Self {
            secure,
            same_site: config.cookie_same_site,
            access,
            refresh,
            csrf,
        }
    }

    /// The response headers for a fresh session: its cookies, and the new CSRF token also in
    /// [`CSRF_HEADER`] (a page on another origin cannot read this host's cookies).
    pub(crate) fn set(&self, session: &SessionCookies<'_>) -> CookieHeaders {
        let csrf = new_csrf_token();
        let lines = self.lines(Some(session), &csrf);
        CookieHeaders {
            lines,
            csrf: Some(csrf),
        }
    }

    /// The response headers that end the browser session.
    pub(crate) fn clear(&self) -> CookieHeaders {
        let lines = self.lines(None, "");
        CookieHeaders { lines, csrf: None }
    }

    /// The three cookies of `session`; without one, the empty and expired ones that end it.
    fn lines(&self, session: Option<&SessionCookies<'_>>, csrf: &str) -> Vec<HeaderValue> {
        let s = session.copied().unwrap_or_default();
        [
            (self.access, s.access_token, "/", s.access_max_age, true),
            (
                self.refresh,
                s.refresh_token,
                REFRESH_PATH,
                s.refresh_max_age,
                true,
            ),
            (self.csrf, csrf, "/", s.refresh_max_age, false),
        ]
        .into_iter()
        .filter_map(|(name, value, path, max_age, http_only)| {
            let cookie = Cookie::build((name, value))
                .path(path)
                .max_age(Duration::seconds(max_age.max(0)))
                .same_site(self.same_site.into())
                .secure(self.secure)
                .http_only(http_only);
            set_cookie(cookie)
        })
        .collect()
    }

    /// Whether the cookies are marked `Secure` (so the site is served over HTTPS).
    pub(crate) fn secure(&self) -> bool {
        self.secure
    }

    /// Whether the request carries any session cookie (so it may be cookie-authenticated).
    pub(crate) fn has_session_cookie(&self, headers: &HeaderMap) -> bool {
        cookie(headers, self.access).is_some() || cookie(headers, self.refresh).is_some()
    }
}

/// `Set-Cookie` lines (and the CSRF token header) to add to a response.
#[derive(Debug)]
pub(crate) struct CookieHeaders {
    lines: Vec<HeaderValue>,
    csrf: Option<String>,
}

impl IntoResponseParts for CookieHeaders {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut parts: ResponseParts) -> Result<ResponseParts, Self::Error> {
        let headers = parts.headers_mut();
        for line in self.lines {
            headers.append(header::SET_COOKIE, line);
        }
        if let Some(value) = self.csrf.and_then(|csrf| HeaderValue::try_from(csrf).ok()) {
            headers.insert(CSRF_HEADER, value);
        }
        Ok(parts)
    }
}

/// A `Set-Cookie` value (`None` for one a header cannot carry).
pub(crate) fn set_cookie(cookie: CookieBuilder<'_>) -> Option<HeaderValue> {
    HeaderValue::try_from(cookie.to_string()).ok()
}

impl From<SameSite> for ::cookie::SameSite {
    fn from(same_site: SameSite) -> Self {
        match same_site {
            SameSite::Lax => Self::Lax,
            SameSite::Strict => Self::Strict,
            SameSite::None => Self::None,
        }
    }
}

fn new_csrf_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name` in the request's `Cookie` headers, if present and non-empty.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_are_prefixed_http_only_and_scoped() {
        let policy = CookiePolicy::new(&EdgeConfig::default());
        let CookieHeaders { lines, csrf } = policy.set(&SessionCookies {
            access_token: "a.b.c",
            access_max_age: 900,
            refresh_token: "r",
            refresh_max_age: 3600,
        });
        let lines: Vec<_> = lines.iter().map(|l| l.to_str().expect("ascii")).collect();
        // The name and value first, then the attributes in any order: a browser reads them as a set.
        let mut access: Vec<_> = lines[0].split("; ").collect();
        access[1..].sort_unstable();
        assert_eq!(
            access,
            [
                "__Host-onramp_access=a.b.c",
                "HttpOnly",
                "Max-Age=900",
                "Path=/",
                "SameSite=Lax",
                "Secure"
            ]
        );
        let refresh: Vec<_> = lines[1].split("; ").collect();
        assert_eq!(refresh[0], "__Secure-onramp_refresh=r");
        assert!(refresh.contains(&"Path=/v1/auth"), "{refresh:?}");
        let csrf = csrf.expect("a CSRF token");
        assert!(lines[2].contains(&csrf) && !lines[2].contains("HttpOnly"));
        assert_eq!(csrf.len(), 43);
    }

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        headers.append(header::COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), Some("3"));
        assert_eq!(cookie(&headers, "d"), None);
    }
}
