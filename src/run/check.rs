//! The checks before the first change, on every package's plan at once: `max-versions` and
//! `max-percent` (over either, nothing is changed), the token's scopes (a real run stops before its first
//! change when the mode's scope is missing), the primary budget (said up front when it
//! cannot cover every selected version), whether the token may push when `untag` or
//! `restore-tags` will (see [`untag::check_push`]), and the packages `delete-empty-packages`
//! may delete whole.

use std::collections::HashSet;
use std::time::SystemTime;

use crate::config::Config;
use crate::github::GitHub;
use crate::github::ratelimit::Cover;
use crate::report::log::Log;
use crate::report::{Refusal, plural, timestamp};

use super::discover::wildcard_matches;
use super::package::{PackageRun, Scope};
use super::scopes;
use super::share_cap;
use super::untag;
use super::whole_package::{self, Candidate};

/// What acting must respect, decided before it starts.
pub struct Checked {
    /// Why nothing may be changed (`max-versions` or `max-percent` exceeded): every
    /// selected version is then reported as skipped.
    pub refusal: Option<Refusal>,
    /// The packages `delete-empty-packages` may delete with one request.
    pub deletable: HashSet<String>,
    /// In a dry run, why the token may not push the tags `untag` or `restore-tags` would
    /// change: each is then reported failed with it (a real run stops instead).
    pub push_refusal: Option<String>,
}

/// Check the plans before the first change. `Err` when the token lacks the scope a real
/// run needs, or may not push what a real run would push: nothing was changed.
pub async fn before_acting<W: std::io::Write>(
    scope: &Scope<'_>,
    packages: &[PackageRun],
    log: &mut Log<W>,
) -> anyhow::Result<Checked> {
    let (github, config) = (scope.github, scope.config);
    // An image that only loses tags is affected too.
    let selected: usize = packages
        .iter()
        .filter_map(|package| package.plan.as_ref().ok())
        .map(|plan| plan.selected().count())
        .sum::<usize>()
        + untag::images_affected(config, packages);
    let refusal = config
        .max_versions
        .filter(|max| selected > *max)
        .map(|max| Refusal {
            input: "max-versions",
            message: format!(
                "{} would be affected, more than max-versions ({max}): nothing was changed. Narrow the filters or raise max-versions.",
                plural(selected, "version")
            ),
        })
        .or_else(|| {
            let planned = packages.iter().filter_map(|package| {
                Some((package.name.as_str(), package.plan.as_ref().ok()?))
            });
            share_cap::refusal(config.max_percent, planned)
        });
    if refusal.is_none() && selected > 0 {
        check_scopes(github, config, log)?;
    }
    let push_refusal = match refusal {
        None => untag::check_push(scope, packages, log).await?,
        Some(_) => None,
    };
    if refusal.is_none() && !config.dry_run {
        announce_budget(github, selected, log);
    }
    let deletable = whole_package::deletable(
        config,
        packages.iter().map(|package| Candidate {
            name: &package.name,
            // Applying a reviewed plan, only a package it planned whole, unchanged since.
            full: match &package.reviewed {
                Some(reviewed) => reviewed.whole,
                None => package
                    .plan
                    .as_ref()
                    .is_ok_and(whole_package::fully_selected),
            },
            from_state: package.from_state,
        }),
        wildcard_matches,
        log,
    );
    Ok(Checked {
        refusal,
        deletable,
        push_refusal,
    })
}

/// With a classic PAT, stop a real run before its first change when the token lacks the
/// scope the mode needs (a dry run warns); warn when a repository-scoped registry's token
/// lacks `repo`.
fn check_scopes<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let Some(held) = github.scopes() else {
        return Ok(());
    };
    let Some(lacking) = scopes::lacking(&held, config.mode, config.package_type) else {
        return Ok(());
    };
    if lacking.repo {
        log.warning(&format!(
            "input `token`: this classic PAT lacks the `repo` scope, which {} packages need to be {}: GitHub may refuse each one",
            config.package_type,
            config.mode.past_tense()
        ));
    }
    let Some(needed) = lacking.needed else {
        return Ok(());
    };
    let problem = format!(
        "input `token`: this classic PAT lacks the `{needed}` scope, which `mode: {}` needs (its scopes: {}). Add `{needed}` to the token",
        config.mode.as_str(),
        if held.is_empty() {
            "none".to_owned()
        } else {
            held.join(", ")
        }
    );
    if config.dry_run {
        log.warning(&format!(
            "{problem}: the real run would stop before its first change."
        ));
        Ok(())
    } else {
        anyhow::bail!("{problem}; nothing was changed.")
    }
}

/// Say up front when the primary budget cannot cover every selected version.
fn announce_budget<W: std::io::Write>(github: &GitHub, selected: usize, log: &mut Log<W>) {
    let Some(rate) = github.rate_limit() else {
        return;
    };
    let covered = rate.covers(selected as u64, github.pacing(), SystemTime::now());
    if let Cover::Short { usable } = covered {
        log.info(&format!(
            "the primary rate limit allows {usable} of the {selected} selected versions before it resets at {}: the oldest go first, the rest are left for the next run",
            timestamp(rate.reset)
        ));
    }
}
