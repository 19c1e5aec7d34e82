//! The ids asked for in `version-ids` that a run neither acted on nor skipped: each gets
//! an entry with the outcome `not found: …`, so the report and the exit code tell the truth.

use std::collections::BTreeSet;
use std::time::SystemTime;

use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome};
use crate::model::version::Version;
use crate::policy::plan::Plan;

/// One `not found` entry per id in `asked` that no plan listed: not among the versions
/// the mode lists (active ones in delete mode, deleted ones in restore mode). An id that
/// was listed but that the other filters keep is not one: `version-ids` combines with them.
/// Nor is one in `came_back`: a version restored with its package.
pub fn not_found<'p>(
    asked: &BTreeSet<u64>,
    mode: Mode,
    plans: impl IntoIterator<Item = (&'p str, &'p Plan)>,
    came_back: &BTreeSet<u64>,
) -> Vec<Entry> {
    let mut names = Vec::new();
    let mut listed = came_back.clone();
    for (name, plan) in plans {
        names.push(format!("`{name}`"));
        listed.extend(plan.versions.iter().map(|planned| planned.version.id));
    }
    let (state, why) = match mode {
        Mode::Delete | Mode::Audit => ("active", "already deleted, or never existed"),
        Mode::Restore => (
            "deleted",
            "still active, deleted more than 30 days ago, or never existed",
        ),
    };
    asked
        .iter()
        .filter(|id| !listed.contains(id))
        .map(|&id| Entry {
            version: unlisted(id),
            outcome: Outcome::NotFound(format!(
                "no {state} version with this id in {} ({why})",
                names.join(", ")
            )),
            relation: None,
            reason: "asked for in version-ids".to_owned(),
            rule: None,
        })
        .collect()
}

/// An id no listing returned: no name, tags or times (the reports show none).
fn unlisted(id: u64) -> Version {
    Version {
        id,
        name: String::new(),
        tags: Vec::new(),
        tags_known: true,
        created_at: SystemTime::UNIX_EPOCH,
        updated_at: SystemTime::UNIX_EPOCH,
        deleted_at: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::version::PackageType;
    use crate::policy::plan;
    use crate::policy::rules::Policy;
    use crate::testing::image_at;

    fn listed(id: u64, tags: &[&str]) -> Version {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        image_at(id, tags, at)
    }

    #[test]
    fn every_asked_id_no_listing_returned_is_not_found_with_why() {
        let policy = Policy {
            version_ids: Some([1, 2, 3].into()),
            tag_regex: regex::Regex::new("^pr-").ok(),
            ..Policy::default()
        };
        let versions = vec![listed(1, &["pr-1"]), listed(2, &["v1"])];
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(9_000_000);
        let plan = plan::plan(versions, &policy, PackageType::Container, Mode::Delete, now);
        let asked = policy.version_ids.clone().unwrap_or_default();
        let cases = [
            (
                Mode::Delete,
                "not found: no active version with this id in `app` (already",
            ),
            (
                Mode::Restore,
                "not found: no deleted version with this id in `app` (still",
            ),
        ];
        for (mode, expected) in cases {
            let entries = not_found(&asked, mode, [("app", &plan)], &BTreeSet::new());
            assert_eq!(entries.len(), 1, "{entries:?}");
            assert_eq!(entries[0].version.id, 3, "2 is listed: the filters keep it");
            assert!(
                entries[0].outcome.to_string().starts_with(expected),
                "{entries:?}"
            );
            assert!(!entries[0].outcome.is_listed(&entries[0].version));
        }
    }
}
