//! Listings that span runs (with a `state-file`): list what the primary budget allows, keep
//! the progress, and next time read the front again (new versions arrive first) before
//! carrying on. What the state file saved only says where to look: the pages read in each
//! run are merged in ([`Merged`]), and before anything is decided, the pages that hold the
//! versions the run would act on are read again ([`confirm`]). A version no page of this
//! run returned is never acted on.

use std::collections::{BTreeSet, HashSet};
use std::time::SystemTime;

use futures_util::StreamExt;

use super::listing::{Merged, OrderChanged};
use crate::github::{ApiError, GitHub, Namespace, PER_PAGE};
use crate::model::version::{PackageType, Version, VersionState};
use crate::state::PackageState;

/// Requests kept back for the next run's refresh: page 1, the last page and one more.
const REFRESH_RESERVE: u32 = 3;

/// The most room reserved ahead for pages about to be read: their count is the server's.
const MAX_RESERVED: usize = 1_000_000;

/// Rounds of page reads that [`confirm`] makes at most: each one reads the pages the
/// pages read so far point to.
const CONFIRM_ROUNDS: usize = 6;

/// What this run's listing reached. The saved versions move here: put them back with
/// [`remember`] once planned, or as they are when the listing is not complete.
#[derive(Debug)]
pub struct Listing {
    /// Every version known, newest first, and which of them this run read.
    pub merged: Merged,
    pub complete: bool,
    pub pages_listed: u32,
    pub pages_total: u32,
    /// How many versions the listing has, by its last page.
    pub total: u64,
    /// Whether part of the listing comes from the state file: some page of it was not
    /// read in this run. `false` means the whole listing was read in this run.
    pub from_state: bool,
    /// Set when the saved listing could not be used, and why.
    pub relisted: Option<String>,
    /// Set when the state file's records of the package were dropped, and why.
    pub state_warning: Option<String>,
}

/// A listing not finished in this run: the package is left for the next run, with every
/// version not yet decided.
#[derive(Debug)]
pub struct Unfinished {
    pub pages_listed: u32,
    pub pages_total: u32,
    /// Versions not yet decided: all the listing saw, since nothing is planned before the
    /// whole package is known.
    pub undecided: usize,
}

impl std::fmt::Display for Unfinished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "listing {} of {} pages",
            self.pages_listed, self.pages_total
        )
    }
}

impl std::error::Error for Unfinished {}

/// Requests this run may still spend on listing, leaving the reserves.
pub fn listing_budget(github: &GitHub) -> u32 {
    let Some(rate) = github.rate_limit() else {
        return u32::MAX;
    };
    let pacing = github.pacing();
    // A budget that resets within `rate-limit-wait` is waited for by the client itself.
    let resets_soon = rate
        .reset
        .duration_since(SystemTime::now())
        .map(|wait| wait <= pacing.rate_limit_wait)
        .unwrap_or(true);
    if resets_soon {
        return u32::MAX;
    }
    rate.remaining
        .saturating_sub(pacing.budget_reserve.saturating_add(REFRESH_RESERVE))
}

/// Where a package's listing pages come from, and how many more this run may read. Only
/// this crate's runs (on a current-thread runtime) and its tests use it, so its futures
/// need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// Page `number` (from 1), and how many pages the listing has by its links.
    async fn page(&self, number: u32) -> Result<(Vec<Version>, u32), ApiError>;
    /// Requests this run may still spend on listing (see [`listing_budget`]).
    fn budget(&self) -> u32;
    /// Pages read at once.
    fn concurrency(&self) -> usize;
    /// The package's type and name, as the state file keys it.
    fn package(&self) -> (&str, &str);

    /// `pages`, read at most [`Source::concurrency`] at a time, each merged into `merged`
    /// in order as it arrives (so no more than a few pages are held at once).
    async fn merge_pages(&self, pages: Vec<u32>, merged: &mut Merged) -> Result<(), ApiError> {
        let mut fetched = futures_util::stream::iter(pages)
            .map(|number| async move { self.page(number).await.map(|(read, _)| (number, read)) })
            .buffered(self.concurrency().max(1));
        while let Some(page) = fetched.next().await {
            let (number, page) = page?;
            merged.add_page(number, page);
        }
        Ok(())
    }
}

/// One package's pages from the REST API.
pub struct Pages<'a> {
    pub github: &'a GitHub,
    pub namespace: &'a Namespace,
    pub package_type: PackageType,
    pub name: &'a str,
}

impl Source for Pages<'_> {
    async fn page(&self, number: u32) -> Result<(Vec<Version>, u32), ApiError> {
        self.github
            .list_page(
                self.namespace,
                self.package_type,
                self.name,
                VersionState::Active,
                number,
            )
            .await
    }

    fn budget(&self) -> u32 {
        listing_budget(self.github)
    }

    fn concurrency(&self) -> usize {
        self.github.pacing().max_concurrency
    }

    fn package(&self) -> (&str, &str) {
        (self.package_type.as_str(), self.name)
    }
}

/// Lists the active versions of a package, carrying on from `saved` and updating it.
///
/// Page 1 is read, and the pages after it until one holds a saved version (new versions
/// come first); then the last page, for the count; then, when the saved listing did not
/// reach the end, the pages from the one holding its last version on, as far as the budget
/// allows. Everything read is merged into the saved listing.
pub async fn list(pages: &impl Source, saved: &mut PackageState) -> Result<Listing, ApiError> {
    let (first, pages_total) = pages.page(1).await?;
    let (package_type, name) = pages.package();
    let state_warning = saved.load_records(package_type, name, records_cap(pages_total));
    let had_saved = !saved.versions.is_empty();
    let mut complete = had_saved && saved.complete();
    let mut pages_listed = saved.pages_listed;
    let mut merged = Merged::new(std::mem::take(&mut saved.versions), pages_total);
    let mut total = first.len() as u64;
    merged.add_page(1, first);
    let mut relisted = None;
    let mut front = 1;
    while had_saved && !merged.anchored() && front < pages_total && pages.budget() > 0 {
        front += 1;
        let (page, _) = pages.page(front).await?;
        if front == pages_total {
            total = last_total(pages_total, &page);
        }
        merged.add_page(front, page);
    }
    if had_saved && !merged.anchored() {
        if front < pages_total {
            relisted = Some(format!(
                "no saved version was on the first {front} pages, and the budget allows no more"
            ));
        }
        merged.forget_saved();
        complete = false;
        pages_listed = front;
    }
    let mut last = None;
    if pages_total > 1 && !merged.has_read(pages_total) {
        let (page, _) = pages.page(pages_total).await?;
        total = last_total(pages_total, &page);
        last = Some(page);
    }
    if !complete {
        let start = if merged.anchored() {
            let last_saved = merged
                .versions
                .iter()
                .rev()
                .find(|version| !merged.confirmed.contains(&version.id))
                .map(|version| version.id);
            last_saved
                .and_then(|id| merged.page_after(id))
                .unwrap_or(front + 1)
        } else {
            front + 1
        };
        let budget = pages.budget();
        let end = pages_total.min(start.saturating_add(budget.saturating_sub(1)));
        let wanted: Vec<u32> = (start..=end)
            .filter(|page| !merged.has_read(*page) && (*page != pages_total || last.is_none()))
            .collect();
        if budget > 0 {
            let coming = wanted.len().saturating_mul(PER_PAGE as usize);
            merged.versions.reserve_exact(coming.min(MAX_RESERVED));
            pages.merge_pages(wanted, &mut merged).await?;
            complete = end >= pages_total;
            pages_listed = if complete {
                pages_total
            } else {
                end.max(front)
            };
        }
    }
    if complete && let Some(page) = last.take() {
        merged.add_page(pages_total, page);
    }
    if let Err(OrderChanged { page }) = merged.check_order() {
        relisted = Some(format!(
            "page {page} lists versions in another order than the state file saved them"
        ));
        pages_listed = merged.forget_saved();
        complete = merged.wholly_read();
    }
    if !complete {
        pages_listed = pages_listed.min(pages_total.saturating_sub(1));
    }
    saved.total = total;
    saved.pages_listed = if complete { pages_total } else { pages_listed };
    saved.pages_total = pages_total;
    let from_state = !merged.wholly_read();
    Ok(Listing {
        merged,
        complete,
        pages_listed: saved.pages_listed,
        pages_total,
        total,
        from_state,
        relisted,
        state_warning,
    })
}

/// The most records of a package read from the state file, for a listing of `pages`
/// pages today: a quarter more than it holds, and a thousand, for versions deleted since.
fn records_cap(pages: u32) -> usize {
    let today = pages as usize * PER_PAGE as usize;
    today + today / 4 + 1_000
}

/// The listing's count from its last page.
fn last_total(pages_total: u32, last: &[Version]) -> u64 {
    u64::from(pages_total.saturating_sub(1)) * u64::from(PER_PAGE) + last.len() as u64
}

/// Reads the listing pages that hold `ids` (those not read in this run yet), at most
/// `allowance` pages and within the budget, and merges them into `listing`: afterwards
/// every one of `ids` that still exists and was found is in `listing.merged.confirmed`,
/// and one gone is no longer listed. Pages are found from the pages read so far, a few
/// rounds at most (pages move when versions are added or removed). Returns the pages read.
pub async fn confirm(
    pages: &impl Source,
    listing: &mut Listing,
    ids: &[u64],
    allowance: u32,
) -> Result<u32, ConfirmError> {
    let mut spent: u32 = 0;
    for _ in 0..CONFIRM_ROUNDS {
        let wanted: BTreeSet<u32> = listing
            .merged
            .pages_for(ids)
            .into_iter()
            .flatten()
            .collect();
        let room = allowance.saturating_sub(spent).min(pages.budget());
        let take: Vec<u32> = wanted.into_iter().take(room as usize).collect();
        if take.is_empty() {
            break;
        }
        spent = spent.saturating_add(u32::try_from(take.len()).unwrap_or(u32::MAX));
        pages
            .merge_pages(take, &mut listing.merged)
            .await
            .map_err(ConfirmError::Api)?;
    }
    listing.from_state = !listing.merged.wholly_read();
    listing
        .merged
        .check_order()
        .map_err(ConfirmError::OrderChanged)?;
    Ok(spent)
}

/// Why [`confirm`] failed.
#[derive(Debug)]
pub enum ConfirmError {
    Api(ApiError),
    /// A page listed versions in another order than the state file saved them: the saved
    /// listing cannot say where anything is, and the next run lists afresh.
    OrderChanged(OrderChanged),
}

impl std::fmt::Display for ConfirmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfirmError::Api(err) => write!(f, "{err}"),
            ConfirmError::OrderChanged(OrderChanged { page }) => write!(
                f,
                "page {page} lists versions in another order than the state file saved them, so the listing starts again next run"
            ),
        }
    }
}

impl std::error::Error for ConfirmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfirmError::Api(err) => Some(err),
            ConfirmError::OrderChanged(_) => None,
        }
    }
}

/// Keeps the versions of this run's plan for the next run, in the listing's order
/// (`order`, the ids as the listing has them), less the ones it deleted; manifests of
/// versions gone are dropped.
pub fn remember(
    saved: &mut PackageState,
    versions: impl Iterator<Item = Version>,
    order: &[u64],
    deleted: &HashSet<u64>,
) {
    saved.versions = versions
        .filter(|version| !deleted.contains(&version.id))
        .collect();
    in_order(&mut saved.versions, order);
    // Collected in the plan's buffer, which is twice the size the versions need.
    saved.versions.shrink_to_fit();
    saved.total = saved.total.saturating_sub(deleted.len() as u64);
    let names: HashSet<&str> = saved
        .versions
        .iter()
        .map(|version| version.name.as_str())
        .collect();
    saved.manifests.retain(|digest| names.contains(digest));
}

/// Sorts `versions` into `order` (their ids in the listing's order); any not in it last.
pub fn in_order(versions: &mut [Version], order: &[u64]) {
    let mut place: Vec<(u64, usize)> = order
        .iter()
        .enumerate()
        .map(|(index, id)| (*id, index))
        .collect();
    place.sort_unstable();
    let position = |id: u64| {
        place
            .binary_search_by_key(&id, |(id, _)| *id)
            .map_or(usize::MAX, |found| place[found].1)
    };
    versions.sort_by_cached_key(|version| position(version.id));
}
