//! The checklist's steps: the built-in ones, then those an adopting team configured
//! (`CHECKLIST_CUSTOM_STEPS`), and the validation of a configured step's custom data.

use std::{borrow::Cow, collections::HashSet, sync::Arc};

use anyhow::{bail, ensure};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    domain::checklist::{DataKind, Source, Step, built_in_steps},
    error::OnboardingError,
};

/// The largest custom data accepted, serialized.
pub const MAX_CUSTOM_BYTES: usize = 16 * 1024;
/// The deepest nesting accepted in custom data (the object itself is level 1).
pub const MAX_CUSTOM_DEPTH: usize = 3;

/// A step configured by the adopting team, completed by the user with custom data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomStep {
    /// Stable id: lowercase a–z, 0–9 and `_`, not a built-in id.
    pub id: String,
    /// Display title.
    pub title: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Where the frontend lets the user act on it.
    #[serde(default)]
    pub action_path: String,
    /// Keys the data must carry (present, not null); none: data optional.
    #[serde(default)]
    pub required_keys: Vec<String>,
}

/// Every step, in display order; cheap to clone.
#[derive(Debug, Clone)]
pub struct Steps(Arc<[Step]>);

impl Default for Steps {
    fn default() -> Self {
        Self(built_in_steps().into())
    }
}

impl Steps {
    /// The built-in steps followed by `custom`; refuses bad or duplicate ids (a startup error).
    pub fn new(custom: Vec<CustomStep>) -> anyhow::Result<Self> {
        let mut steps = built_in_steps();
        let mut seen: HashSet<String> = steps.iter().map(|s| s.id.to_string()).collect();
        for step in custom {
            let valid_id = !step.id.is_empty()
                && step.id.len() <= 64
                && step
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            ensure!(
                valid_id,
                "checklist step id {:?} must be a-z, 0-9 and _",
                step.id
            );
            if !seen.insert(step.id.clone()) {
                bail!("checklist step id {:?} is used twice", step.id);
            }
            ensure!(
                !step.title.trim().is_empty(),
                "checklist step {:?} needs a title",
                step.id
            );
            steps.push(Step {
                id: Cow::Owned(step.id),
                title: Cow::Owned(step.title),
                description: Cow::Owned(step.description),
                source: Source::User,
                data: DataKind::Custom {
                    required_keys: step.required_keys,
                },
                action_path: Cow::Owned(step.action_path),
            });
        }
        Ok(Self(steps.into()))
    }

    /// Parses `CHECKLIST_CUSTOM_STEPS` (a JSON array of [`CustomStep`]).
    pub fn from_json(json: &str) -> anyhow::Result<Self> {
        let custom: Vec<CustomStep> = serde_json::from_str(json)
            .map_err(|error| anyhow::anyhow!("CHECKLIST_CUSTOM_STEPS is not valid: {error}"))?;
        Self::new(custom)
    }

    /// Every step, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Step> {
        self.0.iter()
    }

    /// The step with this id; NOT_FOUND otherwise.
    pub fn get(&self, id: &str) -> Result<&Step, OnboardingError> {
        self.0
            .iter()
            .find(|step| step.id == id)
            .ok_or(OnboardingError::NotFound("step"))
    }
}

/// Validates a configured step's data: a JSON object of at most [`MAX_CUSTOM_BYTES`] and
/// [`MAX_CUSTOM_DEPTH`] levels, with every required key present and not null.
pub fn parse_custom(
    required_keys: &[String],
    data: Value,
) -> Result<Map<String, Value>, OnboardingError> {
    let Value::Object(object) = data else {
        return Err(OnboardingError::invalid_data(
            "data.custom",
            "must be a JSON object",
        ));
    };
    let size = serde_json::to_vec(&object)
        .map_err(|error| OnboardingError::Unexpected(error.into()))?
        .len();
    if size > MAX_CUSTOM_BYTES {
        return Err(OnboardingError::invalid_data(
            "data.custom",
            format!("must be at most {MAX_CUSTOM_BYTES} bytes"),
        ));
    }
    if depth(&Value::Object(object.clone())) > MAX_CUSTOM_DEPTH {
        return Err(OnboardingError::invalid_data(
            "data.custom",
            format!("must be at most {MAX_CUSTOM_DEPTH} levels deep"),
        ));
    }
    for key in required_keys {
        if object.get(key).is_none_or(Value::is_null) {
            return Err(OnboardingError::invalid_data(
                format!("data.custom.{key}"),
                "is required",
            ));
        }
    }
    Ok(object)
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(result: Result<Map<String, Value>, OnboardingError>) -> String {
        match result {
            Err(OnboardingError::InvalidData { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn configured_steps_follow_the_built_in_ones_and_ids_are_checked() {
        let steps = Steps::from_json(
            r#"[{"id":"import_data","title":"Import","required_keys":["source"]}]"#,
        )
        .expect("valid");
        let ids: Vec<_> = steps.iter().map(|s| s.id.as_ref()).collect();
        assert_eq!(
            ids,
            [
                "verify_email",
                "choose_plan",
                "invite_teammates",
                "connect_payouts",
                "first_setup",
                "import_data"
            ]
        );
        assert!(steps.get("import_data").expect("found").data_required());
        assert!(matches!(
            steps.get("nope"),
            Err(OnboardingError::NotFound(_))
        ));
        assert!(Steps::from_json(r#"[{"id":"Bad Id","title":"x"}]"#).is_err());
        assert!(Steps::from_json(r#"[{"id":"first_setup","title":"x"}]"#).is_err());
        assert!(Steps::from_json(r#"[{"id":"a","title":""}]"#).is_err());
        assert!(Steps::from_json("not json").is_err());
    }

    #[test]
    fn custom_data_is_an_object_with_its_required_keys_within_size_and_depth() {
        let keys = vec!["source".to_owned()];
        assert!(parse_custom(&keys, json!({"source": "csv", "rows": 10})).is_ok());
        assert_eq!(
            field(parse_custom(&keys, json!({"rows": 10}))),
            "data.custom.source"
        );
        assert_eq!(
            field(parse_custom(&keys, json!({"source": null}))),
            "data.custom.source"
        );
        assert_eq!(field(parse_custom(&keys, json!(["source"]))), "data.custom");
        assert_eq!(
            field(parse_custom(
                &keys,
                json!({"source": {"a": {"b": {"c": 1}}}})
            )),
            "data.custom"
        );
        let big = "x".repeat(MAX_CUSTOM_BYTES);
        assert_eq!(
            field(parse_custom(&keys, json!({"source": big}))),
            "data.custom"
        );
    }
}
