//! The container image graph, pure: the policy plan + the manifests read from the registry →
//! a plan that never breaks an image.
//!
//! Edges run from a parent to what depends on it: an index to the manifests it lists
//! (platform manifests, buildx attestation manifests, nested indexes), and a subject to its
//! artifacts (cosign `sha256-<hex>.sig|.att|.sbom` versions and referrers-tag indexes
//! `sha256-<hex>`, found by tag; manifests with an OCI `subject`, such as GitHub artifact
//! attestations). Rules, in [`adjust`]:
//! - An artifact is proven, not guessed: only a version whose every tag is an artifact tag
//!   (or that is untagged) can be an artifact of another image (see [`may_be_artifact`]).
//!   A version tagged `v1.0.0, latest, sha256-<hex>.sig` is a release: a root.
//! - A referrers index the `sha256-<hex>` tag no longer points at (the tag moves each time
//!   an artifact is added) is untagged but still lists that subject's artifacts: an index
//!   whose every entry declares the same `subject` is an artifact of that subject, never an
//!   image of its own, so it keeps nothing (see [`referrers_subject`]).
//! - A version is *dependent* when it is untagged or an artifact: its fate follows its
//!   parents, whatever the policy said of it (a `.sig` tag does not protect a signature).
//!   Other versions are *roots*: the policy decides them. `exclude-tag-regex` always wins,
//!   and so does `keep-referenced`: a version a file names by digest is a kept root, even
//!   untagged.
//! - Everything reachable from a kept version is kept ("part of kept image"), so a child
//!   shared by a kept and a deleted index stays.
//! - A dependent with parents, none of them kept, goes with them ("of deleted image"); the
//!   plan records its parents, and orders parents before children.
//! - A dependent without parents (a ghost or partial image, or an artifact whose subject is
//!   gone) is an orphan: the policy decides it, and with `delete-orphans` it is deleted even
//!   when the policy kept it for its tags, `tag-regex` or `keep-latest`. `older-than` and
//!   `version-ids` still protect it (a push in progress uploads children before the index).
//! - Unknown means keep: a version whose own manifest could not be read is kept ("manifest
//!   unreadable"), whatever the policy and the graph said, unless `version-ids` names it.
//!   It may be an index (its children are unknown) or an artifact of a kept image.
//! - Fail closed: when the manifest of a kept version cannot be read, what it references is
//!   unknown, so no untagged version is deleted (nor anything that depends on one).
//! - With a `state-file`, what this run did not read never goes: a version whose listing
//!   page was not read in this run is kept, with everything it references, and an image
//!   tagged in the registry whose version is not in the listing ([`Unlisted`]) is kept
//!   with everything it references.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::SystemTime;

use crate::model::image::{
    Relation, Role, describe_image, may_be_artifact, short_digest, short_tag, tag_subject,
};
use crate::model::manifest::{Blobs, Child, Manifest};
use crate::model::version::Version;
use crate::policy::plan::{self, Decision, Plan, PlannedVersion, Reason, Unconfirmed};
use crate::policy::rules::Policy;

/// Artifact types of GitHub artifact attestations start with this.
const SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle";

/// What reading each version's manifest gave, by version id: the manifest, or why it could
/// not be read. The simple form of [`ManifestLookup`]; a run holds [`ByDigest`] instead.
pub type Manifests = HashMap<u64, Result<Manifest, String>>;

/// Where the graph finds what was read of a version's manifest: the manifest, or why it
/// could not be read; `None` when it was not read at all (which counts as unreadable).
pub trait ManifestLookup {
    fn lookup(&self, version: &Version) -> Option<Result<&Manifest, &str>>;

    /// What the manifest of `version` stores, for the storage figures
    /// ([`crate::policy::storage`]): by default the blobs of the manifest [`Self::lookup`]
    /// gives, for a lookup that holds every manifest whole.
    fn blobs(&self, version: &Version) -> Option<Result<&Blobs, &str>> {
        self.lookup(version)
            .map(|read| read.map(|manifest| &manifest.blobs))
    }
}

impl ManifestLookup for Manifests {
    fn lookup(&self, version: &Version) -> Option<Result<&Manifest, &str>> {
        self.get(&version.id)
            .map(|read| read.as_ref().map_err(String::as_str))
    }
}

/// Manifests held by digest (content-addressed, so one entry serves every version of that
/// digest).
pub trait Digests {
    fn by_digest(&self, digest: &str) -> Option<&Manifest>;

    /// What the manifest of `digest` stores: by default its manifest's blobs, for a holder
    /// that keeps every manifest whole.
    fn blobs_by_digest(&self, digest: &str) -> Option<&Blobs> {
        self.by_digest(digest).map(|manifest| &manifest.blobs)
    }
}

impl Digests for HashMap<String, Manifest> {
    fn by_digest(&self, digest: &str) -> Option<&Manifest> {
        self.get(digest)
    }
}

/// The manifests of a run, held once by digest ([`Digests`]), and why the others could not
/// be read, by version id.
pub struct ByDigest<'a, K> {
    pub known: &'a K,
    pub unreadable: &'a HashMap<u64, String>,
}

impl<K: Digests> ManifestLookup for ByDigest<'_, K> {
    fn lookup(&self, version: &Version) -> Option<Result<&Manifest, &str>> {
        match self.unreadable.get(&version.id) {
            Some(why) => Some(Err(why.as_str())),
            None => self.known.by_digest(&version.name).map(Ok),
        }
    }

    fn blobs(&self, version: &Version) -> Option<Result<&Blobs, &str>> {
        match self.unreadable.get(&version.id) {
            Some(why) => Some(Err(why.as_str())),
            None => self.known.blobs_by_digest(&version.name).map(Ok),
        }
    }
}

/// An image tagged in the registry in this run whose version is not in the listing: it
/// was restored, or it is on a listing page this run did not read. It is kept, and so is
/// everything its manifest references (its manifest was read in this run, by digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlisted {
    pub digest: String,
    /// Its tags in the registry; empty for a manifest reached only through another.
    pub tags: Vec<String>,
    pub manifest: Manifest,
}

impl Unlisted {
    /// How reports name it: its first tag, or its digest.
    pub fn describe(&self) -> String {
        match self.tags.first() {
            Some(tag) => format!("`{}` ({})", short_tag(tag), short_digest(&self.digest)),
            None => short_digest(&self.digest),
        }
    }
}

/// The graph of one package: for every version (by plan index), its parents with the role
/// it has under each, and, for an artifact whose subject is not in the package, that subject.
/// Nodes past the versions are the [`Unlisted`] images, in their order.
/// The cleanup, the restore and the audit ([`super::audit`]) all read this one graph.
pub(crate) struct Graph {
    pub(crate) parents: Vec<Vec<(usize, Role)>>,
    pub(crate) children: Vec<Vec<usize>>,
    pub(crate) artifact: Vec<bool>,
    pub(crate) missing_subject: Vec<Option<String>>,
}

impl Graph {
    pub(crate) fn new(versions: &[PlannedVersion], manifests: &impl ManifestLookup) -> Graph {
        Graph::with_unlisted(versions, manifests, &[])
    }

    /// The graph of `versions` and of the `unlisted` images, which come after them.
    pub(crate) fn with_unlisted(
        versions: &[PlannedVersion],
        manifests: &impl ManifestLookup,
        unlisted: &[Unlisted],
    ) -> Graph {
        let n = versions.len() + unlisted.len();
        let names = versions
            .iter()
            .map(|planned| planned.version.name.as_str())
            .chain(unlisted.iter().map(|image| image.digest.as_str()));
        let by_digest: HashMap<&str, usize> = names
            .enumerate()
            .map(|(index, name)| (name, index))
            .collect();
        let mut graph = Graph {
            parents: vec![Vec::new(); n],
            children: vec![Vec::new(); n],
            artifact: vec![false; n],
            missing_subject: vec![None; n],
        };
        let nodes: Vec<(&Vec<String>, Option<&Manifest>)> = versions
            .iter()
            .map(|planned| {
                let manifest = manifests.lookup(&planned.version).and_then(Result::ok);
                (&planned.version.tags, manifest)
            })
            .chain(
                unlisted
                    .iter()
                    .map(|image| (&image.tags, Some(&image.manifest))),
            )
            .collect();
        for (index, &(tags, manifest)) in nodes.iter().enumerate() {
            for child in manifest.iter().flat_map(|m| &m.children) {
                if let Some(&child_index) = by_digest.get(child.digest.as_str()) {
                    graph.link(index, child_index, child_role(child));
                }
            }
            if !may_be_artifact(tags) {
                continue;
            }
            let tagged = tags.iter().filter_map(|tag| tag_subject(tag));
            let declared = manifest.and_then(|m| {
                let subject = m.subject.clone()?;
                Some((subject, artifact_role(m.artifact_type.as_deref())))
            });
            for (subject, role) in tagged.chain(declared) {
                graph.artifact[index] = true;
                match by_digest.get(subject.as_str()) {
                    Some(&subject_index) => graph.link(subject_index, index, role),
                    None => graph.missing_subject[index] = Some(subject),
                }
            }
        }
        for (index, &(tags, manifest)) in nodes.iter().enumerate() {
            if graph.artifact[index] || !may_be_artifact(tags) {
                continue;
            }
            let subject =
                manifest.and_then(|manifest| referrers_subject(manifest, &by_digest, &nodes));
            if let Some(subject) = subject {
                graph.artifact[index] = true;
                match by_digest.get(subject) {
                    Some(&subject_index) => graph.link(subject_index, index, Role::Referrers),
                    None => graph.missing_subject[index] = Some(subject.to_string()),
                }
            }
        }
        graph
    }

    fn link(&mut self, parent: usize, child: usize, role: Role) {
        if parent != child && !self.parents[child].iter().any(|(p, _)| *p == parent) {
            self.parents[child].push((parent, role));
            self.children[parent].push(child);
        }
    }

    /// Every version reachable from `roots` (included).
    pub(crate) fn reachable(&self, roots: impl Iterator<Item = usize>) -> Vec<bool> {
        let mut kept = vec![false; self.parents.len()];
        let mut queue: Vec<usize> = roots.collect();
        while let Some(index) = queue.pop() {
            if !std::mem::replace(&mut kept[index], true) {
                queue.extend(self.children[index].iter().copied());
            }
        }
        kept
    }
}

/// The subject `manifest` is a referrers index of, when it is one: an index whose every
/// entry is a manifest of the package that declares the same `subject`. The referrers tag
/// `sha256-<digest>` moves each time an artifact is added, and the index it pointed at
/// before stays behind, untagged, still listing the artifacts: it is one more artifact of
/// that subject (it goes with it and keeps nothing), never an image of its own.
fn referrers_subject<'a>(
    manifest: &Manifest,
    by_digest: &HashMap<&str, usize>,
    nodes: &[(&Vec<String>, Option<&'a Manifest>)],
) -> Option<&'a str> {
    if !manifest.is_index || manifest.children.is_empty() {
        return None;
    }
    let mut subject = None;
    for child in &manifest.children {
        let &index = by_digest.get(child.digest.as_str())?;
        let (_, read) = nodes.get(index)?;
        let declared = read.as_ref()?.subject.as_deref()?;
        if *subject.get_or_insert(declared) != declared {
            return None;
        }
    }
    subject
}

fn artifact_role(artifact_type: Option<&str>) -> Role {
    if artifact_type.is_some_and(|t| t.starts_with(SIGSTORE_BUNDLE)) {
        Role::ArtifactAttestation
    } else {
        Role::Artifact
    }
}

/// What an index entry is to the index.
fn child_role(child: &Child) -> Role {
    if child.attests.is_some() {
        Role::Attestation
    } else if let Some(platform) = &child.platform {
        Role::Platform(platform.clone())
    } else if child.artifact_type.is_some() {
        artifact_role(child.artifact_type.as_deref())
    } else {
        Role::Child
    }
}

/// What the graph needs of the run's configuration: the policy (its `version-ids` alone
/// let a version with an unreadable manifest go; with `delete-orphans`, `older-than` and
/// `version-ids` still protect orphans, see [`plan::orphan_may_go`]) and the clock.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub policy: &'a Policy,
    pub now: SystemTime,
    pub delete_orphans: bool,
}

/// What a run with a `state-file` read itself: the ids of the versions its listing pages
/// returned (`None`: every version), and the [`Unlisted`] images its registry tag list found.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadHere<'a> {
    pub confirmed: Option<&'a HashSet<u64>>,
    pub unlisted: &'a [Unlisted],
}

impl ReadHere<'_> {
    /// Whether this run read `version` on a listing page.
    pub fn confirms(&self, version: &Version) -> bool {
        self.confirmed.is_none_or(|ids| ids.contains(&version.id))
    }
}

/// Adjust a delete-mode container plan to the image graph (see the module documentation).
/// `manifests` holds what was read for each version; a version missing from it counts as
/// unreadable. Returns the plan with every version decided and a reason for each, the
/// parents of everything that goes with an image, and parents ordered before children.
pub fn adjust(plan: Plan, manifests: &impl ManifestLookup, rules: &Rules<'_>) -> Plan {
    adjust_read(plan, manifests, rules, ReadHere::default())
}

/// [`adjust`] for a listing partly taken from the state file: a version `read` does not
/// confirm is kept, with everything it references, and so is everything the unlisted
/// images reference.
pub fn adjust_read(
    mut plan: Plan,
    manifests: &impl ManifestLookup,
    rules: &Rules<'_>,
    read: ReadHere<'_>,
) -> Plan {
    let graph = Graph::with_unlisted(&plan.versions, manifests, read.unlisted);
    let verdict = Verdict::new(&plan.versions, &graph, manifests, rules, read);
    // Decided in place, one at a time: `decide` reads only the versions' records and the
    // version's own decision, never another's, and a vector of 100k decisions is 12 MB.
    for index in 0..plan.versions.len() {
        let (decision, reason, relation) =
            verdict.decide(index, &plan.versions, &graph, manifests, read.unlisted);
        let planned = &mut plan.versions[index];
        planned.decision = decision;
        if let Some(reason) = reason {
            planned.reason = reason;
        }
        planned.relation = relation;
    }
    plan.order = execution_order(&plan);
    plan
}

/// Container, for `keep-latest`: the ids of the versions that take a slot, the top-level
/// images. A top-level image is a tagged version, or an untagged one that no other version
/// references, but never an artifact (found by tag or by `subject`). Platform manifests,
/// attestation manifests and artifacts take none: they follow their image. An unreadable
/// manifest hides what it references, so its children then count as images (as when every
/// version took a slot).
pub fn top_level_images(
    plan: &Plan,
    manifests: &impl ManifestLookup,
    unlisted: &[Unlisted],
) -> HashSet<u64> {
    let graph = Graph::with_unlisted(&plan.versions, manifests, unlisted);
    plan.versions
        .iter()
        .enumerate()
        .filter(|(index, planned)| {
            !graph.artifact[*index]
                && (!planned.version.tags.is_empty() || graph.parents[*index].is_empty())
        })
        .map(|(_, planned)| planned.version.id)
        .collect()
}

/// Why `version`'s manifest is missing from `manifests`, if it is.
fn unreadable_reason(manifests: &impl ManifestLookup, version: &Version) -> Option<String> {
    match manifests.lookup(version) {
        Some(Ok(_)) => None,
        Some(Err(why)) => Some(why.to_string()),
        None => Some("not read".to_string()),
    }
}

/// Which versions are kept, and why, by plan index.
struct Verdict {
    /// Kept on its own by the policy: a root the policy keeps, or an orphan not deleted.
    by_policy: Vec<bool>,
    /// Kept because its own manifest could not be read and `version-ids` does not name it,
    /// or because this run did not read it.
    pinned: Vec<bool>,
    /// Pinned because this run did not read it.
    unread: Vec<bool>,
    /// `by_policy` or `pinned`, or reachable from a version that is kept.
    kept: Vec<bool>,
    /// Kept only because the run fails closed.
    closed: Vec<bool>,
    /// The kept version whose manifest could not be read, if any.
    unreadable: Option<u64>,
}

impl Verdict {
    fn new(
        versions: &[PlannedVersion],
        graph: &Graph,
        manifests: &impl ManifestLookup,
        rules: &Rules<'_>,
        read: ReadHere<'_>,
    ) -> Verdict {
        let n = versions.len();
        // The unlisted images after the versions are kept on their own.
        let by_policy: Vec<bool> = (0..graph.parents.len())
            .map(|index| {
                let Some(planned) = versions.get(index) else {
                    return true;
                };
                let dependent =
                    !matches!(planned.reason, Reason::Excluded(_) | Reason::Referenced(_))
                        && planned.version.tags_known
                        && (planned.version.tags.is_empty() || graph.artifact[index]);
                if !dependent {
                    return planned.decision == Decision::Keep;
                }
                let orphan_goes = planned.decision == Decision::Act
                    || (rules.delete_orphans
                        && plan::orphan_may_go(&planned.version, rules.policy, rules.now));
                graph.parents[index].is_empty() && !orphan_goes
            })
            .collect();
        let unread: Vec<bool> = versions
            .iter()
            .map(|planned| !read.confirms(&planned.version))
            .collect();
        let pinned: Vec<bool> = versions
            .iter()
            .zip(&unread)
            .map(|(planned, &unread)| {
                let id = planned.version.id;
                let named = rules
                    .policy
                    .version_ids
                    .as_ref()
                    .is_some_and(|ids| ids.contains(&id));
                unread || (!named && unreadable_reason(manifests, &planned.version).is_some())
            })
            .collect();
        let roots = (0..graph.parents.len())
            .filter(|&index| by_policy[index] || pinned.get(index).copied().unwrap_or(false));
        let mut kept = graph.reachable(roots);
        let unreadable = (0..n).find(|&index| {
            kept[index] && unreadable_reason(manifests, &versions[index].version).is_some()
        });
        let mut closed = vec![false; n];
        if unreadable.is_some() {
            let untagged = (0..n).filter(|&index| versions[index].version.tags.is_empty());
            let held = graph.reachable(untagged);
            for (index, held) in held.into_iter().enumerate().take(n) {
                closed[index] = held && !kept[index];
                kept[index] |= held;
            }
        }
        Verdict {
            by_policy,
            pinned,
            unread,
            kept,
            closed,
            unreadable: unreadable.map(|index| versions[index].version.id),
        }
    }

    /// The decision for one version, its new reason (`None`: the policy's stands) and, when
    /// it goes with an image, its parents.
    fn decide(
        &self,
        index: usize,
        versions: &[PlannedVersion],
        graph: &Graph,
        manifests: &impl ManifestLookup,
        unlisted: &[Unlisted],
    ) -> (Decision, Option<Reason>, Option<Relation>) {
        let parents = &graph.parents[index];
        if self.kept[index] {
            let planned = &versions[index];
            let reason = match (self.closed[index], self.unreadable) {
                (true, Some(id)) => Some(Reason::FailClosed(id)),
                _ if self.by_policy[index] => None,
                // The graph would have acted on it: the next run, which reads it, decides.
                _ if self.unread[index] => Some(Reason::Unconfirmed(Unconfirmed::NotListed)),
                _ if self.pinned[index] => {
                    unreadable_reason(manifests, &planned.version).map(Reason::Unreadable)
                }
                _ => parents
                    .iter()
                    .find(|(parent, _)| self.kept[*parent])
                    .map(|(parent, role)| match versions.get(*parent) {
                        Some(parent) => Reason::PartOfKept {
                            role: role.clone(),
                            image: describe_image(&parent.version),
                            parent: parent.version.id,
                        },
                        None => Reason::PartOfUnlisted {
                            role: role.clone(),
                            image: unlisted
                                .get(*parent - versions.len())
                                .map(Unlisted::describe)
                                .unwrap_or_default(),
                        },
                    }),
            };
            return (Decision::Keep, reason, None);
        }
        if let Some((first, role)) = parents.first() {
            let relation = Relation {
                parents: parents
                    .iter()
                    .map(|(parent, _)| versions[*parent].version.id)
                    .collect(),
                role: role.clone(),
            };
            let reason = Reason::PartOfDeleted {
                role: role.clone(),
                image: describe_image(&versions[*first].version),
            };
            return (Decision::Act, Some(reason), Some(relation));
        }
        let orphan = (versions[index].decision == Decision::Keep)
            .then(|| Reason::Orphan(graph.missing_subject[index].clone()));
        (Decision::Act, orphan, None)
    }
}

/// The selected versions oldest first, except that every version comes after all of its
/// selected parents (Kahn's algorithm, taking the oldest ready version each time). Versions
/// caught in a reference cycle, which real registries cannot produce, come last.
fn execution_order(plan: &Plan) -> Vec<usize> {
    let n = plan.versions.len();
    let acting = |index: usize| plan.versions[index].decision == Decision::Act;
    let index_of: HashMap<u64, usize> = plan
        .versions
        .iter()
        .enumerate()
        .map(|(index, planned)| (planned.version.id, index))
        .collect();
    let mut waiting = vec![0usize; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for index in (0..n).filter(|&i| acting(i)) {
        let parents = plan.versions[index]
            .relation
            .iter()
            .flat_map(|r| &r.parents);
        for parent in parents.filter_map(|id| index_of.get(id).copied()) {
            if acting(parent) {
                waiting[index] += 1;
                children[parent].push(index);
            }
        }
    }
    // Plan indexes run newest first, so the oldest ready version has the largest index.
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| acting(i) && waiting[i] == 0).collect();
    let mut order = Vec::new();
    while let Some(index) = ready.pop_last() {
        order.push(index);
        for &child in &children[index] {
            waiting[child] -= 1;
            if waiting[child] == 0 {
                ready.insert(child);
            }
        }
    }
    let placed: HashSet<usize> = order.iter().copied().collect();
    order.extend((0..n).rev().filter(|&i| acting(i) && !placed.contains(&i)));
    order
}

/// Restore mode: the deleted versions to restore right after `restored`, so that its image is
/// whole again: the manifests its index lists (`manifest`, read once it is restored) and the
/// artifacts tagged after its digest (found without reading). Versions in `done` are skipped.
pub fn restore_followers(
    restored: &Version,
    manifest: Option<&Manifest>,
    plan: &Plan,
    done: &HashSet<u64>,
) -> Vec<(Version, Role)> {
    let mut followers: Vec<(Version, Role)> = Vec::new();
    let mut add = |version: &Version, role: Role| {
        if !done.contains(&version.id) && !followers.iter().any(|(v, _)| v.id == version.id) {
            followers.push((version.clone(), role));
        }
    };
    for child in manifest.iter().flat_map(|m| &m.children) {
        let found = plan.versions.iter().find(|planned| {
            planned.version.name == child.digest && !done.contains(&planned.version.id)
        });
        if let Some(planned) = found {
            add(&planned.version, child_role(child));
        }
    }
    for planned in plan
        .versions
        .iter()
        .filter(|planned| may_be_artifact(&planned.version.tags))
    {
        let about = planned
            .version
            .tags
            .iter()
            .filter_map(|tag| tag_subject(tag));
        for (subject, role) in about {
            if subject == restored.name {
                add(&planned.version, role);
            }
        }
    }
    followers
}

#[cfg(test)]
mod tests;
