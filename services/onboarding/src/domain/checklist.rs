//! The setup checklist: its steps in display order, what completes each, the data `first_setup`
//! takes, and how a step's state follows from its source and the user's own actions.

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

/// A built-in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Stable id.
    pub id: &'static str,
    /// Display title.
    pub title: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// What completes it.
    pub source: Source,
    /// Whether COMPLETE needs data.
    pub data_required: bool,
    /// Where the frontend lets the user act on it.
    pub action_path: &'static str,
}

/// Every step, in display order.
pub const STEPS: [Step; 5] = [
    Step {
        id: "verify_email",
        title: "Verify your email",
        description: "Click the link we sent you to confirm your address.",
        source: Source::Identity,
        data_required: false,
        action_path: "/account/verify-email",
    },
    Step {
        id: "choose_plan",
        title: "Choose a plan",
        description: "Pick the plan that fits your team, or start a trial.",
        source: Source::Billing,
        data_required: false,
        action_path: "/account/billing/select-plan",
    },
    Step {
        id: "invite_teammates",
        title: "Invite your teammates",
        description: "Work together: invite at least one colleague.",
        source: Source::Tenancy,
        data_required: false,
        action_path: "/settings/members",
    },
    Step {
        id: "connect_payouts",
        title: "Connect payouts",
        description: "Set up Stripe so you can take payments.",
        source: Source::Connect,
        data_required: false,
        action_path: "/settings/payouts",
    },
    Step {
        id: "first_setup",
        title: "Set up your workspace",
        description: "Tell us about your team so we can tailor the product.",
        source: Source::User,
        data_required: true,
        action_path: "/onboarding/setup",
    },
];

/// The step with this id; NOT_FOUND otherwise.
pub fn step(id: &str) -> Result<&'static Step, OnboardingError> {
    STEPS
        .iter()
        .find(|step| step.id == id)
        .ok_or(OnboardingError::NotFound("step"))
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
            return Err(OnboardingError::invalid(
                field("company_name"),
                "must be 1 to 100 characters",
            ));
        }
        let team_size =
            team_size.ok_or_else(|| OnboardingError::invalid(field("team_size"), "is required"))?;
        let use_case = use_case.trim();
        if use_case.chars().count() > 500 {
            return Err(OnboardingError::invalid(
                field("use_case"),
                "must be at most 500 characters",
            ));
        }
        let time_zone = time_zone.trim();
        if !time_zone.is_empty() && time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(OnboardingError::invalid(
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

/// What the user did with a step (a stored row).
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// Completed by the user, with data.
    Done {
        /// When.
        at: DateTime<Utc>,
        /// The data, if the step takes any.
        data: Option<FirstSetup>,
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
        data: Option<FirstSetup>,
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

    fn by_id(id: &str) -> &'static Step {
        step(id).expect("built-in step")
    }

    #[test]
    fn context_steps_follow_their_source_and_degrade_to_unknown() {
        let verify = by_id("verify_email");
        let at = Utc::now();
        assert!(matches!(
            resolve(verify, Some(true), None),
            StepState::Done { .. }
        ));
        assert_eq!(resolve(verify, Some(false), None), StepState::Pending);
        assert_eq!(resolve(verify, None, None), StepState::Unknown);
        let dismissed = Mark::Dismissed { at };
        assert_eq!(
            resolve(verify, None, Some(&dismissed)),
            StepState::Dismissed { at }
        );
        assert!(matches!(
            resolve(verify, Some(true), Some(&dismissed)),
            StepState::Done { .. }
        ));
    }

    #[test]
    fn user_steps_follow_the_user_only() {
        let setup = by_id("first_setup");
        assert_eq!(resolve(setup, None, None), StepState::Pending);
        let at = Utc::now();
        let done = Mark::Done { at, data: None };
        assert_eq!(
            resolve(setup, None, Some(&done)),
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
            Err(OnboardingError::Invalid { field, .. }) => field,
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

    #[test]
    fn unknown_steps_are_not_found() {
        assert!(matches!(step("nope"), Err(OnboardingError::NotFound(_))));
        let ids: Vec<_> = STEPS.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "verify_email",
                "choose_plan",
                "invite_teammates",
                "connect_payouts",
                "first_setup"
            ]
        );
    }
}
