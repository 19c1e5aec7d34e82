//! Container packages whose listing comes partly from the state file: every tag's digest
//! today, from the registry's tag list and a `HEAD` of each tag (no REST budget). It gives
//! the listed versions the tags they have today, finds the images tagged in the registry
//! whose versions are not in the listing (restored, or on pages this run did not read) and
//! reads their manifests, and proves by their media type that the saved claims of the
//! tagged manifests (plain image manifests) are true.

use std::collections::{BTreeMap, HashSet};

use futures_util::StreamExt;

use crate::model::version::Version;
use crate::policy::images::Unlisted;
use crate::registry::{Registry, RegistryError};
use crate::state::KnownManifests;

/// Tag list pages read at most: a million tags at 1,000 a page.
const MAX_TAG_PAGES: usize = 1_000;

/// `HEAD` requests in flight at once, as for manifest reads.
const HEADS_AT_ONCE: usize = 8;

/// Manifests read at most for images not in the listing (and what they reference).
const MAX_UNLISTED: usize = 1_000;

/// Media types of manifests that list nothing (an image manifest may still have a subject).
pub const LISTLESS_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// What the sweep found.
#[derive(Debug, Default)]
pub struct Swept {
    /// Images tagged in the registry whose versions are not listed, with their manifests
    /// (and the manifests those reference that are not listed either).
    pub unlisted: Vec<Unlisted>,
    pub tags: usize,
    pub tag_pages: usize,
    /// Listed versions whose tags in the registry differ from the listing's.
    pub retagged: usize,
}

/// Reads every tag of `repository` and its digest, then sets the tags of `versions`: a
/// version this run's listing pages returned (`confirmed`) keeps its tags and gains any the
/// registry adds; any other gets exactly the registry's. Manifests of listed digests
/// claimed plain by the state file are proven by the media type `HEAD` gives (the others
/// stay claims, for the caller to read). `Err` says why the tags could not be read whole:
/// then nothing of `versions` is changed.
pub async fn sweep(
    registry: &Registry,
    repository: &str,
    versions: &mut [Version],
    confirmed: &HashSet<u64>,
    known: &mut KnownManifests,
) -> Result<Swept, String> {
    let mut by_name: Vec<usize> = (0..versions.len()).collect();
    by_name.sort_unstable_by(|a, b| versions[*a].name.cmp(&versions[*b].name));
    let find = |digest: &str| {
        by_name
            .binary_search_by(|index| versions[*index].name.as_str().cmp(digest))
            .ok()
            .map(|found| by_name[found])
    };
    let mut found = Found::default();
    let mut unlisted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut swept = Swept::default();
    let mut last: Option<String> = None;
    loop {
        if swept.tag_pages >= MAX_TAG_PAGES {
            return Err(format!(
                "the registry lists more than {MAX_TAG_PAGES} pages of tags"
            ));
        }
        let page = registry
            .tags_page(repository, last.as_deref())
            .await
            .map_err(|err| format!("its tag list could not be read ({})", err.reason()))?;
        swept.tag_pages += 1;
        let heads = page.tags.into_iter().map(|tag| async move {
            let head = registry.head(repository, &tag).await;
            (tag, head)
        });
        let mut heads = futures_util::stream::iter(heads).buffer_unordered(HEADS_AT_ONCE);
        while let Some((tag, head)) = heads.next().await {
            let head = match head {
                Ok(head) => head,
                // Untagged since the list was read.
                Err(err) if err.is_unknown() => continue,
                Err(err) => return Err(head_failed(&tag, &err)),
            };
            swept.tags += 1;
            match find(&head.digest) {
                Some(index) => {
                    let listless = head
                        .media_type
                        .as_deref()
                        .is_some_and(|media_type| LISTLESS_TYPES.contains(&media_type));
                    if listless {
                        known.prove_listless(&head.digest);
                    }
                    found.push(index, &tag);
                }
                None => unlisted.entry(head.digest).or_default().push(tag),
            }
        }
        match page.next {
            Some(next) => last = Some(next),
            None => break,
        }
    }
    swept.unlisted = read_unlisted(registry, repository, unlisted, |digest| {
        find(digest).is_some()
    })
    .await?;
    swept.retagged = retag(versions, confirmed, found);
    Ok(swept)
}

/// The tags the registry has on listed versions, as (version index, tag), held as one
/// text: 90k tags read one `HEAD` at a time would otherwise be 90k small allocations
/// scattered among the requests' own, which keep the process's memory from shrinking.
#[derive(Debug, Default)]
pub struct Found {
    /// (version index, start, end) of each tag in `text`.
    spans: Vec<(usize, usize, usize)>,
    text: String,
}

impl Found {
    pub fn push(&mut self, index: usize, tag: &str) {
        let start = self.text.len();
        self.text.push_str(tag);
        self.spans.push((index, start, self.text.len()));
    }
}

/// Gives `versions` their tags of today: `found` holds every tag the registry has on a
/// listed version. A version this run's listing pages returned (`confirmed`) keeps its
/// tags and gains any the registry adds (its tags stay unknown when the listing gave
/// none); any other gets exactly the registry's. Returns how many versions' tags changed.
pub fn retag(versions: &mut [Version], confirmed: &HashSet<u64>, found: Found) -> usize {
    let Found { mut spans, text } = found;
    spans.sort_unstable_by_key(|(index, start, _)| (*index, *start));
    let mut spans = spans.into_iter().peekable();
    let mut retagged = 0;
    for (index, version) in versions.iter_mut().enumerate() {
        let mut tags = Vec::new();
        while let Some((_, start, end)) = spans.next_if(|(at, _, _)| *at <= index) {
            if let Some(tag) = text.get(start..end) {
                tags.push(tag.to_string());
            }
        }
        tags.shrink_to_fit();
        if confirmed.contains(&version.id) {
            if version.tags_known {
                let before = version.tags.len();
                for tag in tags {
                    if !version.tags.contains(&tag) {
                        version.tags.push(tag);
                    }
                }
                retagged += usize::from(version.tags.len() != before);
            }
        } else {
            let same = version.tags_known
                && tags.len() == version.tags.len()
                && tags.iter().all(|tag| version.tags.contains(tag));
            retagged += usize::from(!same);
            version.tags = tags;
            version.tags_known = true;
        }
    }
    retagged
}

fn head_failed(tag: &str, err: &RegistryError) -> String {
    format!("HEAD of its tag `{tag}` failed ({})", err.reason())
}

/// Reads the manifests of the images tagged in the registry but not listed, and of what
/// they reference that is not listed either (`listed` says), by digest.
async fn read_unlisted(
    registry: &Registry,
    repository: &str,
    tagged: BTreeMap<String, Vec<String>>,
    listed: impl Fn(&str) -> bool,
) -> Result<Vec<Unlisted>, String> {
    let mut queue: Vec<(String, Vec<String>)> = tagged.into_iter().rev().collect();
    let mut seen: HashSet<String> = queue.iter().map(|(digest, _)| digest.clone()).collect();
    let mut images = Vec::new();
    while let Some((digest, tags)) = queue.pop() {
        if images.len() >= MAX_UNLISTED {
            return Err(format!(
                "more than {MAX_UNLISTED} images tagged in the registry are not in the listing"
            ));
        }
        let manifest = registry
            .manifest(repository, &digest)
            .await
            .map_err(|err| {
                format!(
                    "the manifest of {digest}, tagged in the registry but not in the listing, could not be read ({})",
                    err.reason()
                )
            })?;
        for child in &manifest.children {
            if !listed(&child.digest) && seen.insert(child.digest.clone()) {
                queue.push((child.digest.clone(), Vec::new()));
            }
        }
        images.push(Unlisted {
            digest,
            tags,
            manifest,
        });
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn version(id: u64, tags: &[&str], known: bool) -> Version {
        Version {
            tags_known: known,
            ..crate::testing::image_at(id, tags, UNIX_EPOCH)
        }
    }

    #[test]
    fn versions_get_todays_tags_read_ones_keep_theirs_and_gain_the_registrys() {
        let mut versions = vec![
            version(1, &["old"], true),
            version(2, &[], true),
            version(3, &["v1"], true),
            version(4, &[], false),
            version(5, &["gone"], true),
        ];
        let confirmed: HashSet<u64> = [3, 4].into();
        // Today: 1 was promoted to v2.0 and lost `old`; 2 has `latest`; 3 also has `stable`.
        let mut found = Found::default();
        for (index, tag) in [(2, "stable"), (0, "v2.0"), (1, "latest"), (3, "x")] {
            found.push(index, tag);
        }
        let changed = retag(&mut versions, &confirmed, found);
        let tags: Vec<(Vec<String>, bool)> = versions
            .iter()
            .map(|version| (version.tags.clone(), version.tags_known))
            .collect();
        let owned = |tags: &[&str]| tags.iter().map(|tag| tag.to_string()).collect::<Vec<_>>();
        assert_eq!(
            tags,
            [
                (owned(&["v2.0"]), true),
                (owned(&["latest"]), true),
                (owned(&["v1", "stable"]), true),
                (owned(&[]), false),
                (owned(&[]), true),
            ],
            "a listed version whose tags the listing did not give stays unknown"
        );
        assert_eq!(changed, 4);
    }
}
