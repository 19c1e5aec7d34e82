//! Images named by the files of the workspace (`keep-referenced`): each reference with where
//! it stands, and what one package's references pin, as the planner reads it.

use std::collections::BTreeMap;
use std::fmt;

use super::version::Version;

/// Where a reference stands: a file (relative to the workspace, with `/`) and a line (from 1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What a reference names in its repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `…:<tag>`.
    Tag(String),
    /// `…@sha256:<hex>`: the digest, `sha256:<hex>` in lower case.
    Digest(String),
    /// `…:<tag>@sha256:<hex>`: the digest is what is pulled; the tag is kept too.
    TagAndDigest { tag: String, digest: String },
    /// The repository alone, which Docker, Compose and Kubernetes pull as `latest`.
    Repository,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tag(tag) => write!(f, ":{tag}"),
            Target::Digest(digest) => write!(f, "@{digest}"),
            Target::TagAndDigest { tag, digest } => write!(f, ":{tag}@{digest}"),
            Target::Repository => f.write_str(""),
        }
    }
}

/// One image reference found in a file: `<registry>/<repository>` + its target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// The repository path after the registry host, in lower case: `acme/app`, or
    /// `acme/team/app` for the package `team/app`.
    pub repository: String,
    pub target: Target,
    pub place: Place,
}

/// The tag a repository reference stands for.
pub const IMPLIED_TAG: &str = "latest";

/// One tag or digest of a package that the workspace names, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Pin {
    /// Every place that names it, in order, each once.
    places: Vec<Place>,
    /// Whether a version must carry it: named on its own (`:v1`, `@sha256:…`), not only as
    /// the tag beside a digest or the `latest` a bare repository implies.
    required: bool,
}

/// What one package's references pin: the versions with these tags or digests are kept,
/// whatever the policy says. Empty when `keep-referenced` is not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referenced {
    tags: BTreeMap<String, Pin>,
    digests: BTreeMap<String, Pin>,
}

/// The places that pin a version: the first (by file, then line) and how many others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned<'a> {
    pub place: &'a Place,
    pub others: usize,
}

/// A tag or digest the workspace names on its own that no listed version has: a deployment
/// pointing at nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing<'a> {
    /// `:<tag>` or `@sha256:<hex>`.
    pub target: String,
    pub place: &'a Place,
    pub others: usize,
}

impl Referenced {
    /// The references to `repository` (`owner/package`, compared ignoring ASCII case) among
    /// `references`.
    pub fn for_repository<'a>(
        references: impl IntoIterator<Item = &'a Reference>,
        repository: &str,
    ) -> Referenced {
        let mut referenced = Referenced::default();
        for reference in references {
            if !reference.repository.eq_ignore_ascii_case(repository) {
                continue;
            }
            let place = &reference.place;
            match &reference.target {
                Target::Tag(tag) => add(&mut referenced.tags, tag, place, true),
                Target::Digest(digest) => add(&mut referenced.digests, digest, place, true),
                Target::TagAndDigest { tag, digest } => {
                    add(&mut referenced.digests, digest, place, true);
                    add(&mut referenced.tags, tag, place, false);
                }
                Target::Repository => add(&mut referenced.tags, IMPLIED_TAG, place, false),
            }
        }
        referenced
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.digests.is_empty()
    }

    /// Where the workspace names `version`, by one of its tags or by its digest (its name).
    pub fn pinning(&self, version: &Version) -> Option<Pinned<'_>> {
        let by_tag = version.tags.iter().filter_map(|tag| self.tags.get(tag));
        let by_digest = self.digests.get(&version.name);
        let mut places: Vec<&Place> = by_tag
            .chain(by_digest)
            .flat_map(|pin| &pin.places)
            .collect();
        places.sort();
        places.dedup();
        let (&place, others) = places.split_first()?;
        Some(Pinned {
            place,
            others: others.len(),
        })
    }

    /// The tags and digests named on their own that none of `versions` has, each once.
    pub fn missing<'a>(&'a self, versions: &[&Version]) -> Vec<Missing<'a>> {
        let tags = self
            .tags
            .iter()
            .filter(|(tag, _)| !versions.iter().any(|v| v.tags.contains(*tag)))
            .map(|(tag, pin)| (format!(":{tag}"), pin));
        let digests = self
            .digests
            .iter()
            .filter(|(digest, _)| !versions.iter().any(|v| &v.name == *digest))
            .map(|(digest, pin)| (format!("@{digest}"), pin));
        tags.chain(digests)
            .filter(|(_, pin)| pin.required)
            .filter_map(|(target, pin)| {
                let (place, others) = pin.places.split_first()?;
                Some(Missing {
                    target,
                    place,
                    others: others.len(),
                })
            })
            .collect()
    }
}

fn add(pins: &mut BTreeMap<String, Pin>, key: &str, place: &Place, required: bool) {
    let pin = pins.entry(key.to_owned()).or_default();
    pin.required |= required;
    if let Err(at) = pin.places.binary_search(place) {
        pin.places.insert(at, place.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn digest(id: u64) -> String {
        format!("sha256:{id:064x}")
    }

    fn version(id: u64, tags: &[&str]) -> Version {
        Version {
            id,
            name: digest(id),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            tags_known: true,
            created_at: UNIX_EPOCH,
            updated_at: UNIX_EPOCH,
            deleted_at: None,
        }
    }

    fn reference(repository: &str, target: Target, file: &str, line: usize) -> Reference {
        Reference {
            repository: repository.to_owned(),
            target,
            place: Place {
                file: file.to_owned(),
                line,
            },
        }
    }

    fn tag(tag: &str) -> Target {
        Target::Tag(tag.to_owned())
    }

    #[test]
    fn a_package_is_pinned_by_its_own_references_by_tag_or_digest_first_place_first() {
        let references = [
            reference("acme/app", tag("v2"), "deploy/prod.yaml", 12),
            reference("acme/app", tag("v2"), "compose.yml", 3),
            reference("acme/app", Target::Digest(digest(7)), "k8s/app.yaml", 9),
            reference("acme/other", tag("v1"), "compose.yml", 4),
            reference("ACME/App", tag("v1"), "compose.yml", 5),
        ];
        let referenced = Referenced::for_repository(&references, "acme/app");
        let cases = [
            (version(1, &["v2", "latest"]), Some(("compose.yml:3", 1))),
            (version(2, &["v1"]), Some(("compose.yml:5", 0))),
            (version(7, &[]), Some(("k8s/app.yaml:9", 0))),
            (version(3, &["v3"]), None),
        ];
        for (version, expected) in cases {
            let pinned = referenced
                .pinning(&version)
                .map(|pinned| (pinned.place.to_string(), pinned.others));
            let expected = expected.map(|(place, others)| (place.to_owned(), others));
            assert_eq!(pinned, expected, "{:?}", version.tags);
        }
    }

    #[test]
    fn missing_targets_are_those_named_on_their_own_and_each_is_said_once() {
        let references = [
            reference("acme/app", tag("v9"), "a.yml", 1),
            reference("acme/app", tag("v9"), "b.yml", 2),
            reference("acme/app", tag("v1"), "a.yml", 3),
            reference("acme/app", Target::Digest(digest(99)), "a.yml", 4),
            reference(
                "acme/app",
                Target::TagAndDigest {
                    tag: "gone".to_owned(),
                    digest: digest(1),
                },
                "a.yml",
                5,
            ),
            reference("acme/app", Target::Repository, "a.yml", 6),
        ];
        let referenced = Referenced::for_repository(&references, "acme/app");
        let listed = [version(1, &["v1"])];
        let listed: Vec<&Version> = listed.iter().collect();
        let missing: Vec<(String, String, usize)> = referenced
            .missing(&listed)
            .into_iter()
            .map(|missing| (missing.target, missing.place.to_string(), missing.others))
            .collect();
        assert_eq!(
            missing,
            vec![
                (":v9".to_owned(), "a.yml:1".to_owned(), 1),
                (format!("@{}", digest(99)), "a.yml:4".to_owned(), 0),
            ]
        );
    }
}
