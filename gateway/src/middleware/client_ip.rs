//! The client IP, derived at the edge from the configured trusted proxy header only.
//!
//! Behind a load balancer the peer address is the balancer's, so the client's address can only come
//! from a header the balancer sets (`TRUSTED_PROXY_HEADER`, e.g. `x-forwarded-for`). The last entry is
//! the one the trusted proxy appended; entries before it are whatever the client sent and are ignored.
//! A client may send the header itself, as its own line, before the proxy appends its line (HTTP lets
//! a repeated header be split over several lines), so every line counts and the last line's last
//! entry wins — reading only the first line would let a client choose its own address.
//! The result travels to [`crate::auth::caller`] in an internal header that is always stripped from
//! the incoming request first, so a client can never set it.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue};

/// The internal header carrying the derived client IP from this middleware to `caller()`.
pub(crate) const CLIENT_IP_HEADER: HeaderName = HeaderName::from_static("x-onramp-client-ip");

/// Replaces any incoming [`CLIENT_IP_HEADER`] with the IP derived from `trusted` (if configured).
pub(crate) fn derive(trusted: Option<&HeaderName>, headers: &mut HeaderMap) {
    headers.remove(&CLIENT_IP_HEADER);
    let derived = trusted.and_then(|name| client_ip(headers.get_all(name)));
    if let Some(ip) = derived
        && let Ok(value) = HeaderValue::from_str(&ip.to_string())
    {
        headers.insert(CLIENT_IP_HEADER, value);
    }
}

/// The last comma-separated entry of the trusted header's last line, if it is an IP address.
fn client_ip(lines: http::header::GetAll<'_, HeaderValue>) -> Option<IpAddr> {
    let raw = lines.iter().next_back()?.to_str().ok()?;
    raw.rsplit(',').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip_of(lines: &[&'static str]) -> Option<IpAddr> {
        let mut headers = http::HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", HeaderValue::from_static(line));
        }
        client_ip(headers.get_all("x-forwarded-for"))
    }

    #[test]
    fn takes_the_entry_the_trusted_proxy_appended() {
        assert_eq!(ip_of(&["6.6.6.6, 203.0.113.7"]), "203.0.113.7".parse().ok());
        assert_eq!(ip_of(&["2001:db8::1"]), "2001:db8::1".parse().ok());
        assert_eq!(ip_of(&["not-an-ip"]), None);
        assert_eq!(ip_of(&[]), None);
    }

    #[test]
    fn a_repeated_header_is_read_to_its_last_line() {
        assert_eq!(
            ip_of(&["6.6.6.6", "198.51.100.1, 203.0.113.7"]),
            "203.0.113.7".parse().ok()
        );
    }
}
