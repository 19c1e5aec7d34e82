//! The `rules` input: a YAML list of retention rules, each key validated exactly like the flat
//! input of the same name, and every error naming the rule and the key.

use regex::Regex;
use serde_yaml_ng::Value;

use super::{InputError, Source, label, parse_count, parse_duration, parse_order_by, parse_regex};
use crate::model::version::PackageType;
use crate::policy::rules::{Rule, TagState};

/// The keys a rule may have.
const KEYS: [&str; 8] = [
    "name",
    "tag-regex",
    "exclude-tag-regex",
    "tag-state",
    "older-than",
    "keep-latest",
    "order-by",
    "group-by",
];

const EXAMPLE: &str = "e.g. `- name: releases` / `  tag-regex: ^v\\d+$` / `  keep-latest: 10`";

/// Parse the `rules` input: a YAML (or JSON) list of mappings with the keys in [`KEYS`].
pub(super) fn parse(value: &str, package_type: PackageType) -> Result<Vec<Rule>, InputError> {
    let document: Value = serde_yaml_ng::from_str(value).map_err(|error| {
        let problem = format!("is not valid YAML ({EXAMPLE}): {error}");
        match error.location() {
            Some(at) => rule_error(
                format!("line {}, column {}", at.line(), at.column()),
                Some(value),
                problem,
            ),
            None => InputError::invalid("rules", value, problem),
        }
    })?;
    let Value::Sequence(items) = document else {
        return Err(InputError::invalid(
            "rules",
            value,
            format!("is not a YAML list of rules ({EXAMPLE})"),
        ));
    };
    if items.is_empty() {
        return Err(InputError::invalid(
            "rules",
            value,
            "is an empty list: give at least one rule, or leave `rules` out to use the \
             tag-regex, tag-state, older-than and keep-latest inputs",
        ));
    }
    let rules = items
        .iter()
        .enumerate()
        .map(|(index, item)| parse_rule(index + 1, item, package_type))
        .collect::<Result<Vec<_>, _>>()?;
    for (index, rule) in rules.iter().enumerate() {
        let earlier = rules[..index]
            .iter()
            .position(|other| other.name.is_some() && other.name == rule.name);
        if let (Some(earlier), Some(name)) = (earlier, &rule.name) {
            return Err(rule_error(
                format!("rule {}: name", index + 1),
                Some(name),
                format!(
                    "is also the name of rule {}: reports name rules by name, so give each \
                     its own",
                    earlier + 1
                ),
            ));
        }
    }
    Ok(rules)
}

fn parse_rule(number: usize, item: &Value, package_type: PackageType) -> Result<Rule, InputError> {
    let Value::Mapping(mapping) = item else {
        return Err(rule_error(
            format!("rule {number}"),
            None,
            format!("is not a mapping of keys to values ({EXAMPLE})"),
        ));
    };
    let name = match mapping.get("name").map(scalar) {
        Some(Err(problem)) => {
            return Err(rule_error(format!("rule {number}: name"), None, problem));
        }
        Some(Ok(Some(name))) if name.chars().any(char::is_control) => {
            return Err(rule_error(
                format!("rule {number}: name"),
                Some(&name),
                "must be a single line of text",
            ));
        }
        Some(Ok(Some(name))) if name.starts_with('#') => {
            return Err(rule_error(
                format!("rule {number}: name"),
                Some(&name),
                "cannot start with `#`: `#N` names the unnamed rule N",
            ));
        }
        Some(Ok(name)) => name,
        None => None,
    };
    let at = match &name {
        Some(name) => format!("rule {number} ({})", label(name)),
        None => format!("rule {number}"),
    };
    let mut rule = Rule {
        name,
        ..Rule::default()
    };
    for (key, value) in mapping {
        let Some(key) = key.as_str().filter(|key| KEYS.contains(key)) else {
            let shown = scalar(key)
                .ok()
                .flatten()
                .unwrap_or_else(|| format!("{key:?}"));
            return Err(rule_error(
                at,
                Some(&shown),
                format!("is not a rule key (closest: `{}`)", closest_key(&shown)),
            ));
        };
        let value =
            scalar(value).map_err(|problem| rule_error(format!("{at}: {key}"), None, problem))?;
        let Some(value) = value else { continue };
        let within = |error: InputError| InputError {
            source: Source::Rule(format!("{at}: {key}")),
            ..error
        };
        match key {
            "tag-regex" => rule.tag_regex = Some(parse_regex("tag-regex", &value).map_err(within)?),
            "exclude-tag-regex" => {
                rule.exclude_tag_regex =
                    Some(parse_regex("exclude-tag-regex", &value).map_err(within)?);
            }
            "tag-state" => {
                rule.tag_state = super::parse_tag_state(&value, package_type).map_err(within)?;
            }
            "older-than" => {
                rule.older_than = Some(parse_duration("older-than", &value).map_err(within)?);
            }
            "keep-latest" => {
                rule.keep_latest =
                    parse_count("keep-latest", &value, "e.g. 0 or 5").map_err(within)?;
            }
            "order-by" => rule.order_by = parse_order_by(&value).map_err(within)?,
            "group-by" => rule.group_by = Some(parse_group_by(&value).map_err(within)?),
            _ => {}
        }
    }
    let filters =
        rule.tag_regex.is_some() || rule.tag_state != TagState::Any || rule.older_than.is_some();
    if !filters && rule.keep_latest == 0 {
        return Err(rule_error(
            at,
            None,
            "has no filter and no keep-latest, so it would select every version: give it \
             tag-regex, tag-state (tagged or untagged), older-than or keep-latest",
        ));
    }
    Ok(rule)
}

/// A regex with exactly one capture group.
fn parse_group_by(value: &str) -> Result<Regex, InputError> {
    let regex = parse_regex("group-by", value)?;
    let groups = regex.captures_len().saturating_sub(1);
    if groups == 1 {
        Ok(regex)
    } else {
        Err(InputError::invalid(
            "group-by",
            value,
            format!(
                "must have exactly one capture group, and it has {groups} (e.g. `^v(\\d+)\\.` \
                 groups by major version; write `(?:…)` for a group that does not capture)"
            ),
        ))
    }
}

/// A scalar as the text the flat inputs would receive: trimmed; `None` when empty or null
/// (unset, as for an empty input). Lists and mappings are errors.
fn scalar(value: &Value) -> Result<Option<String>, String> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return Err("must be a single value (text or a number), not a list or mapping".into()),
    };
    Ok(Some(text).filter(|text| !text.is_empty()))
}

/// The known key nearest to `key` by edit distance.
fn closest_key(key: &str) -> &'static str {
    KEYS.into_iter()
        .min_by_key(|known| strsim::levenshtein(key, known))
        .unwrap_or(KEYS[0])
}

fn rule_error(at: String, value: Option<&str>, problem: impl Into<String>) -> InputError {
    InputError {
        source: Source::Rule(at),
        value: value.map(str::to_owned),
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests;
