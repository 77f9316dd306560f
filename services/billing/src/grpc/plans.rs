//! Plan catalog messages <-> domain plans. Every field is checked here, once, and a failure names the
//! field's path in the request (`plans[2].limits[0].field`).

use onramp_proto::{
    billing::v1::{
        self as pb, BillingInterval, PlanKind as ProtoKind, limit_value::Value as ProtoLimit,
    },
    common::v1::Money,
};
use uuid::Uuid;

use crate::{
    domain::plan::{Interval, Limit, LimitField, LimitValue, Plan, PlanCode, PlanKind},
    error::BillingError,
};

fn bad(path: String, message: impl Into<String>) -> BillingError {
    BillingError::invalid(path, message)
}

/// Parses plan `i` of a catalog write.
pub(crate) fn parse_plan(i: usize, plan: pb::Plan) -> Result<Plan, BillingError> {
    let at = |field: &str| format!("plans[{i}].{field}");
    let id = if plan.id.is_empty() {
        None
    } else {
        Some(Uuid::parse_str(&plan.id).map_err(|_| bad(at("id"), "must be a UUID or empty"))?)
    };
    let code = PlanCode::parse(&plan.code).map_err(|m| bad(at("code"), m))?;
    let name = plan.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(bad(at("name"), "must be 1–60 characters"));
    }
    if plan.description.chars().count() > 500 {
        return Err(bad(at("description"), "must be at most 500 characters"));
    }
    let kind = match plan.kind() {
        ProtoKind::Paid => PlanKind::Paid,
        ProtoKind::Free => PlanKind::Free,
        ProtoKind::Complimentary => PlanKind::Complimentary,
        ProtoKind::Unspecified => return Err(bad(at("kind"), "must be set")),
    };
    let price = plan.price.clone().unwrap_or_default();
    let currency = price.currency.to_ascii_lowercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(bad(at("price.currency"), "must be an ISO 4217 code"));
    }
    if price.amount_minor < 0 || (kind != PlanKind::Paid && price.amount_minor != 0) {
        return Err(bad(
            at("price.amount_minor"),
            "must be >= 0, and 0 unless the plan is paid",
        ));
    }
    let interval = match (plan.interval(), kind) {
        (BillingInterval::Month, PlanKind::Paid) => Some(Interval::Month),
        (BillingInterval::Year, PlanKind::Paid) => Some(Interval::Year),
        (BillingInterval::Unspecified, PlanKind::Paid) => {
            return Err(bad(at("interval"), "required for paid plans"));
        }
        (BillingInterval::Unspecified, _) => None,
        _ => return Err(bad(at("interval"), "only paid plans have an interval")),
    };
    if plan.trial_days > 365 {
        return Err(bad(at("trial_days"), "must be 0–365"));
    }
    if plan.highlights.len() > 20 || plan.highlights.iter().any(|h| h.chars().count() > 120) {
        return Err(bad(
            at("highlights"),
            "at most 20, each at most 120 characters",
        ));
    }
    let stripe_id =
        |value: String, prefix: &str, field: &str| -> Result<Option<String>, BillingError> {
            match value.as_str() {
                "" => Ok(None),
                id if id.starts_with(prefix) => Ok(Some(value)),
                _ => Err(bad(at(field), format!("must start with {prefix}"))),
            }
        };
    let mut limits: Vec<Limit> = Vec::with_capacity(plan.limits.len());
    for (j, limit) in plan.limits.into_iter().enumerate() {
        let path = |field: &str| format!("plans[{i}].limits[{j}].{field}");
        let field = LimitField::parse(&limit.field).map_err(|m| bad(path("field"), m))?;
        if limits.iter().any(|other| other.field == field) {
            return Err(bad(path("field"), "duplicate limit field"));
        }
        let value = match limit.value.and_then(|value| value.value) {
            Some(ProtoLimit::Max(max)) if max >= 0 => LimitValue::Max(max),
            Some(ProtoLimit::Max(_)) => return Err(bad(path("value.max"), "must be >= 0")),
            Some(ProtoLimit::Unlimited(_)) => LimitValue::Unlimited,
            Some(ProtoLimit::Enabled(on)) => LimitValue::Enabled(on),
            None => return Err(bad(path("value"), "must be set")),
        };
        if field.is_seats() && !value.is_numeric() {
            return Err(bad(path("value"), "seats is always numeric"));
        }
        limits.push(Limit {
            field,
            value,
            display_name: limit.display_name,
        });
    }
    if !limits.iter().any(|limit| limit.field.is_seats()) {
        return Err(bad(at("limits"), "the seats limit is required"));
    }
    Ok(Plan {
        id,
        code,
        name,
        description: plan.description,
        kind,
        price_amount_minor: price.amount_minor,
        currency,
        interval,
        per_seat: plan.per_seat,
        trial_days: plan.trial_days,
        trial_requires_card: plan.trial_requires_card,
        public: plan.public,
        archived: plan.archived,
        sort_order: plan.sort_order,
        highlights: plan.highlights,
        stripe_product_id: stripe_id(plan.stripe_product_id, "prod_", "stripe_product_id")?,
        stripe_price_id: stripe_id(plan.stripe_price_id, "price_", "stripe_price_id")?,
        limits,
    })
}

/// A limit value as the wire carries it.
pub(crate) fn limit_value(value: LimitValue) -> pb::LimitValue {
    pb::LimitValue {
        value: Some(match value {
            LimitValue::Max(max) => ProtoLimit::Max(max),
            LimitValue::Unlimited => ProtoLimit::Unlimited(pb::Unlimited {}),
            LimitValue::Enabled(on) => ProtoLimit::Enabled(on),
        }),
    }
}

/// A plan as the wire carries it; `with_stripe_ids` false for public listings.
pub(crate) fn plan_message(plan: &Plan, with_stripe_ids: bool) -> pb::Plan {
    let kind = match plan.kind {
        PlanKind::Paid => ProtoKind::Paid,
        PlanKind::Free => ProtoKind::Free,
        PlanKind::Complimentary => ProtoKind::Complimentary,
    };
    let interval = match plan.interval {
        Some(Interval::Month) => BillingInterval::Month,
        Some(Interval::Year) => BillingInterval::Year,
        None => BillingInterval::Unspecified,
    };
    let stripe = |id: &Option<String>| {
        if with_stripe_ids {
            id.clone().unwrap_or_default()
        } else {
            String::new()
        }
    };
    pb::Plan {
        id: plan.id.map(|id| id.to_string()).unwrap_or_default(),
        code: plan.code.as_str().to_owned(),
        name: plan.name.clone(),
        description: plan.description.clone(),
        kind: kind as i32,
        price: Some(Money {
            amount_minor: plan.price_amount_minor,
            currency: plan.currency.clone(),
        }),
        interval: interval as i32,
        per_seat: plan.per_seat,
        trial_days: plan.trial_days,
        trial_requires_card: plan.trial_requires_card,
        public: plan.public,
        archived: plan.archived,
        sort_order: plan.sort_order,
        highlights: plan.highlights.clone(),
        stripe_product_id: stripe(&plan.stripe_product_id),
        stripe_price_id: stripe(&plan.stripe_price_id),
        limits: plan
            .limits
            .iter()
            .map(|limit| pb::PlanLimit {
                field: limit.field.as_str().to_owned(),
                value: Some(limit_value(limit.value)),
                display_name: limit.display_name.clone(),
            })
            .collect(),
    }
}
