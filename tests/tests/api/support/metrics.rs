//! Reading `/metrics` in the e2e tests: a parser for Prometheus text, sums over label sets, and a
//! stack whose traffic is recorded by the process's one recorder.

use std::collections::BTreeMap;

use crate::support::TestStack;

/// One sample line of a scrape: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) value: f64,
}

/// The samples of a Prometheus text scrape (comments skipped). Panics on a malformed line: the
/// format is what a real Prometheus must parse.
pub(crate) fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| parse_line(line).unwrap_or_else(|| panic!("malformed sample line: {line:?}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut chars = line[name_end..].chars().peekable();
    if chars.peek() == Some(&'{') {
        chars.next();
        loop {
            // key="value" pairs separated by commas (a trailing comma is allowed), closed by '}'.
            match chars.peek()? {
                '}' => {
                    chars.next();
                    break;
                }
                ',' => {
                    chars.next();
                    continue;
                }
                _ => {}
            }
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            if chars.next()? != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()? {
                    '\\' => match chars.next()? {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    '"' => break,
                    other => value.push(other),
                }
            }
            labels.insert(key, value);
        }
    }
    let rest: String = chars.collect();
    let value = match rest.split_whitespace().next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        other => other.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The sum of `name` over the samples whose labels include every pair in `want`.
pub(crate) fn total(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            want.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

/// This process's scrape, exactly the text `GET /metrics` serves (the in-process stack records
/// into the process's one recorder).
pub(crate) fn scrape_in_process() -> Vec<Sample> {
    parse(&onramp_kit::metrics::render())
}

/// A stack whose traffic is recorded: the recorder is installed before anything runs.
pub(crate) async fn recording_stack(
    adjust: impl FnOnce(&mut onramp_stack::StackOptions),
) -> TestStack {
    onramp_kit::metrics::install();
    TestStack::spawn_with(adjust).await
}

/// Whether a label value looks like an id, an email or a token: a UUID (hyphenated or not), an
/// `@`, or a long run of letters and digits with a digit in it (keys, hashes, random codes).
pub(crate) fn looks_identifying(value: &str) -> bool {
    if value.contains('@') {
        return true;
    }
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .any(|run| {
            let hex = run.chars().filter(char::is_ascii_hexdigit).count();
            let uuid_like = run.len() >= 32 && hex >= 32;
            let token_like = run.len() >= 20 && run.chars().any(|c| c.is_ascii_digit());
            uuid_like || token_like
        })
}
