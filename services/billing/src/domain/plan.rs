//! The plan catalog's types: parsed once (codes, limit fields, prices), so a `Plan` is always valid.

use uuid::Uuid;

/// A plan code: lowercase a–z, 0–9 and '-', 2–40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub(crate) struct PlanCode(String);

impl PlanCode {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let ok_chars = text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !(2..=40).contains(&text.len()) || !ok_chars {
            return Err("must be 2–40 characters of a–z, 0–9 and '-'".to_owned());
        }
        Ok(Self(text.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A limit field name: lowercase a–z, 0–9 and '_', starting with a letter, at most 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub(crate) struct LimitField(String);

impl LimitField {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let starts = text.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let ok_chars = text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !starts || !ok_chars || text.len() > 63 {
            return Err(
                "must start with a–z and use only a–z, 0–9 and '_' (at most 63)".to_owned(),
            );
        }
        Ok(Self(text.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The always-present, always-numeric seats field.
    pub(crate) fn is_seats(&self) -> bool {
        self.0 == "seats"
    }
}

/// A limit's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) enum LimitValue {
    Max(i64),
    Unlimited,
    Enabled(bool),
}

impl LimitValue {
    pub(crate) fn is_numeric(self) -> bool {
        !matches!(self, Self::Enabled(_))
    }
}

/// One limit of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Limit {
    pub(crate) field: LimitField,
    pub(crate) value: LimitValue,
    pub(crate) display_name: String,
}

/// How a plan is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) enum PlanKind {
    Paid,
    Free,
    Complimentary,
}

impl PlanKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Free => "free",
            Self::Complimentary => "complimentary",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [Self::Paid, Self::Free, Self::Complimentary]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// A paid plan's billing interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) enum Interval {
    Month,
    Year,
}

impl Interval {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "month" => Some(Self::Month),
            "year" => Some(Self::Year),
            _ => None,
        }
    }
}

/// A plan, valid on its own (catalog-wide rules are checked by [`check_catalog`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Plan {
    /// `None` for a plan being created.
    pub(crate) id: Option<Uuid>,
    pub(crate) code: PlanCode,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) kind: PlanKind,
    pub(crate) price_amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) interval: Option<Interval>,
    pub(crate) per_seat: bool,
    pub(crate) trial_days: u32,
    pub(crate) trial_requires_card: bool,
    pub(crate) public: bool,
    pub(crate) archived: bool,
    pub(crate) sort_order: i32,
    pub(crate) highlights: Vec<String>,
    pub(crate) stripe_product_id: Option<String>,
    pub(crate) stripe_price_id: Option<String>,
    pub(crate) limits: Vec<Limit>,
}

impl Plan {
    /// The plan's value for `field`, if it has one.
    pub(crate) fn limit(&self, field: &str) -> Option<LimitValue> {
        self.limits
            .iter()
            .find(|limit| limit.field.as_str() == field)
            .map(|limit| limit.value)
    }
}

/// A catalog-wide violation: the field path and why.
pub(crate) type Violation = (String, String);

/// Rules across plans: unique codes, one currency, a field keeps its kind in every plan, every stored
/// plan is present (plans are archived, never deleted), known ids only, codes never change.
pub(crate) fn check_catalog(plans: &[Plan], stored: &[Plan]) -> Result<(), Violation> {
    let mut codes = std::collections::HashSet::new();
    let mut kinds = std::collections::HashMap::new();
    let currency = plans.first().map(|plan| plan.currency.clone());
    for (i, plan) in plans.iter().enumerate() {
        if !codes.insert(plan.code.clone()) {
            return Err((format!("plans[{i}].code"), "duplicate plan code".to_owned()));
        }
        if Some(&plan.currency) != currency.as_ref() {
            return Err((
                format!("plans[{i}].price.currency"),
                "every plan must use one currency".to_owned(),
            ));
        }
        if let Some(id) = plan.id {
            let Some(old) = stored.iter().find(|old| old.id == Some(id)) else {
                return Err((format!("plans[{i}].id"), "no such plan".to_owned()));
            };
            if old.code != plan.code {
                return Err((
                    format!("plans[{i}].code"),
                    "a plan's code never changes".to_owned(),
                ));
            }
        }
        for (j, limit) in plan.limits.iter().enumerate() {
            let numeric = limit.value.is_numeric();
            if *kinds.entry(limit.field.clone()).or_insert(numeric) != numeric {
                return Err((
                    format!("plans[{i}].limits[{j}].value"),
                    "a field must be numeric in every plan or boolean in every plan".to_owned(),
                ));
            }
        }
    }
    for old in stored {
        if !plans.iter().any(|plan| plan.id == old.id) {
            return Err((
                "plans".to_owned(),
                format!("plan {} is missing (archive it instead)", old.code.as_str()),
            ));
        }
    }
    Ok(())
}
