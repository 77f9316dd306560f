//! `POST /v1/tenants` needs a well-formed `Idempotency-Key`, checked before the sign-in.

use http::{HeaderValue, Method};

use crate::{problem, request, router, send};

#[tokio::test]
async fn keys_must_be_printable_ascii_of_bounded_length() {
    let app = router(|_| {}).await;
    let provision = |key: Option<&[u8]>| {
        let mut request = request(Method::POST, "/v1/tenants", &[], None);
        if let Some(key) = key {
            let value = HeaderValue::from_bytes(key).expect("a header value");
            request.headers_mut().insert("idempotency-key", value);
        }
        send(&app, request)
    };
    // A good key gets as far as the sign-in check.
    let good = provision(Some(b"0b9f8c1e-4d6a-4c59-9d33-2f1e7c8a9b10")).await;
    assert_eq!(problem(good, 401).await["reason"], "UNAUTHENTICATED");
    for bad in [
        None,
        Some(&b""[..]),
        Some(b"two words"),
        Some("caf\u{e9}".as_bytes()),
        Some(&[b'k'; 256]),
    ] {
        let answer = problem(provision(bad).await, 400).await;
        assert_eq!(answer["reason"], "IDEMPOTENCY_KEY_INVALID", "{bad:?}");
        assert_eq!(answer["field"], "Idempotency-Key", "{bad:?}");
    }
}
