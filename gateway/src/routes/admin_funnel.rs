//! `GET /v1/admin/funnel?from=&to=`: the self-serve funnel for operators, counted from the product
//! events each context records in the transaction of its fact (`onramp_kit::product_events`).
//!
//! Billing answers first and decides who is an operator (the admin catalog's check); only then are
//! identity, tenancy and onboarding asked, in parallel. Each counts its own events; the steps are
//! put in funnel order here, the one place that knows the order is [`FUNNEL`].

use std::time::SystemTime;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use futures::future::try_join_all;
use onramp_kit::{
    ApiError,
    product_events::{FUNNEL, SIDE_EVENTS},
};
use onramp_proto::events::v1::{CountProductEventsRequest, EventCount};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::AuthUser,
    clients::Peer,
    problem::Problem,
    routes::{
        call::{Caller, answer},
        extract::{Json, Query},
    },
};

/// The window when `from` is not given: the last 30 days before `to`.
const DEFAULT_WINDOW_DAYS: i64 = 30;

/// `?from=&to=`: RFC 3339 instants; `to` defaults to now, `from` to 30 days before `to`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Window {
    /// Start of the window (inclusive), RFC 3339, e.g. `2026-12-01T00:00:00Z`.
    from: Option<String>,
    /// End of the window (exclusive), RFC 3339; default now.
    to: Option<String>,
}

/// One funnel step: its events, its distinct users, and how many of the users before reached it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FunnelStep {
    /// The event name, e.g. `workspace_created`.
    name: String,
    /// Events in the window.
    events: i64,
    /// Distinct users (PostHog distinct ids) in the window.
    users: i64,
    /// `users` over the previous step's users (null for the first step or when it had none).
    conversion_from_previous: Option<f64>,
    /// `users` over the first step's users (null when it had none).
    conversion_from_first: Option<f64>,
}

/// An event beside the funnel's line (trials, invites, sales leads): counted, not converted.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SideEvent {
    /// The event name, e.g. `invite_sent`.
    name: String,
    /// Events in the window.
    events: i64,
    /// Distinct users in the window.
    users: i64,
}

/// The funnel in a window.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FunnelJson {
    /// Start of the window (inclusive).
    #[schema(format = DateTime)]
    from: String,
    /// End of the window (exclusive).
    #[schema(format = DateTime)]
    to: String,
    /// The steps in funnel order, every step listed (0 when nothing happened).
    steps: Vec<FunnelStep>,
    /// Trials, invites and sales leads.
    other: Vec<SideEvent>,
}

/// An instant of the query, or a 400 naming `field`.
fn instant(text: Option<&str>, field: &str) -> Result<Option<DateTime<Utc>>, Problem> {
    text.map(|text| {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| {
                Problem(ApiError::invalid_field(
                    field,
                    "must be an RFC 3339 timestamp, e.g. 2026-12-01T00:00:00Z",
                ))
            })
    })
    .transpose()
}

impl Window {
    fn bounds(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), Problem> {
        let to = instant(self.to.as_deref(), "to")?.unwrap_or_else(Utc::now);
        let from = instant(self.from.as_deref(), "from")?
            .unwrap_or(to - Duration::days(DEFAULT_WINDOW_DAYS));
        if from >= to {
            return Err(Problem(ApiError::invalid_field(
                "from",
                "must be before `to`",
            )));
        }
        Ok((from, to))
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// One event's count, summed over the services that record it.
fn counted(counts: &[EventCount], name: &str) -> SideEvent {
    let (events, users) = (counts.iter())
        .filter(|count| count.name == name)
        .fold((0, 0), |(events, users), count| {
            (events + count.events, users + count.users)
        });
    let name = name.to_owned();
    SideEvent {
        name,
        events,
        users,
    }
}

/// Orders the counts of every service into the funnel's steps and the side events.
fn shape(counts: &[EventCount]) -> (Vec<FunnelStep>, Vec<SideEvent>) {
    let first_users = FUNNEL.first().map_or(0, |name| counted(counts, name).users);
    let mut previous: Option<i64> = None;
    let steps = FUNNEL.iter().map(|name| {
        let SideEvent {
            name,
            events,
            users,
        } = counted(counts, name);
        let conversion_from_previous = previous.and_then(|before| ratio(users, before));
        previous = Some(users);
        let conversion_from_first = ratio(users, first_users);
        FunnelStep {
            name,
            events,
            users,
            conversion_from_previous,
            conversion_from_first,
        }
    });
    let other = SIDE_EVENTS.iter().map(|name| counted(counts, name));
    (steps.collect(), other.collect())
}

/// The self-serve funnel (operators only): per step, events, distinct users and conversion.
#[utoipa::path(get, path = "/v1/admin/funnel", tag = "admin", operation_id = "get_funnel",
    security(("bearer" = [])), params(Window),
    responses(
        (status = 200, description = "The funnel in the window (operators only)", body = FunnelJson),
        (status = 400, description = "`from` or `to` is not an RFC 3339 instant, or `from` is not before `to`"),
        (status = 403, description = "The caller is not an operator"),
    ))]
pub(crate) async fn funnel(
    c: Caller<AuthUser>,
    Query(window): Query<Window>,
) -> Result<Json<FunnelJson>, Problem> {
    let (from, to) = window.bounds()?;
    let request = CountProductEventsRequest {
        caller: c.meta(),
        from: Some(SystemTime::from(from).into()),
        to: Some(SystemTime::from(to).into()),
    };
    let ask = |peer: &Peer| {
        let (mut events, request) = (peer.events(), request.clone());
        async move { answer(events.count_product_events(request)).await }
    };
    let (billing, others) = c.billing_first();
    // Billing first: it refuses anyone but an operator, before any other service is asked.
    let mut counts = ask(billing).await?.counts;
    for answered in try_join_all(others.map(ask)).await? {
        counts.extend(answered.counts);
    }
    let (steps, other) = shape(&counts);
    Ok(Json(FunnelJson {
        from: from.to_rfc3339_opts(SecondsFormat::Millis, true),
        to: to.to_rfc3339_opts(SecondsFormat::Millis, true),
        steps,
        other,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(name: &str, events: i64, users: i64) -> EventCount {
        EventCount {
            name: name.to_owned(),
            events,
            users,
        }
    }

    #[test]
    fn steps_follow_the_funnel_and_convert_from_the_step_before() {
        let counts = [
            count("workspace_created", 2, 2),
            count("account_created", 4, 4),
            count("email_verified", 3, 3),
            count("invite_sent", 5, 1),
        ];
        let (steps, other) = shape(&counts);
        let names: Vec<&str> = steps.iter().map(|step| step.name.as_str()).collect();
        assert_eq!(names, FUNNEL);
        assert_eq!(steps[0].conversion_from_previous, None);
        assert_eq!(steps[1].conversion_from_previous, Some(0.75));
        assert_eq!(steps[2].conversion_from_first, Some(0.5));
        // A step nobody reached converts nobody onwards: the next ratio has no denominator.
        assert_eq!(steps[3].users, 0);
        assert_eq!(steps[4].conversion_from_previous, None);
        let invites = other
            .iter()
            .find(|e| e.name == "invite_sent")
            .expect("listed");
        assert_eq!((invites.events, invites.users), (5, 1));
    }

    #[test]
    fn a_bad_or_empty_window_names_its_field() {
        let bad = Window {
            from: Some("yesterday".to_owned()),
            to: None,
        };
        assert_eq!(
            bad.bounds().err().and_then(|p| p.0.field).as_deref(),
            Some("from")
        );
        let bad_to = Window {
            from: None,
            to: Some("2026-13-01T00:00:00Z".to_owned()),
        };
        assert_eq!(
            bad_to.bounds().err().and_then(|p| p.0.field).as_deref(),
            Some("to")
        );
        let inverted = Window {
            from: Some("2026-12-02T00:00:00Z".to_owned()),
            to: Some("2026-12-01T00:00:00Z".to_owned()),
        };
        assert_eq!(
            inverted.bounds().err().and_then(|p| p.0.field).as_deref(),
            Some("from")
        );
    }
}
