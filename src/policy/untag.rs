//! `untag: true`, pure: which selected images keep their place because some of their tags
//! match the policy and others do not, and which tags go from them (see `docs/untagging.md`).
//!
//! It runs on the container plan after `keep-latest` has counted images and before the image
//! graph ([`super::images::adjust`]), so the keep set is settled first and then grows:
//! - A version the rules selected (not one that goes with an image, nor an orphan), with
//!   known tags and at least two of them, is split by tag. A tag *matches* when the version,
//!   carrying that tag alone, passes the filters of a rule that selected it. The others are
//!   its *kept tags*.
//! - It is kept, and only its matching tags are removed, when all of this holds; otherwise
//!   it is decided as without `untag` (deleted, or kept by the same rules):
//!   - it has matching tags and kept tags (an image's last tag is never removed);
//!   - no matching tag is an artifact tag (`sha256-<hex>`, `sha256-<hex>.sig|.att|.sbom`):
//!     such a tag is the only link from a signature, attestation or referrers index to its
//!     subject, so it is never removed;
//!   - a kept tag is not an artifact tag, so the version stays an image in its own right and
//!     the image graph does not change;
//!   - carrying its kept tags alone, it passes the filters of no rule: after the run it is a
//!     match of nothing, takes no `keep-latest` slot and is selected by nothing, so the next
//!     run keeps it and decides every other version as this one did.
//! - The image graph then keeps what the kept image references, as for any kept image.
//!
//! Versions kept by the policy (`exclude-tag-regex`, `keep-latest`, a rule that keeps them)
//! keep every tag: keeping wins, and untagging never touches what the policy keeps.

use std::time::SystemTime;

use crate::model::image::tag_subject;
use crate::model::version::{PackageType, Version};
use crate::policy::images::ManifestLookup;
use crate::policy::plan::{Decision, Plan, PlannedVersion, Reason, passes_rule};
use crate::policy::rules::{Policy, Rule};

/// Keeps every selected version that [`matching_tags`] splits, with [`Reason::Untag`]
/// naming the tags to remove, and takes it out of the execution order. Only a version
/// whose manifest was read in `manifests` is split (unknown means keep: one that could not
/// be read keeps every tag, and the image graph keeps it as unreadable).
pub fn keep_by_other_tags(
    mut plan: Plan,
    policy: &Policy,
    package_type: PackageType,
    now: SystemTime,
    manifests: &impl ManifestLookup,
) -> Plan {
    let rules = policy.rules();
    let mut flipped = false;
    for &index in &plan.order {
        let Some(planned) = plan.versions.get_mut(index) else {
            continue;
        };
        let by_rules = matches!(planned.reason, Reason::Selected | Reason::SelectedBy(_));
        let read = matches!(manifests.lookup(&planned.version), Some(Ok(_)));
        if planned.decision != Decision::Act || !by_rules || !read {
            continue;
        }
        if let Some(tags) = matching_tags(&planned.version, &rules, package_type, now) {
            planned.decision = Decision::Keep;
            planned.reason = Reason::Untag(tags);
            planned.relation = None;
            flipped = true;
        }
    }
    if flipped {
        let versions = &plan.versions;
        plan.order.retain(|&index| {
            versions
                .get(index)
                .is_some_and(|p| p.decision == Decision::Act)
        });
    }
    plan
}

/// The tags to remove from `version`, which the rules select, when it may be split (see the
/// module documentation); `None` when it is decided as without `untag`.
pub fn matching_tags(
    version: &Version,
    rules: &[Rule],
    package_type: PackageType,
    now: SystemTime,
) -> Option<Vec<String>> {
    if !package_type.has_tags() || !version.tags_known || version.tags.len() < 2 {
        return None;
    }
    let carrying = |tags: Vec<String>| Version {
        tags,
        ..version.clone()
    };
    let passes = |version: &Version, rule: &Rule| passes_rule(version, rule, package_type, now);
    let selecting: Vec<&Rule> = rules.iter().filter(|rule| passes(version, rule)).collect();
    let (matching, kept): (Vec<String>, Vec<String>) =
        version.tags.iter().cloned().partition(|tag| {
            let alone = carrying(vec![tag.clone()]);
            selecting.iter().any(|rule| passes(&alone, rule))
        });
    let artifact = |tag: &String| tag_subject(tag).is_some();
    let splits = !matching.is_empty()
        && !matching.iter().any(artifact)
        && kept.iter().any(|tag| !artifact(tag));
    if !splits {
        return None;
    }
    let rest = carrying(kept);
    (!rules.iter().any(|rule| passes(&rest, rule))).then_some(matching)
}

/// The versions of `plan` whose tags `untag` removes, each with those tags: what the image
/// graph left kept for [`Reason::Untag`] (a version this run did not read on a listing page
/// has another reason by then and keeps its tags).
pub fn tags_to_remove(plan: &Plan) -> impl Iterator<Item = (&PlannedVersion, &[String])> {
    plan.versions
        .iter()
        .filter(|planned| planned.decision == Decision::Keep)
        .filter_map(|planned| match &planned.reason {
            Reason::Untag(tags) => Some((planned, tags.as_slice())),
            _ => None,
        })
}

#[cfg(test)]
mod tests;
