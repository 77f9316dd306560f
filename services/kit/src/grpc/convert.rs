//! Conversions every service's `grpc` layer needs: the signed-in caller, protobuf timestamps <->
//! `chrono`, and the page requests of list RPCs (the page token is the offset of the next page,
//! opaque to clients).

use chrono::{DateTime, Utc};
use onramp_proto::common::v1::{Caller, PageRequest};
use uuid::Uuid;

/// The signed-in user of a request: `None` without a caller, or when its user id is empty (an
/// anonymous public route) or not a UUID. Each service answers `None` with its UNAUTHENTICATED.
pub fn signed_in_user(caller: Option<&Caller>) -> Option<Uuid> {
    caller
        .map(|caller| caller.user_id.trim())
        .filter(|id| !id.is_empty())
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// `at` as a protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A protobuf timestamp as a `chrono` time; `None` when it is out of range or malformed.
pub fn datetime(at: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

/// Rows per page when the request leaves `page_size` at 0.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most rows one page holds, whatever the request asks.
pub const MAX_PAGE_SIZE: u32 = 200;

/// One page of a list: `size` rows from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows skipped.
    pub offset: i64,
    /// Rows asked for (1..=[`MAX_PAGE_SIZE`]).
    pub size: i64,
}

/// A page token this service did not issue (the field to name is `page.page_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPageToken;

impl Page {
    /// The page `request` asks for (the first, of the default size, when absent).
    pub fn parse(request: Option<&PageRequest>) -> Result<Self, BadPageToken> {
        let (size, token) = request.map_or((0, ""), |p| (p.page_size, p.page_token.as_str()));
        let size = match size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let offset = if token.is_empty() {
            0
        } else {
            token
                .parse::<i64>()
                .ok()
                .filter(|offset| *offset >= 0)
                .ok_or(BadPageToken)?
        };
        Ok(Self {
            offset,
            size: i64::from(size),
        })
    }

    /// The token of the page that follows this one.
    pub fn following(self) -> String {
        (self.offset + self.size).to_string()
    }

    /// The token of the next page if `returned` rows filled this one, else empty (the last page).
    pub fn next_token(self, returned: usize) -> String {
        if i64::try_from(returned).is_ok_and(|returned| returned == self.size) {
            self.following()
        } else {
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_uuid_user_id_is_signed_in() {
        let user = Uuid::now_v7();
        let caller = |user_id: &str| Caller {
            user_id: user_id.to_owned(),
            ..Caller::default()
        };
        assert_eq!(signed_in_user(Some(&caller(&user.to_string()))), Some(user));
        assert_eq!(signed_in_user(Some(&caller(""))), None);
        assert_eq!(signed_in_user(Some(&caller("not-a-uuid"))), None);
        assert_eq!(signed_in_user(None), None);
    }

    #[test]
    fn timestamps_round_trip() {
        let at = DateTime::from_timestamp(1_790_000_000, 123_456_789).expect("time");
        assert_eq!(datetime(&timestamp(at)), Some(at));
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(datetime(&bad), None);
    }

    #[test]
    fn pages_default_cap_and_refuse_foreign_tokens() {
        let ask = |size: u32, token: &str| {
            Page::parse(Some(&PageRequest {
                page_size: size,
                page_token: token.to_owned(),
            }))
        };
        assert_eq!(
            Page::parse(None),
            Ok(Page {
                offset: 0,
                size: 50
            })
        );
        assert_eq!(
            ask(500, "40"),
            Ok(Page {
                offset: 40,
                size: 200
            })
        );
        for bad in ["x", "-1", "1.5"] {
            assert_eq!(ask(10, bad), Err(BadPageToken), "{bad}");
        }
        let page = Page {
            offset: 40,
            size: 10,
        };
        assert_eq!(page.next_token(10), "50");
        assert_eq!(page.next_token(3), "");
    }
}
