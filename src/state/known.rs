//! The manifests a package's state knows by digest, each with how far a run may rely on it.
//! Plain image manifests (nothing listed, no subject: nearly every version of a large
//! package) are held as their proof alone; the others with the manifest and its bytes.

use std::collections::HashMap;

use crate::model::manifest::Manifest;
use crate::policy::images::Digests;

/// What every plain image manifest is to the image graph.
static PLAIN: Manifest = Manifest {
    is_index: false,
    children: Vec::new(),
    artifact_type: None,
    subject: None,
};

/// How far a known manifest is proven to be its digest's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Its bytes hash to its digest: read from the registry in this run, or saved with
    /// bytes that were checked when loaded.
    Whole,
    /// The state file says it is a plain image manifest (nothing listed, no subject). Not
    /// proven: a run proves it before it relies on it.
    Claimed,
    /// A plain image manifest by the media type the registry gave for it in this run: it
    /// lists nothing; that it has no subject is the state file's claim still.
    Listless,
}

/// A manifest that lists others or has a subject, known whole.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Whole {
    manifest: Manifest,
    /// Its exact bytes, for the state file (kept only for a run with one).
    bytes: Option<String>,
}

/// The manifests known by digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownManifests {
    /// Plain image manifests, by digest: only how far each is proven.
    plain: HashMap<String, Proof>,
    /// The others, read whole (in this run, or from the state file's checked bytes).
    whole: HashMap<String, Whole>,
}

impl KnownManifests {
    /// The manifest of `digest` and how far it is proven, if known.
    pub fn get(&self, digest: &str) -> Option<(&Manifest, Proof)> {
        match self.plain.get(digest) {
            Some(proof) => Some((&PLAIN, *proof)),
            None => self
                .whole
                .get(digest)
                .map(|whole| (&whole.manifest, Proof::Whole)),
        }
    }

    /// How far the manifest of `digest` is proven, if known.
    pub fn proof(&self, digest: &str) -> Option<Proof> {
        self.get(digest).map(|(_, proof)| proof)
    }

    pub fn contains(&self, digest: &str) -> bool {
        self.plain.contains_key(digest) || self.whole.contains_key(digest)
    }

    pub fn len(&self) -> usize {
        self.plain.len() + self.whole.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `more` manifests, at once rather than by doubling as they arrive.
    pub fn reserve(&mut self, more: usize) {
        self.plain.reserve(more);
    }

    /// A manifest read from the registry in this run, with the bytes served: kept with them
    /// (`keep_bytes`, for the state file) unless it is a plain image manifest. It replaces
    /// whatever was known of the digest.
    pub fn read(&mut self, digest: String, manifest: Manifest, bytes: Vec<u8>, keep_bytes: bool) {
        if manifest.is_leaf() {
            self.whole.remove(&digest);
            self.plain.insert(digest, Proof::Whole);
        } else {
            self.plain.remove(&digest);
            let bytes = keep_bytes.then(|| String::from_utf8(bytes).ok()).flatten();
            self.whole.insert(digest, Whole { manifest, bytes });
        }
    }

    /// A plain image manifest the state file claims, not proven.
    pub fn claim(&mut self, digest: String) {
        self.plain.insert(digest, Proof::Claimed);
    }

    /// A manifest loaded from the state file with `bytes` that hash to `digest`.
    pub fn checked(&mut self, digest: String, manifest: Manifest, bytes: String) {
        if manifest.is_leaf() {
            self.plain.insert(digest, Proof::Whole);
        } else {
            let bytes = Some(bytes);
            self.whole.insert(digest, Whole { manifest, bytes });
        }
    }

    /// A claim proven by the media type the registry gave for `digest` in this run.
    pub fn prove_listless(&mut self, digest: &str) {
        if let Some(proof) = self.plain.get_mut(digest)
            && *proof == Proof::Claimed
        {
            *proof = Proof::Listless;
        }
    }

    /// Forgets `digest`, to read it again.
    pub fn forget(&mut self, digest: &str) {
        self.plain.remove(digest);
        self.whole.remove(digest);
    }

    /// Keeps the manifests whose digest `keep` says.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.plain.retain(|digest, _| keep(digest));
        self.whole.retain(|digest, _| keep(digest));
    }

    /// Every manifest as the state file saves it, in digest order (so that an unchanged
    /// state writes the same bytes): its bytes, or `None` for a plain image manifest. One
    /// read in this run without its bytes kept, which is not plain, is left out.
    pub fn saved(&self) -> Vec<(&str, Option<&str>)> {
        let plain = self.plain.keys().map(|digest| (digest.as_str(), None));
        let whole = self.whole.iter().filter_map(|(digest, whole)| {
            let bytes = whole.bytes.as_deref()?;
            Some((digest.as_str(), Some(bytes)))
        });
        let mut saved: Vec<(&str, Option<&str>)> = plain.chain(whole).collect();
        saved.sort_unstable_by(|a, b| a.0.cmp(b.0));
        saved
    }
}

impl Digests for KnownManifests {
    fn by_digest(&self, digest: &str) -> Option<&Manifest> {
        self.get(digest).map(|(manifest, _)| manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::Child;

    fn index() -> Manifest {
        Manifest {
            is_index: true,
            children: vec![Child {
                digest: "sha256:c".to_string(),
                ..Child::default()
            }],
            ..Manifest::default()
        }
    }

    #[test]
    fn plain_manifests_are_held_as_their_proof_and_the_others_whole() {
        let mut known = KnownManifests::default();
        known.claim("sha256:a".to_string());
        known.read("sha256:b".to_string(), index(), b"{}".to_vec(), true);
        known.read(
            "sha256:d".to_string(),
            Manifest::default(),
            b"{}".to_vec(),
            true,
        );
        assert_eq!(known.get("sha256:a"), Some((&PLAIN, Proof::Claimed)));
        assert_eq!(known.get("sha256:b"), Some((&index(), Proof::Whole)));
        assert_eq!(known.proof("sha256:d"), Some(Proof::Whole));
        known.prove_listless("sha256:a");
        known.prove_listless("sha256:d");
        assert_eq!(known.proof("sha256:a"), Some(Proof::Listless));
        assert_eq!(
            known.proof("sha256:d"),
            Some(Proof::Whole),
            "proven already"
        );
        assert_eq!(
            known.saved(),
            [
                ("sha256:a", None),
                ("sha256:b", Some("{}")),
                ("sha256:d", None)
            ]
        );
        known.read("sha256:a".to_string(), index(), b"{}".to_vec(), false);
        assert_eq!(known.get("sha256:a"), Some((&index(), Proof::Whole)));
        assert_eq!(
            known.saved().len(),
            2,
            "read without its bytes: read again next time"
        );
        known.retain(|digest| digest != "sha256:b");
        known.forget("sha256:d");
        assert_eq!(known.len(), 1);
    }
}
