//! The starter-data template: shipped as data (`starter_template.json` in this crate, or a file named
//! by `STARTER_TEMPLATE_PATH`), so an adopting team changes a workspace's starter data without code.

use std::collections::HashSet;

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// The template built into the binary.
pub(crate) const DEFAULT_TEMPLATE: &str = include_str!("../../starter_template.json");

/// One item to create for every new tenant.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct TemplateItem {
    pub(crate) kind: String,
    pub(crate) key: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) parent_key: String,
}

/// A validated template: unique keys, parents listed before their children.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct StarterTemplate {
    pub(crate) version: String,
    pub(crate) items: Vec<TemplateItem>,
}

impl StarterTemplate {
    /// Parses and checks a template; a bad template stops the service at start, not at provisioning.
    pub(crate) fn parse(json: &str) -> anyhow::Result<Self> {
        let template: StarterTemplate =
            serde_json::from_str(json).context("the starter template is not valid JSON")?;
        if template.version.trim().is_empty() {
            bail!("the starter template has no version");
        }
        if template.items.is_empty() {
            bail!("the starter template has no items");
        }
        let mut seen = HashSet::new();
        for item in &template.items {
            if item.key.is_empty() || item.kind.is_empty() || item.name.is_empty() {
                bail!("a starter template item lacks a kind, key or name");
            }
            if !item.parent_key.is_empty() && !seen.contains(item.parent_key.as_str()) {
                bail!(
                    "item {} names parent {} before it is defined",
                    item.key,
                    item.parent_key
                );
            }
            if !seen.insert(item.key.as_str()) {
                bail!("starter template key {} is used twice", item.key);
            }
        }
        Ok(template)
    }

    /// Each item's position among its siblings, in template order.
    pub(crate) fn positioned(&self) -> Vec<(&TemplateItem, i32)> {
        let mut counters: Vec<(&str, i32)> = Vec::new();
        self.items
            .iter()
            .map(|item| {
                let parent = item.parent_key.as_str();
                let position = match counters.iter_mut().find(|(key, _)| *key == parent) {
                    Some((_, next)) => {
                        *next += 1;
                        *next
                    }
                    None => {
                        counters.push((parent, 0));
                        0
                    }
                };
                (item, position)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_template_is_a_segment_with_three_packages() {
        let template = StarterTemplate::parse(DEFAULT_TEMPLATE).expect("valid");
        let positioned = template.positioned();
        assert_eq!(positioned.len(), 4);
        assert_eq!(positioned[0].0.kind, "segment");
        let packages: Vec<_> = positioned
            .iter()
            .filter(|(i, _)| i.kind == "package")
            .collect();
        assert_eq!(packages.len(), 3);
        assert_eq!(
            packages.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    #[test]
    fn broken_templates_are_refused() {
        let orphan =
            r#"{"version":"1","items":[{"kind":"package","key":"a","name":"A","parent_key":"s"}]}"#;
        assert!(StarterTemplate::parse(orphan).is_err());
        let twice = r#"{"version":"1","items":[{"kind":"s","key":"a","name":"A"},{"kind":"s","key":"a","name":"B"}]}"#;
        assert!(StarterTemplate::parse(twice).is_err());
        assert!(StarterTemplate::parse(r#"{"version":"1","items":[]}"#).is_err());
    }
}
