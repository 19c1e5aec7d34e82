//! `max-percent`: a run that would delete more than this share of a package's active
//! versions changes nothing and fails. Like `max-versions`, it is decided once every
//! package is planned, before any request that changes something, and said once.

use crate::config::plans::Percent;
use crate::policy::plan::Plan;
use crate::report::{Refusal, plural};

/// The refusal, when some package's plan deletes more than `max` of the versions it
/// listed: the first such package named, the others counted.
pub fn refusal<'a>(
    max: Option<Percent>,
    packages: impl Iterator<Item = (&'a str, &'a Plan)>,
) -> Option<Refusal> {
    let max = max?;
    let over: Vec<(&str, usize, usize)> = packages
        .map(|(name, plan)| (name, plan.selected().count(), plan.versions.len()))
        .filter(|&(_, selected, listed)| max.exceeded_by(selected, listed))
        .collect();
    let &(name, selected, listed) = over.first()?;
    let others = match over.len() - 1 {
        0 => String::new(),
        more => format!(" (and {})", plural(more, "more package")),
    };
    Some(Refusal {
        input: "max-percent",
        message: format!(
            "{name}: {selected} of its {} ({}) would be deleted, more than max-percent ({max}){others}: nothing was changed. Narrow the filters or raise max-percent.",
            plural(listed, "active version"),
            share(selected, listed)
        ),
    })
}

/// `selected` of `listed` as a percentage to the tenth, rounded down: `37.5%`.
fn share(selected: usize, listed: usize) -> String {
    let tenths = u128::try_from(selected)
        .unwrap_or(u128::MAX)
        .saturating_mul(1_000)
        .checked_div(u128::try_from(listed).unwrap_or(u128::MAX))
        .unwrap_or(0);
    match tenths % 10 {
        0 => format!("{}%", tenths / 10),
        tenth => format!("{}.{tenth}%", tenths / 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mode::Mode;
    use crate::model::version::PackageType;
    use crate::policy::rules::Policy;
    use crate::testing::{now, version};

    /// A plan of `listed` npm versions that selects the `selected` oldest.
    fn plan(selected: u64, listed: u64) -> Plan {
        let versions = (1..=listed).map(|id| version(id, &[])).collect();
        let policy = Policy {
            version_ids: Some((listed - selected + 1..=listed).collect()),
            ..Policy::default()
        };
        crate::policy::plan::plan(versions, &policy, PackageType::Npm, Mode::Delete, now())
    }

    fn percent(value: &str) -> Option<Percent> {
        let config = crate::config::Config::from_env(|name| match name {
            "INPUT_TOKEN" => Some("t".into()),
            "GITHUB_REPOSITORY_OWNER" => Some("acme".into()),
            "INPUT_PACKAGES" => Some("app".into()),
            "INPUT_MAX-PERCENT" => Some(value.into()),
            _ => None,
        })
        .expect("valid inputs");
        config.max_percent
    }

    #[test]
    fn a_package_past_the_share_refuses_the_run_naming_it_and_counting_the_others() {
        let (a, b, c) = (plan(3, 8), plan(1, 8), plan(8, 8));
        let cases = [
            ("50", vec![("a", &a), ("b", &b)], None),
            (
                "25",
                vec![("a", &a), ("b", &b)],
                Some(
                    "a: 3 of its 8 active versions (37.5%) would be deleted, more than max-percent (25%): nothing was changed. Narrow the filters or raise max-percent.",
                ),
            ),
            (
                "10",
                vec![("b", &b), ("a", &a), ("c", &c)],
                Some(
                    "b: 1 of its 8 active versions (12.5%) would be deleted, more than max-percent (10%) (and 2 more packages): nothing was changed. Narrow the filters or raise max-percent.",
                ),
            ),
            ("100", vec![("c", &c)], None),
        ];
        for (max, packages, expected) in cases {
            let got = refusal(percent(max), packages.into_iter());
            assert_eq!(
                got.as_ref().map(|refusal| refusal.message.as_str()),
                expected,
                "{max}"
            );
            assert!(got.is_none_or(|refusal| refusal.input == "max-percent"));
        }
        assert_eq!(refusal(None, [("c", &c)].into_iter()), None);
    }
}
