//! Listings that span runs (with a `state-file`): list what the primary budget allows,
//! keep the progress, and next time refresh the front (new versions arrive first) before
//! carrying on. A refreshed total that disagrees with what is known (a restore or a delete
//! by someone else) throws the saved listing away and lists from scratch.

use std::collections::HashSet;
use std::time::SystemTime;

use futures_util::StreamExt;

use crate::github::{ApiError, GitHub, Namespace, PER_PAGE};
use crate::model::version::{PackageType, Version, VersionState};
use crate::report::plural;
use crate::state::PackageState;

/// Requests kept back for the next run's refresh: page 1, the last page and one more.
const REFRESH_RESERVE: u32 = 3;

/// What this run's listing reached. The saved versions move here: put them back with
/// [`remember`] once planned, or as they are when the listing is not complete.
#[derive(Debug)]
pub struct Listing {
    /// Every version known, newest first; the whole package when `complete`.
    pub versions: Vec<Version>,
    pub complete: bool,
    pub pages_listed: u32,
    pub pages_total: u32,
    /// How many versions the listing saw.
    pub total: u64,
    /// Set when the saved listing disagreed with the refreshed total, and why.
    pub relisted: Option<String>,
    /// Whether any version came from the state file rather than from this run's reads: a
    /// package is then never deleted whole (see `whole_package`).
    pub from_state: bool,
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
fn listing_budget(github: &GitHub) -> u32 {
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

/// Lists the active versions of a package, carrying on from `saved` and updating it.
pub async fn list(
    github: &GitHub,
    namespace: &Namespace,
    package_type: PackageType,
    name: &str,
    saved: &mut PackageState,
) -> Result<Listing, ApiError> {
    let fetch = |page: u32| async move {
        github
            .list_page(namespace, package_type, name, VersionState::Active, page)
            .await
    };
    let (first, pages) = fetch(1).await?;
    let mut last_page = None;
    let total = if pages > 1 {
        let (last, _) = fetch(pages).await?;
        let total = u64::from(pages - 1) * u64::from(PER_PAGE) + last.len() as u64;
        last_page = Some(last);
        total
    } else {
        first.len() as u64
    };

    let mut relisted = None;
    let mut from_state = false;
    let mut versions = Vec::new();
    if !saved.versions.is_empty() {
        let known: HashSet<u64> = saved.versions.iter().map(|version| version.id).collect();
        let mut new = Vec::new();
        let mut page = first.clone();
        let mut number = 1;
        let reached = loop {
            let before = page.iter().position(|version| known.contains(&version.id));
            new.extend(page.drain(..before.unwrap_or(page.len())));
            if before.is_some() {
                break Some(true);
            }
            if number >= pages {
                break Some(false);
            }
            if listing_budget(github) == 0 {
                break None;
            }
            number += 1;
            page = fetch(number).await?.0;
        };
        let Some(reached) = reached else {
            // The budget ran out before the refresh met a known version: keep what is
            // saved and try again next run.
            return Ok(Listing {
                versions: std::mem::take(&mut saved.versions),
                complete: false,
                pages_listed: saved.pages_listed,
                pages_total: saved.pages_total.max(pages),
                total,
                relisted: None,
                from_state: true,
            });
        };
        let expected = saved.total.saturating_add(new.len() as u64);
        if reached && total == expected {
            from_state = true;
            versions = new;
            // Taken, so that the saved buffer is freed rather than kept empty.
            versions.append(&mut std::mem::take(&mut saved.versions));
        } else {
            relisted = Some(format!(
                "the package has {}, and the state file expected {expected} \
                 ({} known, {} new)",
                plural(usize::try_from(total).unwrap_or(usize::MAX), "version"),
                saved.total,
                new.len()
            ));
        }
    }
    if versions.is_empty() {
        versions = first;
    }
    let mut seen = HashSet::with_capacity(versions.len());
    versions.retain(|version| seen.insert(version.id));

    let next = u32::try_from(versions.len() / PER_PAGE as usize)
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let mut complete = versions.len() as u64 >= total || next > pages;
    if !complete {
        let end = pages.min(next.saturating_add(listing_budget(github).saturating_sub(1)));
        if listing_budget(github) > 0 {
            let mut fetched = futures_util::stream::iter(next..=end)
                .map(|page| {
                    let cached = (page == pages).then(|| last_page.take()).flatten();
                    async move {
                        match cached {
                            Some(versions) => Ok(versions),
                            None => fetch(page).await.map(|(versions, _)| versions),
                        }
                    }
                })
                .buffered(github.pacing().max_concurrency.max(1));
            while let Some(page) = fetched.next().await {
                versions.extend(page?.into_iter().filter(|version| seen.insert(version.id)));
            }
            complete = end >= pages;
        }
    }
    let pages_listed = if complete {
        pages
    } else {
        u32::try_from(versions.len() / PER_PAGE as usize)
            .unwrap_or(u32::MAX)
            .min(pages)
    };
    // The versions move to the plan, or back with an unfinished listing: one copy in memory
    // (a relisting drops the saved ones, buffer and all).
    saved.versions = Vec::new();
    saved.total = total;
    saved.pages_listed = pages_listed;
    saved.pages_total = pages;
    Ok(Listing {
        versions,
        complete,
        pages_listed,
        pages_total: pages,
        total,
        relisted,
        from_state,
    })
}

/// Keeps the versions of this run's plan for the next run, less the ones it deleted, so
/// that the next refresh's total adds up; manifests of versions gone are dropped.
pub fn remember(
    saved: &mut PackageState,
    versions: impl Iterator<Item = Version>,
    deleted: &HashSet<u64>,
) {
    saved.versions = versions
        .filter(|version| !deleted.contains(&version.id))
        .collect();
    // Collected in the plan's buffer, which is twice the size the versions need.
    saved.versions.shrink_to_fit();
    saved.total = saved.total.saturating_sub(deleted.len() as u64);
    let names: HashSet<&str> = saved
        .versions
        .iter()
        .map(|version| version.name.as_str())
        .collect();
    saved
        .manifests
        .retain(|digest, _| names.contains(digest.as_str()));
}
