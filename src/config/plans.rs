//! The inputs of reviewed plans and relative caps: `plan-file`, `plan-expires` and
//! `max-percent`, and the policy inputs a plan's fingerprint covers.

use std::fmt;
use std::time::Duration;

use super::{Config, InputError, parse_duration, parse_workspace_path};
use crate::model::mode::Mode;
use crate::model::plan_file::{MAX_LIFETIME, PolicyInputs, RuleInputs};
use crate::policy::rules::{OrderBy, Rule, TagState};

/// A share of a package's versions, `max-percent`, to the hundredth of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    hundredths: u32,
}

impl Percent {
    /// Whether deleting `selected` of `listed` versions is more than this share.
    pub fn exceeded_by(self, selected: usize, listed: usize) -> bool {
        let selected = u128::try_from(selected).unwrap_or(u128::MAX);
        let listed = u128::try_from(listed).unwrap_or(u128::MAX);
        selected.saturating_mul(10_000) > listed.saturating_mul(u128::from(self.hundredths))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, hundredths) = (self.hundredths / 100, self.hundredths % 100);
        match hundredths {
            0 => write!(f, "{whole}%"),
            n if n % 10 == 0 => write!(f, "{whole}.{}%", n / 10),
            n => write!(f, "{whole}.{n:02}%"),
        }
    }
}

/// `max-percent`: 0 to 100, with up to two decimals and an optional `%` (`25`, `12.5%`).
/// Delete mode only: it is a share of the versions a run would delete.
pub(super) fn parse_max_percent(value: &str, mode: Mode) -> Result<Percent, InputError> {
    if mode != Mode::Delete {
        return Err(only_in_delete_mode("max-percent", value, mode));
    }
    let number = value.strip_suffix('%').unwrap_or(value).trim();
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
    let parsed = (!whole.is_empty() && whole.len() <= 3 && digits(whole))
        .then_some(())
        .filter(|()| fraction.len() <= 2 && digits(fraction))
        .and_then(|()| {
            let whole: u32 = whole.parse().ok()?;
            let fraction: u32 = format!("{fraction:0<2}").parse().ok()?;
            let hundredths = whole.checked_mul(100)?.checked_add(fraction)?;
            (hundredths <= 10_000).then_some(Percent { hundredths })
        });
    parsed.ok_or_else(|| {
        InputError::invalid(
            "max-percent",
            value,
            "is not a percentage from 0 to 100 (e.g. `25`, `12.5` or `25%`; leave it empty for no limit)",
        )
    })
}

/// `plan-file`: a relative path inside the workspace, delete mode only (only deletions are
/// planned).
pub(super) fn parse_plan_file(value: &str, mode: Mode) -> Result<std::path::PathBuf, InputError> {
    if mode != Mode::Delete {
        return Err(only_in_delete_mode("plan-file", value, mode));
    }
    parse_workspace_path("plan-file", value, "`plan/plan.json`")
}

/// `plan-expires`: more than 0 s and at most 30 days.
pub(super) fn parse_plan_expires(value: &str) -> Result<Duration, InputError> {
    let lifetime = parse_duration("plan-expires", value)?;
    if lifetime.is_zero() || lifetime > MAX_LIFETIME {
        return Err(InputError::invalid(
            "plan-expires",
            value,
            format!(
                "is out of range: a plan lives more than 0s and at most {} (e.g. `1d`, `3d`)",
                humantime::format_duration(MAX_LIFETIME)
            ),
        ));
    }
    Ok(lifetime)
}

fn only_in_delete_mode(input: &'static str, value: &str, mode: Mode) -> InputError {
    InputError::invalid(
        input,
        value,
        format!(
            "only applies when `mode` is `delete`, and `mode` is `{}`: remove it",
            mode.as_str()
        ),
    )
}

impl Config {
    /// The inputs that decide what this run selects, as a plan records them (see
    /// [`PolicyInputs`] for which are in it and why the others are not).
    pub fn policy_inputs(&self) -> PolicyInputs {
        let policy = &self.policy;
        PolicyInputs {
            tag_regex: policy.tag_regex.as_ref().map(|regex| regex.as_str().into()),
            exclude_tag_regex: policy
                .exclude_tag_regex
                .as_ref()
                .map(|regex| regex.as_str().into()),
            older_than: policy.older_than.map(canonical_duration),
            tag_state: tag_state(policy.tag_state).into(),
            keep_latest: u64::try_from(policy.keep_latest).unwrap_or(u64::MAX),
            order_by: order_by(policy.order_by).into(),
            rules: policy.rules.iter().map(rule_inputs).collect(),
            version_ids: policy
                .version_ids
                .as_ref()
                .map(|ids| ids.iter().copied().collect()),
            keep_referenced: self
                .keep_referenced
                .as_ref()
                .map(|patterns| patterns.texts().to_vec()),
            delete_orphans: self.delete_orphans,
            delete_empty_packages: self.delete_empty_packages,
        }
    }
}

fn rule_inputs(rule: &Rule) -> RuleInputs {
    RuleInputs {
        name: rule.name.clone(),
        tag_regex: rule.tag_regex.as_ref().map(|regex| regex.as_str().into()),
        exclude_tag_regex: rule
            .exclude_tag_regex
            .as_ref()
            .map(|regex| regex.as_str().into()),
        tag_state: tag_state(rule.tag_state).into(),
        older_than: rule.older_than.map(canonical_duration),
        keep_latest: u64::try_from(rule.keep_latest).unwrap_or(u64::MAX),
        group_by: rule.group_by.as_ref().map(|regex| regex.as_str().into()),
        order_by: order_by(rule.order_by).into(),
    }
}

fn order_by(order: OrderBy) -> &'static str {
    match order {
        OrderBy::Pushed => "pushed",
        OrderBy::Version => "version",
    }
}

/// One form for equal durations: `2w` and `14d` are both `14days`.
fn canonical_duration(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

fn tag_state(state: TagState) -> &'static str {
    match state {
        TagState::Any => "any",
        TagState::Tagged => "tagged",
        TagState::Untagged => "untagged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_to_the_hundredth_and_compare_exactly() {
        let cases = [
            ("25", Some("25%")),
            ("25%", Some("25%")),
            ("12.5", Some("12.5%")),
            ("0.25 %", Some("0.25%")),
            ("100", Some("100%")),
            ("0", Some("0%")),
            ("100.01", None),
            ("101", None),
            ("-1", None),
            ("1.234", None),
            (".5", None),
            ("5.", Some("5%")),
            ("lots", None),
            ("1e2", None),
        ];
        for (value, expected) in cases {
            let parsed = parse_max_percent(value, Mode::Delete).ok();
            assert_eq!(
                parsed.map(|percent| percent.to_string()).as_deref(),
                expected,
                "{value}"
            );
        }
        let quarter = parse_max_percent("25", Mode::Delete).expect("valid");
        let exceeded = [
            (25, 100, false),
            (26, 100, true),
            (1, 4, false),
            (2, 4, true),
            (0, 0, false),
        ];
        for (selected, listed, expected) in exceeded {
            assert_eq!(
                quarter.exceeded_by(selected, listed),
                expected,
                "{selected} of {listed}"
            );
        }
        let none = parse_max_percent("0", Mode::Delete).expect("valid");
        assert!(none.exceeded_by(1, 100_000));
        assert!(!none.exceeded_by(0, 100_000));
    }
}
