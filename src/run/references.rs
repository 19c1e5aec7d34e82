//! `keep-referenced` in a run: the workspace is read once, before anything is listed, and
//! what was skipped is said; each package is planned with the references that pin its
//! versions; after planning, each tag or digest a file names that its package does not
//! have is warned about once.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::config::Config;
use crate::model::mode::Mode;
use crate::model::reference::{Reference, Referenced};
use crate::model::version::Version;
use crate::policy::plan::Plan;
use crate::policy::rules::Policy;
use crate::references::read::{self, Limits, Skipped};
use crate::registry;
use crate::report::log::Log;
use crate::report::plural;

/// The references to this owner's packages that the workspace's files hold, read once;
/// `None` without `keep-referenced`, or in an audit (which ignores it). Fails, before
/// anything is changed, when no file matches or none could be read: a workflow that forgot
/// to check out the repository would otherwise keep nothing it deploys.
pub fn read<W: Write>(
    config: &Config,
    workspace: &Path,
    log: &mut Log<W>,
) -> anyhow::Result<Option<Vec<Reference>>> {
    let Some(patterns) = &config.keep_referenced else {
        return Ok(None);
    };
    if config.mode != Mode::Delete {
        return Ok(None);
    }
    let host = registry_host(&config.registry_url);
    let scan =
        read::scan(workspace, patterns, &host, &config.owner, &Limits::RUN).with_context(|| {
            format!(
                "input `keep-referenced`: the workspace {} cannot be read",
                workspace.display()
            )
        })?;
    for skipped in &scan.skipped {
        log.warning(&skipped_line(skipped));
    }
    if let Some(stopped) = &scan.stopped {
        log.summary_warning(&format!(
            "input `keep-referenced`: reading stopped after {}: {stopped}. References in the files not read are not kept: narrow the patterns.",
            plural(scan.files, "file")
        ));
    }
    for (pattern, matched) in patterns.texts().iter().zip(&scan.matched) {
        if *matched == 0 {
            log.warning(&format!(
                "input `keep-referenced`: `{pattern}` matches no file in the workspace"
            ));
        }
    }
    if scan.files == 0 {
        anyhow::bail!(
            "input `keep-referenced`: no file of the workspace {} could be read through `{}`, so no image it deploys could be kept. Check out the repository first (actions/checkout) and check the patterns; nothing was changed.",
            workspace.display(),
            patterns.texts().join(", ")
        );
    }
    log.info(&format!(
        "keep-referenced: {} read ({} KiB), {} to {} images on {host}",
        plural(scan.files, "file"),
        scan.bytes.div_ceil(1024),
        plural(scan.references.len(), "reference"),
        config.owner
    ));
    Ok(Some(scan.references))
}

/// The configuration package `name` is planned with: the run's, its policy pinning what
/// `references` name of the package. `None` without references (the run's is used).
pub fn config_for(config: &Config, references: Option<&[Reference]>, name: &str) -> Option<Config> {
    let references = references?;
    let repository = registry::repository(&config.owner, name);
    let referenced = Referenced::for_repository(references, &repository);
    Some(Config {
        policy: Policy {
            referenced,
            ..config.policy.clone()
        },
        ..config.clone()
    })
}

/// Warn once about every tag or digest a file names on its own that its package's listing
/// does not have: a deployment pointing at nothing.
pub fn warn_missing<'a, W: Write>(
    config: &Config,
    references: Option<&[Reference]>,
    plans: impl Iterator<Item = (&'a str, &'a Plan)>,
    log: &mut Log<W>,
) {
    let Some(references) = references else {
        return;
    };
    let host = registry_host(&config.registry_url);
    for (name, plan) in plans {
        let repository = registry::repository(&config.owner, name);
        let referenced = Referenced::for_repository(references, &repository);
        let versions: Vec<&Version> = plan
            .versions
            .iter()
            .map(|planned| &planned.version)
            .collect();
        for missing in referenced.missing(&versions) {
            let elsewhere = match missing.others {
                0 => String::new(),
                others => format!(" (and {})", plural(others, "other place")),
            };
            log.summary_warning(&format!(
                "input `keep-referenced`: {}{elsewhere} names {host}/{repository}{}, which package `{name}` does not have: a deployment pointing at nothing?",
                missing.place, missing.target
            ));
        }
    }
}

/// The registry's host (and port) as references name it: `https://ghcr.io` → `ghcr.io`.
fn registry_host(registry_url: &str) -> String {
    let without_scheme = registry_url
        .split_once("://")
        .map_or(registry_url, |(_, rest)| rest);
    without_scheme
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The warning for a file or folder that was not read.
fn skipped_line(skipped: &Skipped) -> String {
    let what = match skipped {
        Skipped::TooLarge { file, bytes } => format!(
            "`{file}` is {} KiB, over the {} MiB a file may have: it was not read",
            bytes.div_ceil(1024),
            Limits::RUN.max_file_bytes / (1024 * 1024)
        ),
        Skipped::Binary { file } => format!("`{file}` is a binary file: it was not read"),
        Skipped::Outside { file } => format!(
            "`{file}` is a link that leads outside the workspace (or nowhere): it was not followed"
        ),
        Skipped::Unreadable { file, why } => format!("`{file}` could not be read: {why}"),
        Skipped::TooDeep { folder } => format!(
            "`{folder}` is more than {} folders deep: it was not searched",
            Limits::RUN.max_depth
        ),
    };
    format!("input `keep-referenced`: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_host_keeps_its_port_and_loses_its_scheme() {
        let cases = [
            ("https://ghcr.io", "ghcr.io"),
            (
                "https://Containers.GHES.example.com",
                "containers.ghes.example.com",
            ),
            ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ];
        for (url, host) in cases {
            assert_eq!(registry_host(url), host);
        }
    }
}
