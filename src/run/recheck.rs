//! The listing of a package read again just before the package DELETE: a whole package is
//! deleted only when it still holds exactly the versions its plan was made on.
//!
//! The run plans every package first and acts after, so minutes may pass between a
//! package's listing and its DELETE (every earlier package's deletions sit in between). A
//! version published, restored, deleted or retagged meanwhile would otherwise go with the
//! package, or be reported as gone with it when it was not.
//!
//! Cost: the re-read lists every page once more. Only packages the policy selects whole
//! get here, and for those one DELETE replaces one request a version, so the re-read (one
//! request per 100 versions) costs about 1% of the deletions it saves. The primary budget
//! must cover it and the DELETE first; otherwise nothing is deleted unchecked.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use super::execute::{Stop, Target};
use crate::github::ratelimit::Cover;
use crate::github::{GitHub, PER_PAGE};
use crate::model::version::Version;
use crate::model::version::VersionState;
use crate::policy::plan::PlannedVersion;
use crate::report::plural;

/// Ids named in a [`Difference`] line before the rest are only counted.
const IDS_SHOWN: usize = 5;

/// What the re-read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Recheck {
    /// The same versions, none new, none gone, none changed.
    Same,
    Differs(Difference),
    /// Not re-read: why (the budget cannot cover it, or the listing failed).
    Unchecked(String),
    /// A cancel came while the listing was read: nothing is to be sent.
    Cancelled,
}

/// How the listing read now differs from the one a plan was made on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Difference {
    /// Listed now, not planned on: published (or restored) during the run.
    pub new: Vec<u64>,
    /// Planned on, not listed now: deleted by someone else during the run.
    pub gone: Vec<u64>,
    /// In both, but not the same: its tags, name or dates changed during the run.
    pub changed: Vec<u64>,
}

impl Difference {
    /// Compares the versions a plan was made on with the listing read now.
    pub fn between(planned: &[PlannedVersion], listed: &[Version]) -> Difference {
        let now: HashMap<u64, &Version> = listed.iter().map(|v| (v.id, v)).collect();
        let mut difference = Difference::default();
        for planned in planned {
            match now.get(&planned.version.id) {
                None => difference.gone.push(planned.version.id),
                Some(version) if **version != planned.version => {
                    difference.changed.push(planned.version.id);
                }
                Some(_) => {}
            }
        }
        let before: HashSet<u64> = planned.iter().map(|p| p.version.id).collect();
        difference.new = listed
            .iter()
            .map(|version| version.id)
            .filter(|id| !before.contains(id))
            .collect();
        for ids in [
            &mut difference.new,
            &mut difference.gone,
            &mut difference.changed,
        ] {
            ids.sort_unstable();
        }
        difference
    }

    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.gone.is_empty() && self.changed.is_empty()
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (&self.new, "new since it was planned"),
            (&self.gone, "gone since it was planned"),
            (&self.changed, "changed since it was planned"),
        ]
        .into_iter()
        .filter(|(ids, _)| !ids.is_empty())
        .map(|(ids, what)| format!("{} {what} ({})", plural(ids.len(), "version"), list(ids)))
        .collect();
        f.write_str(&parts.join(", "))
    }
}

/// `1, 2, 3` or `1, 2, 3, 4, 5 and 7 more`.
fn list(ids: &[u64]) -> String {
    let shown: Vec<String> = ids.iter().take(IDS_SHOWN).map(u64::to_string).collect();
    match ids.len().saturating_sub(IDS_SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// Re-read the whole listing of `target` and compare it with `planned`, the versions its
/// plan was made on. A cancel ends the read at once.
pub async fn recheck(
    github: &GitHub,
    target: &Target<'_>,
    planned: &[PlannedVersion],
    stop: &Stop,
) -> Recheck {
    if let Some(why) = unaffordable(github, planned.len()) {
        return Recheck::Unchecked(why);
    }
    let listed = tokio::select! {
        listed = github.list_versions(
            target.namespace,
            target.package_type,
            target.name,
            VersionState::Active,
        ) => listed,
        () = stop.cancel.requested() => return Recheck::Cancelled,
    };
    match listed {
        Ok(listed) => {
            let difference = Difference::between(planned, &listed);
            if difference.is_empty() {
                Recheck::Same
            } else {
                Recheck::Differs(difference)
            }
        }
        Err(err) => Recheck::Unchecked(format!(
            "its listing could not be read again just before the package delete ({err})"
        )),
    }
}

/// Why the primary budget cannot cover the re-read of `versions` versions and the DELETE
/// after it, if it cannot. A reset within `rate-limit-wait` is waited for by the client.
fn unaffordable(github: &GitHub, versions: usize) -> Option<String> {
    let rate = github.rate_limit()?;
    let pages = versions.div_ceil(PER_PAGE as usize).max(1);
    let requests = u64::try_from(pages).unwrap_or(u64::MAX).saturating_add(1);
    match rate.covers(requests, github.pacing(), SystemTime::now()) {
        Cover::Enough | Cover::AfterReset(_) => None,
        Cover::Short { usable } => Some(format!(
            "reading its listing again just before the package delete, and the delete itself, take {requests} requests, and the primary rate limit has {usable} left until it resets"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::policy::plan::{Decision, Reason};

    fn version(id: u64, tags: &[&str]) -> Version {
        crate::testing::image_at(id, tags, UNIX_EPOCH + Duration::from_secs(1_700_000_000))
    }

    fn planned(versions: &[Version]) -> Vec<PlannedVersion> {
        versions
            .iter()
            .map(|version| PlannedVersion {
                version: version.clone(),
                decision: Decision::Act,
                reason: Reason::Selected,
                relation: None,
                rule: None,
            })
            .collect()
    }

    #[test]
    fn a_listing_is_compared_by_id_and_by_everything_the_policy_reads() {
        let one = version(1, &[]);
        let two = version(2, &["pr-7"]);
        let promoted = version(2, &["pr-7", "v2.0"]);
        let mut touched = version(1, &[]);
        touched.updated_at += Duration::from_secs(1);
        let three = version(3, &[]);
        type Case<'a> = (&'a str, Vec<Version>, (&'a [u64], &'a [u64], &'a [u64]));
        let cases: Vec<Case> = vec![
            ("unchanged", vec![two.clone(), one.clone()], (&[], &[], &[])),
            (
                "published",
                vec![three.clone(), two.clone(), one.clone()],
                (&[3], &[], &[]),
            ),
            ("deleted", vec![two.clone()], (&[], &[1], &[])),
            (
                "one restored, one deleted: the count is the same",
                vec![two.clone(), three.clone()],
                (&[3], &[1], &[]),
            ),
            ("retagged", vec![promoted, one.clone()], (&[], &[], &[2])),
            ("updated", vec![two.clone(), touched], (&[], &[], &[1])),
        ];
        let before = planned(&[two, one]);
        for (what, now, (new, gone, changed)) in cases {
            let difference = Difference::between(&before, &now);
            assert_eq!(
                (
                    difference.new.as_slice(),
                    difference.gone.as_slice(),
                    difference.changed.as_slice()
                ),
                (new, gone, changed),
                "{what}"
            );
            assert_eq!(
                difference.is_empty(),
                new.is_empty() && gone.is_empty() && changed.is_empty()
            );
        }
    }

    #[test]
    fn a_difference_names_its_ids_and_counts_the_rest() {
        let difference = Difference {
            new: vec![9],
            gone: (1..=7).collect(),
            changed: Vec::new(),
        };
        assert_eq!(
            difference.to_string(),
            "1 version new since it was planned (9), 7 versions gone since it was planned (1, 2, 3, 4, 5 and 2 more)"
        );
    }
}
