//! The one timestamp format of the HTTP API: RFC 3339 in UTC with milliseconds
//! (`2026-11-22T05:15:00.000Z`), `null` when unset — never Unix seconds, never an empty string.
//! Fields carrying it are documented `#[schema(format = DateTime)]`. Durations
//! (`expires_in`) stay numbers: they are spans, not instants.

use chrono::{DateTime, SecondsFormat, Utc};
use prost_types::Timestamp;

/// A proto timestamp as RFC 3339 UTC; `None` when unset or outside chrono's range.
pub(crate) fn rfc3339(at: Option<Timestamp>) -> Option<String> {
    at.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_millis_and_unset_is_none() {
        let at = Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000_000,
        };
        assert_eq!(
            rfc3339(Some(at)).as_deref(),
            Some("2023-11-14T22:13:20.005Z")
        );
        assert_eq!(rfc3339(None), None);
    }
}
