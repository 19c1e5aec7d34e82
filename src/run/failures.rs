//! How a failed read is told: the advice a failed listing gets, and the reason a spent
//! rate limit gives (which leaves the rest for the next run rather than failing it).

use crate::config::Config;
use crate::github::{ApiError, ApiErrorKind, ListingSize, Namespace};
use crate::model::mode::Mode;
use crate::report::{plural, timestamp};

use super::execute;

/// When `err` is the primary budget running out, the reason to report, with the reset;
/// for a package too large to list within one run's budget, what lets it finish.
pub fn rate_limited(err: &anyhow::Error) -> Option<String> {
    let api = api_error(err)?;
    if api.kind == ApiErrorKind::AskedToWait {
        return Some(execute::asked_to_wait(api));
    }
    if api.kind != ApiErrorKind::RateLimited {
        return None;
    }
    let mut reason = match api.reset {
        Some(reset) => format!(
            "GitHub's primary rate limit is spent ({}); it resets at {}",
            api.message,
            timestamp(reset)
        ),
        None => format!("GitHub's primary rate limit is spent ({})", api.message),
    };
    if let Some(size) = api.listing.filter(|size| size.beyond_one_budget) {
        reason.push_str(&too_large(size));
    }
    Some(reason)
}

/// Versions a listing stopped for the budget leaves undecided, as its first page tells.
pub fn unlisted(err: &anyhow::Error) -> Option<usize> {
    let size = api_error(err)?.listing?;
    Some(usize::try_from(size.versions_at_least).unwrap_or(usize::MAX))
}

/// Said of a package that no run can list within its budget without `state-file`.
fn too_large(size: ListingSize) -> String {
    format!(
        ". This package cannot be listed within one run's budget: it has at least {} ({} of listing), more than the {} requests of the primary rate limit, so without `state-file` no run ever lists it whole. Set `state-file`, with the cache restore step before this one and the cache save step after it (see docs/large-packages-and-state-files.md), so that the listing carries on across runs",
        plural(
            usize::try_from(size.versions_at_least).unwrap_or(usize::MAX),
            "version"
        ),
        plural(usize::try_from(size.pages).unwrap_or(usize::MAX), "page"),
        size.limit
    )
}

fn api_error(err: &anyhow::Error) -> Option<&ApiError> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<ApiError>())
}

/// A failed listing of package `name`, with what to check.
pub fn listing_failed(
    err: ApiError,
    config: &Config,
    namespace: &Namespace,
    name: &str,
) -> anyhow::Error {
    let advice = match err.kind {
        ApiErrorKind::NotFound => format!(
            "package `{name}` ({}) was not found under {}, or the token cannot see it. Check `owner`, `package-type` and the name. A GITHUB_TOKEN needs `permissions: packages: write` and the repository needs access to the package (package settings → Manage Actions access); a classic PAT needs read:packages (delete:packages to delete, write:packages to restore).{}",
            config.package_type,
            namespace.prefix(),
            restore_hint(config)
        ),
        ApiErrorKind::Forbidden => format!(
            "the token may not read package `{name}`: give the workflow `permissions: packages: write` and the repository access to the package, or use a classic PAT with read:packages"
        ),
        ApiErrorKind::Unauthorized => {
            "input `token` was rejected by GitHub: check that the secret is set and not expired"
                .to_string()
        }
        _ => format!("listing the versions of package `{name}` failed"),
    };
    anyhow::Error::new(err).context(advice)
}

/// In restore mode a package whose listing answers 404 is restored if it was deleted, so a
/// listing that still answers 404 may be one of several deleted packages of that name.
fn restore_hint(config: &Config) -> &'static str {
    match (config.mode, config.dry_run) {
        (Mode::Delete | Mode::Audit, _) => "",
        (Mode::Restore, true) => {
            " If the package itself was deleted, a run without `dry-run` restores it first."
        }
        (Mode::Restore, false) => {
            " A package named exactly is restored first if it was deleted, and GitHub found no deleted package of that name to restore either; if several deleted packages share the name, set `package-restore-token` to pick one."
        }
    }
}
