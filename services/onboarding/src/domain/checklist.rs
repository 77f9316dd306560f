//! The setup checklist: its steps in display order, what completes each, the data `first_setup`
//! takes, and how a step's state follows from its source and the user's own actions.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::OnboardingError;

/// What completes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The user, with data.
    User,
    /// Identity: the email is verified.
    Identity,
    /// Billing: the plan is active.
    Billing,
    /// Tenancy: a second member joined.
    Tenancy,
    /// Onboarding's own Connect state.
    Connect,
}

/// The data a step takes when the user completes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataKind {
    /// None (steps other contexts complete).
    Nothing,
    /// [`FirstSetup`].
    FirstSetup,
    /// A JSON object with these keys present (a step an adopting team configured).
    Custom {
        /// Keys that must be present and not null.
        required_keys: Vec<String>,
    },
}

/// A checklist step: built in, or configured by the adopting team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Stable id: lowercase a–z, 0–9 and `_`.
    pub id: Cow<'static, str>,
    /// Display title.
    pub title: Cow<'static, str>,
    /// One-line description.
    pub description: Cow<'static, str>,
    /// What completes it.
    pub source: Source,
    /// The data COMPLETE takes.
    pub data: DataKind,
    /// Where the frontend lets the user act on it.
    pub action_path: Cow<'static, str>,
}

impl Step {
    /// Whether COMPLETE needs data.
    pub fn data_required(&self) -> bool {
        match &self.data {
            DataKind::Nothing => false,
            DataKind::FirstSetup => true,
            DataKind::Custom { required_keys } => !required_keys.is_empty(),
        }
    }

    const fn built_in(
        id: &'static str,
        title: &'static str,
        description: &'static str,
        source: Source,
        data: DataKind,
        action_path: &'static str,
    ) -> Self {
        Self {
            id: Cow::Borrowed(id),
            title: Cow::Borrowed(title),
            description: Cow::Borrowed(description),
            source,
            data,
            action_path: Cow::Borrowed(action_path),
        }
    }
}

/// The built-in steps, in display order (configured steps follow them).
pub fn built_in_steps() -> Vec<Step> {
    vec![
        Step::built_in(
            "verify_email",
            "Verify your email",
            "Click the link we sent you to confirm your address.",
            Source::Identity,
            DataKind::Nothing,
            "/account/verify-email",
        ),
        Step::built_in(
            "choose_plan",
            "Choose a plan",
            "Pick the plan that fits your team, or start a trial.",
            Source::Billing,
            DataKind::Nothing,
            "/account/billing/select-plan",
        ),
        Step::built_in(
            "invite_teammates",
            "Invite your teammates",
            "Work together: invite at least one colleague.",
            Source::Tenancy,
            DataKind::Nothing,
            "/settings/members",
        ),
        Step::built_in(
            "connect_payouts",
            "Connect payouts",
            "Set up Stripe so you can take payments.",
            Source::Connect,
            DataKind::Nothing,
            "/settings/payouts",
        ),
        Step::built_in(
            "first_setup",
            "Set up your workspace",
            "Tell us about your team so we can tailor the product.",
            Source::User,
            DataKind::FirstSetup,
            "/onboarding/setup",
        ),
    ]
}

/// Validated data of the `first_setup` step (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstSetup {
    /// Trimmed, 1–100 characters.
    pub company_name: String,
    /// One of [`TEAM_SIZES`].
    pub team_size: String,
    /// At most 500 characters; may be empty.
    pub use_case: String,
    /// A known IANA zone, or empty.
    pub time_zone: String,
}

impl FirstSetup {
    /// Parses the raw fields; `team_size` is `None` when unspecified. Errors name
    /// `data.first_setup.<field>`.
    pub fn parse(
        company_name: &str,
        team_size: Option<&'static str>,
        use_case: &str,
        time_zone: &str,
    ) -> Result<Self, OnboardingError> {
        let field = |name: &str| format!("data.first_setup.{name}");
        let company_name = company_name.trim();
        let length = company_name.chars().count();
        if length == 0 || length > 100 || company_name.chars().any(char::is_control) {
            return Err(OnboardingError::invalid_data(
                field("company_name"),
                "must be 1 to 100 characters",
            ));
        }
        let team_size = team_size
            .ok_or_else(|| OnboardingError::invalid_data(field("team_size"), "is required"))?;
        let use_case = use_case.trim();
        if use_case.chars().count() > 500 {
            return Err(OnboardingError::invalid_data(
                field("use_case"),
                "must be at most 500 characters",
            ));
        }
        let time_zone = time_zone.trim();
        if !time_zone.is_empty() && time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(OnboardingError::invalid_data(
                field("time_zone"),
                "must be an IANA time zone such as Europe/Berlin",
            ));
        }
        Ok(Self {
            company_name: company_name.to_owned(),
            team_size: team_size.to_owned(),
            use_case: use_case.to_owned(),
            time_zone: time_zone.to_owned(),
        })
    }
}

/// The data a user completed a step with (stored as JSON, tagged by kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepPayload {
    /// For `first_setup`.
    FirstSetup(FirstSetup),
    /// For a configured step.
    Custom(serde_json::Map<String, serde_json::Value>),
}

/// What the user did with a step (a stored row).
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// Completed by the user, with data.
    Done {
        /// When.
        at: DateTime<Utc>,
        /// The data, if the step takes any.
        data: Option<StepPayload>,
    },
    /// Dismissed.
    Dismissed {
        /// When.
        at: DateTime<Utc>,
    },
}

/// A step's state for the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    /// Done; the time and data when the user did it.
    Done {
        /// When, if known.
        at: Option<DateTime<Utc>>,
        /// The user's data.
        data: Option<StepPayload>,
    },
    /// Not done yet.
    Pending,
    /// Dismissed.
    Dismissed {
        /// When.
        at: DateTime<Utc>,
    },
    /// Its context did not answer in time.
    Unknown,
}

/// The one rule for a step's state. `answer` is the deciding context's answer (`None`: it did not
/// answer); for user steps it is ignored. Done from a context wins over a dismissal, because it is a
/// fact; a dismissal wins over "unknown", because the user's choice is known.
pub fn resolve(step: &Step, answer: Option<bool>, mark: Option<&Mark>) -> StepState {
    if step.source == Source::User {
        return match mark {
            Some(Mark::Done { at, data }) => StepState::Done {
                at: Some(*at),
                data: data.clone(),
            },
            Some(Mark::Dismissed { at }) => StepState::Dismissed { at: *at },
            None => StepState::Pending,
        };
    }
    match (answer, mark) {
        (Some(true), _) => StepState::Done {
            at: None,
            data: None,
        },
        (_, Some(Mark::Dismissed { at })) => StepState::Dismissed { at: *at },
        (Some(false), _) => StepState::Pending,
        (None, _) => StepState::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_id(id: &str) -> Step {
        built_in_steps()
            .into_iter()
            .find(|s| s.id == id)
            .expect("built-in step")
    }

    #[test]
    fn context_steps_follow_their_source_and_degrade_to_unknown() {
        let verify = by_id("verify_email");
        let at = Utc::now();
        assert!(matches!(
            resolve(&verify, Some(true), None),
            StepState::Done { .. }
        ));
        assert_eq!(resolve(&verify, Some(false), None), StepState::Pending);
        assert_eq!(resolve(&verify, None, None), StepState::Unknown);
        let dismissed = Mark::Dismissed { at };
        assert_eq!(
            resolve(&verify, None, Some(&dismissed)),
            StepState::Dismissed { at }
        );
        assert!(matches!(
            resolve(&verify, Some(true), Some(&dismissed)),
            StepState::Done { .. }
        ));
    }

    #[test]
    fn user_steps_follow_the_user_only() {
        let setup = by_id("first_setup");
        assert_eq!(resolve(&setup, None, None), StepState::Pending);
        let at = Utc::now();
        let done = Mark::Done { at, data: None };
        assert_eq!(
            resolve(&setup, None, Some(&done)),
            StepState::Done {
                at: Some(at),
                data: None
            }
        );
    }

    #[test]
    fn first_setup_names_each_bad_field() {
        let ok = FirstSetup::parse(" Acme ", Some("small"), "", "Europe/Berlin").expect("valid");
        assert_eq!(ok.company_name, "Acme");
        let field = |result: Result<FirstSetup, OnboardingError>| match result {
            Err(OnboardingError::InvalidData { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(
            field(FirstSetup::parse(" ", Some("small"), "", "")),
            "data.first_setup.company_name"
        );
        assert_eq!(
            field(FirstSetup::parse("Acme", None, "", "")),
            "data.first_setup.team_size"
        );
        assert_eq!(
            field(FirstSetup::parse(
                "Acme",
                Some("small"),
                &"x".repeat(501),
                ""
            )),
            "data.first_setup.use_case"
        );
        assert_eq!(
            field(FirstSetup::parse("Acme", Some("small"), "", "Mars/Olympus")),
            "data.first_setup.time_zone"
        );
    }
}
