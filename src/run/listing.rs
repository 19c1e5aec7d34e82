//! A package's listing across runs, pure: the versions the state file saved with the
//! listing pages this run read merged in, which versions this run read itself, and on which
//! page to look for a version.
//!
//! The saved versions only say where to look and what was seen before: a page read in this
//! run replaces what was saved for the stretch of the listing it covers (new tags and dates,
//! versions gone, versions never seen), and only what a page said counts as read here
//! ([`Merged::confirmed`]). GitHub lists versions newest first and a version keeps its
//! place when its tags change, so the saved order places each page: the versions a page
//! shares with the saved listing anchor it, and saved versions a page (or two adjacent
//! pages) passes over are gone.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::github::PER_PAGE;
use crate::model::version::Version;

/// What this run knows of a package's listing.
#[derive(Debug, Default)]
pub struct Merged {
    /// Every version known, in the listing's order (newest first): the saved ones with every
    /// page read in this run merged in.
    pub versions: Vec<Version>,
    /// The ids a listing page returned in this run.
    pub confirmed: HashSet<u64>,
    /// Every page read in this run, with its ids in the page's order (a version already
    /// read on another page in this run is left out: pages shift while they are read).
    read: BTreeMap<u32, Vec<u64>>,
    /// How many pages the listing has.
    pub pages_total: u32,
    /// Whether a page read in this run held a saved version.
    anchored: bool,
    /// The first page found listing versions in another order than the saved listing.
    order_changed: Option<OrderChanged>,
    /// Whether the state file saved any version: without, a page shares nothing with the
    /// listing but what this run read (left out), and placing it needs no search.
    had_saved: bool,
}

/// A page listed versions in another order than the saved listing has them, so the saved
/// order cannot say where anything is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChanged {
    pub page: u32,
}

impl Merged {
    /// What the state file saved, in the listing's order, for a listing of `pages_total` pages.
    pub fn new(saved: Vec<Version>, pages_total: u32) -> Merged {
        Merged {
            had_saved: !saved.is_empty(),
            versions: saved,
            pages_total,
            ..Merged::default()
        }
    }

    /// Whether a page read in this run held a version the state file saved.
    pub fn anchored(&self) -> bool {
        self.anchored
    }

    /// Whether page `number` was read in this run.
    pub fn has_read(&self, number: u32) -> bool {
        self.read.contains_key(&number)
    }

    /// Pages read in this run.
    pub fn pages_read(&self) -> usize {
        self.read.len()
    }

    /// Whether every page of the listing was read in this run: then nothing of it comes
    /// from the state file.
    pub fn wholly_read(&self) -> bool {
        (1..=self.pages_total).all(|page| self.read.contains_key(&page))
    }

    /// Merge page `number` as this run read it. The saved versions between the first and
    /// the last version the page shares with them are replaced by the page (so the ones it
    /// passes over are gone); page 1 also replaces everything before it, the last page
    /// everything after it. A page sharing nothing goes right after the page before it,
    /// when that was read, or where the pages read so far say it is.
    pub fn add_page(&mut self, number: u32, mut page: Vec<Version>) {
        page.retain(|version| !self.confirmed.contains(&version.id));
        let ids: Vec<u64> = page.iter().map(|version| version.id).collect();
        let at = if self.had_saved {
            self.positions(ids.iter().copied())
        } else {
            HashMap::new()
        };
        let shared: Vec<usize> = ids.iter().filter_map(|id| at.get(id).copied()).collect();
        let len = self.versions.len();
        let last_page = number >= self.pages_total;
        if shared.windows(2).any(|pair| pair[1] <= pair[0]) {
            // Not the saved order: nothing can be placed by it. Kept without dropping
            // anything, for a listing that starts again ([`Merged::forget_saved`]).
            self.order_changed
                .get_or_insert(OrderChanged { page: number });
            self.versions
                .retain(|version| !at.contains_key(&version.id));
            self.confirmed.extend(ids.iter().copied());
            self.versions.extend(page);
            self.read.insert(number, ids);
            return;
        }
        let (start, end) = match (shared.first(), shared.last()) {
            (Some(&first), Some(&last)) => {
                self.anchored = true;
                (
                    if number == 1 { 0 } else { first },
                    if last_page { len } else { last + 1 },
                )
            }
            _ => match (number == 1, last_page) {
                (true, true) => (0, len),
                (true, false) => (0, 0),
                (false, true) => (len, len),
                (false, false) => {
                    let at = self.place(number);
                    (at, at)
                }
            },
        };
        self.confirmed.extend(ids.iter().copied());
        let placed = page.len();
        self.versions.splice(start..end, page);
        self.read.insert(number, ids);
        let start = self.drop_before(number, start);
        self.drop_after(number, start + placed);
    }

    /// Checks that every page read lists its versions in the order the merged listing has
    /// them: if not, the saved order was not the listing's, and it placed pages wrongly.
    pub fn check_order(&self) -> Result<(), OrderChanged> {
        if let Some(changed) = &self.order_changed {
            return Err(changed.clone());
        }
        let at = self.positions(self.confirmed.iter().copied());
        let mut previous = None;
        for (&page, ids) in &self.read {
            for id in ids {
                let Some(&position) = at.get(id) else {
                    continue;
                };
                if previous.is_some_and(|before| position <= before) {
                    return Err(OrderChanged { page });
                }
                previous = Some(position);
            }
        }
        Ok(())
    }

    /// Keeps only the pages read in this run from page 1 on without a gap, in their order,
    /// for a listing that starts again: returns how many pages that is.
    pub fn forget_saved(&mut self) -> u32 {
        let mut kept = 0;
        while self.read.contains_key(&(kept + 1)) {
            kept += 1;
        }
        self.read.retain(|page, _| *page <= kept);
        let place: HashMap<u64, (u32, usize)> = self
            .read
            .iter()
            .flat_map(|(page, ids)| {
                ids.iter()
                    .enumerate()
                    .map(move |(index, id)| (*id, (*page, index)))
            })
            .collect();
        self.versions
            .retain(|version| place.contains_key(&version.id));
        self.versions
            .sort_by_key(|version| place.get(&version.id).copied());
        self.confirmed = place.into_keys().collect();
        self.order_changed = None;
        self.anchored = false;
        kept
    }

    /// The ids of `ids`, in order, whose confirmation the `allowance` covers: one request
    /// for each version (the act on it) and one for each page to read first, with the pages
    /// of `first` read before any (versions the decision of the others rests on).
    pub fn batch(&self, first: &[u64], ids: &[u64], allowance: u32) -> Vec<u64> {
        let allowance = u64::from(allowance);
        let mut pages: HashSet<u32> = self.pages_for(first).into_iter().flatten().collect();
        let mut taken = Vec::new();
        for (id, page) in ids.iter().zip(self.pages_for(ids)) {
            let new_page = page.is_some_and(|page| !pages.contains(&page));
            let cost = taken.len() as u64 + 1 + pages.len() as u64 + u64::from(new_page);
            if cost > allowance {
                break;
            }
            pages.extend(page);
            taken.push(*id);
        }
        taken
    }

    /// For each of `ids`, the page to read to confirm it: `None` when it is read already,
    /// or not in the listing (gone, or never known). A guess from the pages read so far:
    /// the nearest one says how far the listing moved since it was saved.
    pub fn pages_for(&self, ids: &[u64]) -> Vec<Option<u32>> {
        let wanted: HashSet<u64> = ids
            .iter()
            .copied()
            .filter(|id| !self.confirmed.contains(id))
            .collect();
        let at = self.positions(wanted.iter().copied());
        let anchors = self.anchors();
        ids.iter()
            .map(|id| {
                let &index = at.get(id)?;
                self.page_at(index, &anchors)
            })
            .collect()
    }

    /// The page holding whatever the listing has right after version `id` (a saved one,
    /// not read in this run): where a listing that stopped there carries on.
    pub fn page_after(&self, id: u64) -> Option<u32> {
        let index = self.versions.iter().position(|version| version.id == id)?;
        self.page_at(index + 1, &self.anchors())
    }

    /// The page the version at `index` is on, by the nearest page read, stepping past pages
    /// already read toward it.
    fn page_at(&self, index: usize, anchors: &BTreeMap<usize, u32>) -> Option<u32> {
        let per_page = PER_PAGE as usize;
        let guess = match nearest(anchors, index) {
            Some((start, page)) => {
                let offset = (page as usize - 1) * per_page;
                (index + offset).saturating_sub(start) / per_page + 1
            }
            None => index / per_page + 1,
        };
        let mut page = u32::try_from(guess)
            .unwrap_or(u32::MAX)
            .clamp(1, self.pages_total.max(1));
        let mut steps = 0;
        while self.read.contains_key(&page) {
            let start = anchors
                .iter()
                .find(|(_, read)| **read == page)
                .map(|(start, _)| *start);
            page = match start {
                Some(start) if index < start => page.checked_sub(1).filter(|p| *p >= 1)?,
                _ => page.checked_add(1).filter(|p| *p <= self.pages_total)?,
            };
            steps += 1;
            if steps > self.read.len() {
                return None;
            }
        }
        Some(page)
    }

    /// The merged index of each read page's first version, with the page.
    fn anchors(&self) -> BTreeMap<usize, u32> {
        let firsts: HashMap<u64, u32> = self
            .read
            .iter()
            .filter_map(|(page, ids)| Some((*ids.first()?, *page)))
            .collect();
        self.versions
            .iter()
            .enumerate()
            .filter_map(|(index, version)| Some((index, *firsts.get(&version.id)?)))
            .collect()
    }

    /// Where a page that shares no version with the listing goes: after the page before it
    /// when that was read, else before the page after it, else where the nearest page read
    /// says.
    fn place(&self, number: u32) -> usize {
        let len = self.versions.len();
        let before = self.read.get(&(number - 1)).and_then(|ids| ids.last());
        if let Some(at) = before.and_then(|id| self.position_near(*id, len.saturating_sub(1))) {
            return at + 1;
        }
        let after = self.read.get(&(number + 1)).and_then(|ids| ids.first());
        if let Some(at) = after.and_then(|id| self.position_near(*id, 0)) {
            return at;
        }
        let per_page = PER_PAGE as usize;
        let wanted = (number as usize - 1) * per_page;
        let guess = match nearest_page(&self.anchors(), number) {
            Some((start, page)) => (start + wanted).saturating_sub((page as usize - 1) * per_page),
            None => wanted,
        };
        guess.min(len)
    }

    /// Removes the saved versions between page `number`, merged at `start`, and the page
    /// before it, when that was read: the listing holds nothing there any more. Returns
    /// where page `number` starts now.
    fn drop_before(&mut self, number: u32, start: usize) -> usize {
        let Some(&last) = number
            .checked_sub(1)
            .and_then(|before| self.read.get(&before))
            .and_then(|ids| ids.last())
        else {
            return start;
        };
        match self.position_near(last, start.saturating_sub(1)) {
            Some(end) if end + 1 < start => {
                self.versions.drain(end + 1..start);
                end + 1
            }
            _ => start,
        }
    }

    /// Removes the saved versions between page `number`, which ends before `end`, and the
    /// page after it, when that was read.
    fn drop_after(&mut self, number: u32, end: usize) {
        let Some(&first) = self.read.get(&(number + 1)).and_then(|ids| ids.first()) else {
            return;
        };
        if let Some(next) = self.position_near(first, end)
            && next > end
        {
            self.versions.drain(end..next);
        }
    }

    /// The index of version `id`, looked for at `hint` first (where it usually is).
    fn position_near(&self, id: u64, hint: usize) -> Option<usize> {
        if self
            .versions
            .get(hint)
            .is_some_and(|version| version.id == id)
        {
            return Some(hint);
        }
        self.versions.iter().position(|version| version.id == id)
    }

    /// The merged index of each of `ids` found, in one pass.
    fn positions(&self, ids: impl Iterator<Item = u64>) -> HashMap<u64, usize> {
        let wanted: HashSet<u64> = ids.collect();
        self.versions
            .iter()
            .enumerate()
            .filter(|(_, version)| wanted.contains(&version.id))
            .map(|(index, version)| (version.id, index))
            .collect()
    }
}

/// The anchor (merged index, page) nearest to `index`.
fn nearest(anchors: &BTreeMap<usize, u32>, index: usize) -> Option<(usize, u32)> {
    let below = anchors.range(..=index).next_back();
    let above = anchors.range(index..).next();
    match (below, above) {
        (Some(b), Some(a)) if a.0 - index < index - b.0 => Some((*a.0, *a.1)),
        (Some(b), _) => Some((*b.0, *b.1)),
        (None, Some(a)) => Some((*a.0, *a.1)),
        (None, None) => None,
    }
}

/// The anchor whose page is nearest to `page`.
fn nearest_page(anchors: &BTreeMap<usize, u32>, page: u32) -> Option<(usize, u32)> {
    anchors
        .iter()
        .min_by_key(|(_, read)| read.abs_diff(page))
        .map(|(start, read)| (*start, *read))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn version(id: u64, tags: &[&str]) -> Version {
        crate::testing::image_at(id, tags, UNIX_EPOCH + Duration::from_secs(id))
    }

    /// Ids `from` down to `to` (the listing is newest first: higher ids first).
    fn ids(from: u64, to: u64) -> Vec<u64> {
        (to..=from).rev().collect()
    }

    fn versions(ids: &[u64]) -> Vec<Version> {
        ids.iter().map(|id| version(*id, &[])).collect()
    }

    /// A listing of `ids` cut into pages of 100: the page `number` of it.
    fn page(ids: &[u64], number: u32) -> Vec<Version> {
        let start = (number as usize - 1) * 100;
        versions(&ids[start.min(ids.len())..(start + 100).min(ids.len())])
    }

    fn pages(ids: &[u64]) -> u32 {
        ids.len().div_ceil(100) as u32
    }

    fn listed(merged: &Merged) -> Vec<u64> {
        merged.versions.iter().map(|version| version.id).collect()
    }

    #[test]
    fn pages_of_an_unchanged_listing_confirm_what_they_hold_and_change_nothing_else() {
        let today = ids(1_000, 1);
        let mut merged = Merged::new(versions(&today), pages(&today));
        for number in [1, 10, 4] {
            merged.add_page(number, page(&today, number));
        }
        merged.check_order().expect("same order");
        assert_eq!(listed(&merged), today);
        assert_eq!(merged.confirmed.len(), 300);
        assert!(merged.confirmed.contains(&1_000) && merged.confirmed.contains(&1));
        assert!(!merged.confirmed.contains(&500));
        assert!(!merged.wholly_read());
    }

    #[test]
    fn a_page_brings_new_tags_new_versions_and_drops_versions_gone() {
        // Saved: 300..1. Since then: 305..301 pushed, 150 deleted, 155 retagged, 120
        // restored (never saved), 10 deleted.
        let saved = ids(300, 1);
        let mut today: Vec<u64> = ids(305, 1);
        today.retain(|id| *id != 150 && *id != 10);
        let mut merged = Merged::new(
            versions(&saved)
                .into_iter()
                .filter(|version| version.id != 120)
                .collect(),
            pages(&today),
        );
        for number in 1..=pages(&today) {
            let mut fresh = page(&today, number);
            for version in &mut fresh {
                if version.id == 155 {
                    version.tags = vec!["v2.0".to_string()];
                }
            }
            merged.add_page(number, fresh);
        }
        merged.check_order().expect("same order");
        assert_eq!(listed(&merged), today);
        let promoted = merged.versions.iter().find(|version| version.id == 155);
        assert_eq!(
            promoted.map(|version| version.tags.clone()),
            Some(vec!["v2.0".to_string()])
        );
        assert!(merged.wholly_read());
    }

    #[test]
    fn versions_gone_between_two_adjacent_pages_read_separately_are_dropped() {
        let saved = ids(400, 1);
        // 201..=203 are gone: they sat at the end of page 2 in the saved listing.
        let today: Vec<u64> = saved
            .iter()
            .copied()
            .filter(|id| !(201..=203).contains(id))
            .collect();
        let mut merged = Merged::new(versions(&saved), pages(&today));
        merged.add_page(3, page(&today, 3));
        merged.add_page(2, page(&today, 2));
        assert!(
            !listed(&merged).contains(&202),
            "{:?}",
            &listed(&merged)[190..210]
        );
        merged.check_order().expect("same order");
    }

    #[test]
    fn pages_that_moved_are_found_from_the_pages_read_so_far() {
        // 250 versions pushed since the saved listing of 1,000: everything moved 2.5 pages.
        let saved = ids(1_000, 1);
        let today = ids(1_250, 1);
        let mut merged = Merged::new(versions(&saved), pages(&today));
        for number in 1..=3 {
            merged.add_page(number, page(&today, number));
        }
        merged.add_page(pages(&today), page(&today, pages(&today)));
        // Version 150 is at index 1,100 today: page 12.
        assert_eq!(
            merged.pages_for(&[150, 1_240, 5]),
            vec![Some(12), None, None]
        );
        merged.add_page(12, page(&today, 12));
        assert_eq!(merged.pages_for(&[150]), vec![None]);
        assert!(merged.confirmed.contains(&150));
    }

    #[test]
    fn a_page_guessed_wrongly_leads_to_the_next_one_toward_the_version() {
        // 50 saved versions in the middle are gone, so the versions past them moved up.
        let saved = ids(1_000, 1);
        let today: Vec<u64> = saved
            .iter()
            .copied()
            .filter(|id| !(300..350).contains(id))
            .collect();
        let mut merged = Merged::new(versions(&saved), pages(&today));
        merged.add_page(1, page(&today, 1));
        // Version 80 was at index 920 (page 10); today it is at 870 (page 9).
        let guess = merged.pages_for(&[80])[0].expect("a page");
        assert_eq!(guess, 10);
        merged.add_page(guess, page(&today, guess));
        let next = merged.pages_for(&[80])[0].expect("another page");
        assert_eq!(next, 9);
        merged.add_page(next, page(&today, next));
        assert!(merged.confirmed.contains(&80));
        merged.check_order().expect("same order");
    }

    #[test]
    fn a_saved_version_a_page_passes_over_is_gone_and_needs_no_page() {
        let saved = ids(300, 1);
        let today: Vec<u64> = saved.iter().copied().filter(|id| *id != 150).collect();
        let mut merged = Merged::new(versions(&saved), pages(&today));
        merged.add_page(2, page(&today, 2));
        assert!(!listed(&merged).contains(&150));
        assert_eq!(merged.pages_for(&[150]), vec![None]);
    }

    #[test]
    fn a_listing_in_another_order_is_caught() {
        let saved = ids(300, 1);
        let mut today = saved.clone();
        today.swap(110, 250);
        let mut merged = Merged::new(versions(&saved), pages(&today));
        merged.add_page(2, page(&today, 2));
        merged.add_page(3, page(&today, 3));
        assert!(merged.check_order().is_err());
        assert_eq!(merged.forget_saved(), 0, "page 1 was not read");
        assert!(merged.versions.is_empty());
        assert!(merged.check_order().is_ok());
    }

    #[test]
    fn a_listing_that_starts_again_keeps_the_pages_read_from_page_1_in_their_order() {
        let saved = ids(500, 1);
        let mut today = saved.clone();
        today.swap(10, 150);
        let mut merged = Merged::new(versions(&saved), pages(&today));
        for number in [1, 2, 4] {
            merged.add_page(number, page(&today, number));
        }
        assert!(merged.check_order().is_err());
        assert_eq!(merged.forget_saved(), 2);
        assert_eq!(listed(&merged), today[..200].to_vec());
        assert_eq!(merged.confirmed.len(), 200);
    }

    #[test]
    fn a_batch_is_what_the_allowance_covers_pages_included() {
        let saved = ids(1_000, 1);
        let mut merged = Merged::new(versions(&saved), 10);
        merged.add_page(1, page(&saved, 1));
        merged.add_page(10, page(&saved, 10));
        // Oldest first: 1..=100 are on page 10 (read), 101..=200 on page 9 (not read).
        let order: Vec<u64> = (1..=300).collect();
        assert_eq!(
            merged.batch(&[], &order, 150).len(),
            149,
            "100 + 49, and page 9"
        );
        assert_eq!(merged.batch(&[], &order, 100).len(), 100);
        assert_eq!(merged.batch(&[], &order, 0).len(), 0);
        assert_eq!(
            merged.batch(&[500], &order, 100).len(),
            99,
            "page 6 for version 500 first"
        );
        assert_eq!(merged.batch(&[], &order, u32::MAX).len(), 300);
    }

    #[test]
    fn a_fresh_listing_is_built_page_by_page_in_order() {
        let today = ids(250, 1);
        let mut merged = Merged::new(Vec::new(), pages(&today));
        merged.add_page(1, page(&today, 1));
        merged.add_page(3, page(&today, 3));
        merged.add_page(2, page(&today, 2));
        merged.check_order().expect("in order");
        assert_eq!(listed(&merged), today);
        assert!(merged.wholly_read());
        assert!(!merged.anchored());
    }

    #[test]
    fn a_version_read_twice_as_pages_shift_is_kept_once() {
        let today = ids(200, 1);
        let mut merged = Merged::new(versions(&today), 2);
        merged.add_page(1, page(&today, 1));
        // Page 2 read after one version was pushed: it repeats the last of page 1.
        merged.add_page(2, versions(&ids(101, 1)));
        assert_eq!(listed(&merged), today);
        merged.check_order().expect("in order");
    }
}
