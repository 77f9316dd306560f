//! Request ids for requests that come without one: random (version 4) UUIDs, as tower-http's
//! `MakeRequestUuid` makes them, but drawn from the thread's generator rather than a `getrandom`
//! system call per request. A request id only tells requests apart in logs; it guards nothing.

use http::{HeaderValue, Request};
use rand::Rng as _;
use tower_http::request_id::{MakeRequestId, RequestId};

/// Makes a fresh random UUID per request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MakeRandomUuid;

impl MakeRequestId for MakeRandomUuid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid_v4(rand::thread_rng().r#gen());
        HeaderValue::try_from(id).ok().map(RequestId::new)
    }
}

/// `random` as a hyphenated version 4 UUID (RFC 9562: the version nibble 4, the variant bits 10).
fn uuid_v4(random: u128) -> String {
    let value = (random & !(0xF000 << 64) & !(0xC << 60)) | (0x4000 << 64) | (0x8 << 60);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        value >> 96,
        (value >> 80) & 0xFFFF,
        (value >> 64) & 0xFFFF,
        (value >> 48) & 0xFFFF,
        value & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_4_uuids() {
        assert_eq!(uuid_v4(0), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4(u128::MAX), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = MakeRandomUuid
            .make_request_id(&Request::new(()))
            .expect("an id");
        let text = id.header_value().to_str().expect("ascii");
        let shape: Vec<usize> = text.split('-').map(str::len).collect();
        assert_eq!(shape, [8, 4, 4, 4, 12], "{text}");
        assert_eq!(&text[14..15], "4", "{text}");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
    }

    #[test]
    fn ids_differ() {
        let mut make = MakeRandomUuid;
        let mut id = || make.make_request_id(&Request::new(())).expect("an id");
        assert_ne!(id().header_value(), id().header_value());
    }
}
