//! Storage figures, pure: the blobs each version's manifest stores → what a cleanup frees and
//! what it keeps, and where an audited package's bytes are.
//!
//! A blob is counted once per package, by digest, however many manifests list it: layers
//! are shared between images, so summing image sizes counts them again and again, and a
//! layer a kept manifest still lists frees nothing. A cleanup frees the blobs that only
//! deleted manifests list. A version whose blobs cannot be counted (its manifest could not
//! be read, or claims a size that cannot be) leaves the figures it could change partial,
//! never silently smaller or larger.
//!
//! Sizes are facts only when they come from manifest bytes that prove to be the digest's,
//! over a listing this run read: with a `state-file`, a plain image manifest the run holds
//! by its digest alone ([`Blobs::NotHeld`]), or a listing partly taken from the state file
//! (versions added, deleted or restored since may be missing), leaves the figures it could
//! change unknown, with the reason, rather than a number that may be wrong.

use std::collections::{HashMap, HashSet};

use crate::model::manifest::{Blob, Blobs, MAX_BYTES};
use crate::model::version::{PackageType, Version};
use crate::policy::images::{ManifestLookup, ReadHere};

/// How many of an audited package's largest images are named.
pub const LARGEST_IMAGES: usize = 10;

/// A number of bytes, and how far it can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Every blob that counts was counted.
    Exact(u64),
    /// Counted over the versions whose blobs could be counted; the [`Note`]s say which
    /// could not.
    Partial(u64),
    /// Not measured; the [`Note`]s say why.
    Unknown,
}

impl Size {
    /// The exact number of bytes, if it is exact.
    pub fn exact(self) -> Option<u64> {
        match self {
            Size::Exact(bytes) => Some(bytes),
            Size::Partial(_) | Size::Unknown => None,
        }
    }

    /// The bytes counted, exact or not.
    pub fn counted(self) -> Option<u64> {
        match self {
            Size::Exact(bytes) | Size::Partial(bytes) => Some(bytes),
            Size::Unknown => None,
        }
    }

    /// Two figures added: exact only when both are, unknown only when both are (or when
    /// the sum passes [`MAX_BYTES`], which no package holds).
    pub fn plus(self, other: Size) -> Size {
        let sum = match (self.counted(), other.counted()) {
            (None, None) => return Size::Unknown,
            (a, b) => a.unwrap_or(0).checked_add(b.unwrap_or(0)),
        };
        match (sum.filter(|sum| *sum <= MAX_BYTES), self, other) {
            (None, _, _) => Size::Unknown,
            (Some(sum), Size::Exact(_), Size::Exact(_)) => Size::Exact(sum),
            (Some(sum), _, _) => Size::Partial(sum),
        }
    }
}

/// Why a figure is partial or unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Not a container package: GitHub's API gives no sizes.
    NoSizes(PackageType),
    /// The manifests were not read: the plan selected nothing, so nothing is freed, and
    /// what stays was not measured.
    NotRead,
    /// The blobs of `count` versions are not counted: the first of them, and why.
    Uncounted { count: usize, id: u64, why: String },
    /// The manifests of `count` versions are held by their digest alone (a state file's
    /// claim, proven in this run by its media type at most), not read in this run, so what
    /// they store is not known.
    NotReadHere { count: usize },
    /// The listing was not all read in this run: part of it, `unconfirmed` versions of it,
    /// comes from the state file, so the versions that stay are not all known.
    ListingFromState { unconfirmed: usize },
    /// The sizes add up past 2^53 bytes (8 PiB), which no package holds.
    PastLimit,
}

/// What a cleanup of one package frees (or, in a dry run, would), and what stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// The blobs only deleted manifests listed.
    pub freed: Size,
    /// The blobs the versions that stay list.
    pub kept: Size,
    pub notes: Vec<Note>,
}

/// Which bytes an audited version holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A tag reaches it.
    Tagged,
    /// No tag reaches it, and a `delete-orphans` cleanup keeps it.
    Untagged,
    /// What a `delete-orphans` cleanup deletes.
    Orphan,
}

/// Where an audited package's bytes are: each blob once, counted as the first holder in
/// [`Holder`]'s order that lists it, so that the three add up to `total` and `orphaned`
/// is what a `delete-orphans` cleanup frees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    pub total: Size,
    pub tagged: Size,
    pub untagged: Size,
    pub orphaned: Size,
    /// The largest tagged images, largest first (the lowest id first among equals), at
    /// most [`LARGEST_IMAGES`]: the version id of each, and the blobs of its whole tree.
    pub largest: Vec<(u64, Size)>,
    pub notes: Vec<Note>,
}

/// The blobs of one package's versions, each distinct blob once, read from the manifests
/// the run holds: what the figures are computed from. Versions are numbered in the order
/// given (a plan's order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// The version id of each.
    ids: Vec<u64>,
    /// Version `i` lists `blobs[starts[i]..starts[i + 1]]`, each once.
    starts: Vec<u32>,
    /// Indexes into `sizes`.
    blobs: Vec<u32>,
    /// The size of each distinct blob.
    sizes: Vec<u64>,
    /// How far each version's blobs are counted.
    counted: Vec<Trust>,
    /// How many versions' blobs are not counted, and the first of them (by number) with why.
    uncounted: usize,
    first_uncounted: Option<(usize, String)>,
    /// How many versions' manifests are held by their digest alone.
    not_held: usize,
    /// With a listing partly from the state file: how many versions it did not confirm.
    from_state: Option<usize>,
}

/// How far a figure can be trusted, worst last: what a figure over several versions is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Trust {
    /// Every blob that counts was counted.
    #[default]
    Exact,
    /// Some blobs could not be counted; the rest were.
    Partial,
    /// Not known at all.
    Unknown,
}

impl Held {
    /// The blobs each of `versions` lists, from what was read of its manifest. `read` says
    /// whether the listing was read whole in this run: when part of it comes from the state
    /// file ([`ReadHere::confirmed`]), which versions stay is not all known, and neither
    /// figure is.
    pub fn new<'a>(
        versions: impl IntoIterator<Item = &'a Version>,
        manifests: &impl ManifestLookup,
        read: ReadHere<'_>,
    ) -> Held {
        let mut held = Held {
            starts: vec![0],
            ..Held::default()
        };
        // Keyed by the ids the manifests hold, borrowed.
        let mut by_id: HashMap<&[u8; 16], u32> = HashMap::new();
        let mut unconfirmed = 0usize;
        for (number, version) in versions.into_iter().enumerate() {
            held.ids.push(version.id);
            unconfirmed += usize::from(!read.confirms(version));
            let listed = match manifests.blobs(version) {
                None => Err(Some("its manifest was not read".to_string())),
                Some(Err(why)) => Err(Some(format!("its manifest could not be read: {why}"))),
                Some(Ok(Blobs::Sized(blobs))) => Ok(&**blobs),
                Some(Ok(Blobs::Unsized(why))) => Err(Some(why.clone())),
                Some(Ok(Blobs::NotHeld)) => Err(None),
            };
            let counted = listed.and_then(|blobs| held.add(blobs, &mut by_id).map_err(Some));
            held.counted.push(match counted {
                Ok(()) => Trust::Exact,
                Err(Some(why)) => {
                    held.uncounted += 1;
                    held.first_uncounted.get_or_insert((number, why));
                    Trust::Partial
                }
                Err(None) => {
                    held.not_held += 1;
                    Trust::Unknown
                }
            });
            held.starts.push(held.slot_count());
        }
        held.from_state = read.confirmed.map(|_| unconfirmed);
        held
    }

    /// Adds one version's blobs, each once; on a blob listed elsewhere with another size,
    /// or past `u32::MAX` distinct blobs or listings, none of them, and why.
    fn add<'m>(
        &mut self,
        blobs: &'m [Blob],
        by_id: &mut HashMap<&'m [u8; 16], u32>,
    ) -> Result<(), String> {
        let start = self.blobs.len();
        if u32::try_from(start + blobs.len()).is_err() {
            return Err("the package lists more than 2^32 blobs".to_string());
        }
        for blob in blobs {
            let slot = match by_id.get(&blob.id) {
                Some(&slot) => slot,
                None => {
                    let Ok(slot) = u32::try_from(self.sizes.len()) else {
                        self.blobs.truncate(start);
                        return Err("the package lists more than 2^32 blobs".to_string());
                    };
                    self.sizes.push(blob.size);
                    by_id.insert(&blob.id, slot);
                    slot
                }
            };
            let known = self.sizes[slot as usize];
            if known != blob.size {
                self.blobs.truncate(start);
                return Err(format!(
                    "it gives blob sha256:{}… {} bytes, and another manifest {known}",
                    &blob.hex()[..12],
                    blob.size
                ));
            }
            self.blobs.push(slot);
        }
        let mut own = self.blobs.split_off(start);
        own.sort_unstable();
        own.dedup();
        self.blobs.extend(own);
        Ok(())
    }

    /// How many versions this holds the blobs of.
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The distinct blobs version `number` lists (none when they are not counted).
    fn of(&self, number: usize) -> &[u32] {
        &self.blobs[self.starts[number] as usize..self.starts[number + 1] as usize]
    }

    /// Where the next version's blobs start in `blobs`: [`Held::add`] keeps it in a `u32`.
    fn slot_count(&self) -> u32 {
        u32::try_from(self.blobs.len()).unwrap_or(u32::MAX)
    }

    /// What a cleanup frees and keeps, when the versions whose ids `gone` holds are
    /// deleted (or would be, in a dry run) and the others stay. What is freed rests on
    /// every version (a blob any kept one lists is not freed); what is kept on the kept
    /// ones; a cleanup that deletes nothing frees exactly 0.
    pub fn cleanup(&self, gone: &HashSet<u64>) -> Storage {
        let is_gone = |number: usize| gone.contains(&self.ids[number]);
        let mut listed_by_kept = vec![false; self.sizes.len()];
        let mut listed_by_gone = vec![false; self.sizes.len()];
        for number in 0..self.len() {
            let listed = if is_gone(number) {
                &mut listed_by_gone
            } else {
                &mut listed_by_kept
            };
            for &blob in self.of(number) {
                listed[blob as usize] = true;
            }
        }
        let any_gone = (0..self.len()).any(is_gone);
        let listing = self.listing_trust();
        let kept_trust = (0..self.len())
            .filter(|&number| !is_gone(number))
            .map(|number| self.counted[number])
            .fold(listing, Trust::max);
        let freed_trust = if any_gone {
            self.counted.iter().copied().fold(listing, Trust::max)
        } else {
            Trust::Exact
        };
        let mut notes = self.notes();
        let freed = self.sum(
            |blob| listed_by_gone[blob] && !listed_by_kept[blob],
            freed_trust,
            &mut notes,
        );
        let kept = self.sum(|blob| listed_by_kept[blob], kept_trust, &mut notes);
        Storage { freed, kept, notes }
    }

    /// Where an audited package's bytes are: `holder` says who holds each version (by
    /// number), and `images` gives each tagged image's id with the numbers of every
    /// version of its tree (itself, its platforms, attestations and artifacts).
    pub fn holdings(
        &self,
        holder: impl Fn(usize) -> Holder,
        images: impl Iterator<Item = (u64, Vec<usize>)>,
    ) -> Holdings {
        let mut held_by: Vec<Option<Holder>> = vec![None; self.sizes.len()];
        for number in 0..self.len() {
            let holder = holder(number);
            for &blob in self.of(number) {
                let slot = &mut held_by[blob as usize];
                *slot = Some(match (*slot, holder) {
                    (Some(Holder::Tagged), _) | (_, Holder::Tagged) => Holder::Tagged,
                    (Some(Holder::Untagged), _) | (_, Holder::Untagged) => Holder::Untagged,
                    _ => Holder::Orphan,
                });
            }
        }
        let trust = self
            .counted
            .iter()
            .copied()
            .fold(self.listing_trust(), Trust::max);
        let mut notes = self.notes();
        // A blob only an uncounted version listed (kept in `sizes` when its other blobs
        // did not add up) is held by no one, and is not in the total either.
        let part = |wanted: Option<Holder>, notes: &mut Vec<Note>| {
            self.sum(
                |blob| held_by[blob].is_some() && wanted.is_none_or(|w| held_by[blob] == Some(w)),
                trust,
                notes,
            )
        };
        let total = part(None, &mut notes);
        let tagged = part(Some(Holder::Tagged), &mut notes);
        let untagged = part(Some(Holder::Untagged), &mut notes);
        let orphaned = part(Some(Holder::Orphan), &mut notes);
        let mut largest: Vec<(u64, Size)> =
            images.map(|(id, tree)| (id, self.size_of(&tree))).collect();
        largest.sort_by_key(|(id, size)| (std::cmp::Reverse(size.counted()), *id));
        largest.truncate(LARGEST_IMAGES);
        Holdings {
            total,
            tagged,
            untagged,
            orphaned,
            largest,
            notes,
        }
    }

    /// The distinct blobs of the versions `numbers`, each once.
    fn size_of(&self, numbers: &[usize]) -> Size {
        let mut blobs: Vec<u32> = numbers
            .iter()
            .flat_map(|&number| self.of(number).iter().copied())
            .collect();
        blobs.sort_unstable();
        blobs.dedup();
        let bytes = blobs.iter().try_fold(0u64, |sum, &blob| {
            sum.checked_add(self.sizes[blob as usize])
        });
        let trust = numbers
            .iter()
            .map(|&number| self.counted[number])
            .fold(Trust::Exact, Trust::max);
        match (bytes.filter(|bytes| *bytes <= MAX_BYTES), trust) {
            (None, _) | (_, Trust::Unknown) => Size::Unknown,
            (Some(bytes), Trust::Partial) => Size::Partial(bytes),
            (Some(bytes), Trust::Exact) => Size::Exact(bytes),
        }
    }

    /// The sizes of the blobs `take` picks (by slot), as far as `trust` says; past
    /// [`MAX_BYTES`] the sum is unknown, and `notes` says so once.
    fn sum(&self, take: impl Fn(usize) -> bool, trust: Trust, notes: &mut Vec<Note>) -> Size {
        if trust == Trust::Unknown {
            return Size::Unknown;
        }
        let bytes = (0..self.sizes.len())
            .filter(|&blob| take(blob))
            .try_fold(0u64, |sum, blob| sum.checked_add(self.sizes[blob]))
            .filter(|bytes| *bytes <= MAX_BYTES);
        match bytes {
            None => {
                if !notes.contains(&Note::PastLimit) {
                    notes.push(Note::PastLimit);
                }
                Size::Unknown
            }
            Some(bytes) if trust == Trust::Exact => Size::Exact(bytes),
            Some(bytes) => Size::Partial(bytes),
        }
    }

    /// How far the listing lets any figure be trusted: not at all when part of it comes
    /// from the state file.
    fn listing_trust(&self) -> Trust {
        match self.from_state {
            Some(_) => Trust::Unknown,
            None => Trust::Exact,
        }
    }

    /// Why figures may be partial or unknown: the versions whose blobs are not counted
    /// (how many, and the first with why), those held by their digest alone, and a listing
    /// partly from the state file.
    fn notes(&self) -> Vec<Note> {
        let uncounted = self
            .first_uncounted
            .as_ref()
            .map(|(number, why)| Note::Uncounted {
                count: self.uncounted,
                id: self.ids[*number],
                why: why.clone(),
            });
        let not_held = (self.not_held > 0).then_some(Note::NotReadHere {
            count: self.not_held,
        });
        let listing = self
            .from_state
            .map(|unconfirmed| Note::ListingFromState { unconfirmed });
        [listing, not_held, uncounted]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// What a cleanup of a package of `package_type` frees and keeps: from `held`, the blobs
/// of its versions when its manifests were read, with `gone` the ids deleted (or that
/// would be). Without them, a container package whose plan selected nothing frees nothing.
pub fn cleanup(package_type: PackageType, held: Option<&Held>, gone: &HashSet<u64>) -> Storage {
    if package_type != PackageType::Container {
        return Storage {
            freed: Size::Unknown,
            kept: Size::Unknown,
            notes: vec![Note::NoSizes(package_type)],
        };
    }
    match held {
        Some(held) => held.cleanup(gone),
        None => Storage {
            freed: if gone.is_empty() {
                Size::Exact(0)
            } else {
                Size::Unknown
            },
            kept: Size::Unknown,
            notes: vec![Note::NotRead],
        },
    }
}

#[cfg(test)]
mod tests;
