//! The plan file at the run's edge (`plan-file`). A dry run writes its plan there, and the
//! plan's Markdown beside it as `<plan-file>.md`, inside the workspace only. A run that is
//! not a dry run reads it back (bounded, strictly, as the outside data it is once it has
//! travelled as an artifact) and refuses the whole plan, before any request, when it is
//! not a plan for this run: expired, or made for another owner, API host, registry,
//! package type, set of packages, or policy.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};

use super::environment::Environment;
use crate::config::{Config, PackageSelector};
use crate::model::mode::Mode;
use crate::model::outcome::Outcome;
use crate::model::plan_file::{
    Kept, KeptRow, MAX_FILE_BYTES, MAX_KEPT_ROWS, PlanEntry, PlanFile, PlannedPackage, Scope,
};
use crate::model::version::Version;
use crate::report::log::Log;
use crate::report::plan;
use crate::report::plan_note::{Comparison, PlanNote, Written};
use crate::report::sanitize::Sanitizer;
use crate::report::{PackageReport, RunReport, timestamp};
use crate::workspace_file;

/// How far in the future a plan's making may lie, for runners whose clocks differ a little.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// A plan read back and checked against this run.
#[derive(Debug)]
pub struct Loaded {
    pub plan: PlanFile,
    /// The `plan-file` input, for messages.
    pub path: String,
}

/// For a run that is not a dry run and has `plan-file`: the plan, read and checked. An
/// error, before any request, when there is no plan there, it is not a plan, or it is not
/// a plan for this run.
pub fn load(config: &Config, env: &Environment) -> anyhow::Result<Option<Loaded>> {
    let Some(path) = config
        .plan_file
        .as_deref()
        .filter(|_| !config.dry_run && config.mode == Mode::Delete)
    else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let bytes =
        workspace_file::read_inside(path, &env.workspace, MAX_FILE_BYTES).with_context(|| {
            format!("input `plan-file`: the plan {shown} cannot be read; nothing was changed")
        })?;
    let Some(bytes) = bytes else {
        bail!(
            "input `plan-file`: there is no plan at {shown}. Make the plan first: a dry run (`dry-run: true`) with this `plan-file` writes it; a run without `dry-run` then applies it. Nothing was changed."
        );
    };
    let plan = PlanFile::from_json(&bytes).map_err(|err| {
        anyhow!(
            "input `plan-file`: {shown} cannot be applied: {err}. Make the plan again with a dry run; nothing was changed."
        )
    })?;
    if let Some(why) = refusal(&plan, config, env.now) {
        bail!(
            "input `plan-file`: the plan {shown} {why}. The whole plan is refused: nothing was changed."
        );
    }
    Ok(Some(Loaded { plan, path: shown }))
}

/// Why `plan` is not a plan this run may apply at `now`, if it is not.
fn refusal(plan: &PlanFile, config: &Config, now: SystemTime) -> Option<String> {
    if now > plan.expires_at {
        return Some(format!(
            "expired at {} (it was made at {}; `plan-expires` sets how long a plan lasts). Make a new plan with a dry run and have it reviewed again",
            timestamp(plan.expires_at),
            timestamp(plan.made_at)
        ));
    }
    if plan.made_at > now + CLOCK_SKEW {
        return Some(format!(
            "was made at {}, later than now by this runner's clock. Make a new plan",
            timestamp(plan.made_at)
        ));
    }
    if !plan.owner.eq_ignore_ascii_case(&config.owner) {
        return Some(format!(
            "was made for owner `{}`, and this run is for `{}`. Apply it with the `owner` it was made for",
            plan.owner, config.owner
        ));
    }
    if plan.api_url != config.api_url {
        return Some(format!(
            "was made against the API at {}, and this run talks to {}",
            plan.api_url, config.api_url
        ));
    }
    if plan.package_type != config.package_type {
        return Some(format!(
            "is for {} packages, and this run is for {} packages",
            plan.package_type, config.package_type
        ));
    }
    if plan.package_type.has_tags() && plan.registry_url != config.registry_url {
        return Some(format!(
            "read its manifests from {}, and this run reads them from {} (`registry-url`)",
            plan.registry_url, config.registry_url
        ));
    }
    let (planned, asked) = (
        sorted(&plan.packages_input),
        sorted(&packages_input(config)),
    );
    if planned != asked {
        return Some(format!(
            "was made for the packages `{}`, and this run is for `{}`. Apply it with the `packages` it was made for",
            planned.join(", "),
            asked.join(", ")
        ));
    }
    let inputs = config.policy_inputs();
    if plan.policy != inputs {
        return Some(format!(
            "was made with other policy inputs (fingerprint {}, and this run's is {}): {} differ. Apply it with the inputs it was made with, or make a new plan",
            plan.fingerprint(),
            inputs.fingerprint(),
            plan.policy.differing(&inputs).join(", ")
        ));
    }
    None
}

/// The `packages` input, each name or pattern as given.
fn packages_input(config: &Config) -> Vec<String> {
    config
        .packages
        .iter()
        .map(|selector| match selector {
            PackageSelector::Exact(name) | PackageSelector::Wildcard(name) => name.clone(),
        })
        .collect()
}

fn sorted(names: &[String]) -> Vec<String> {
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    names
}

/// The end of a run with `plan-file`: the plan applied (`applied`, how what was done
/// compares with it), or the plan a dry run writes, or why a dry run wrote none (the run
/// then fails). `None` for a run without `plan-file`.
pub fn conclude<W: std::io::Write>(
    config: &Config,
    env: &Environment,
    applied: Option<Comparison>,
    report: &RunReport,
    log: &mut Log<W>,
) -> Option<PlanNote> {
    if let Some(comparison) = applied {
        let note = PlanNote::Applied(comparison);
        log.info(&plan::log_line(&note));
        return Some(note);
    }
    let path = config
        .plan_file
        .as_deref()
        .filter(|_| config.dry_run && config.mode == Mode::Delete)?;
    let unfinished = match (&report.refusal, &report.interrupted, &report.stopped) {
        (Some(refusal), _, _) => Some(format!("{} refused the run", refusal.input)),
        (None, Some(interrupted), _) => Some(format!("the run was cut short ({interrupted})")),
        (None, None, Some(stopped)) => Some(format!("the run stopped before listing ({stopped})")),
        (None, None, None) => None,
    };
    let note = match unfinished {
        Some(why) => PlanNote::NotWritten(why),
        None => {
            let clean = log.sanitizer().clone();
            let made = make(config, env.now, report, &clean);
            match write(path, &env.workspace, &made, &clean) {
                Ok(written) => PlanNote::Written(written),
                Err(err) => PlanNote::NotWritten(format!("{err:#}")),
            }
        }
    };
    match &note {
        PlanNote::NotWritten(_) => log.error(&plan::log_line(&note)),
        _ => log.info(&plan::log_line(&note)),
    }
    Some(note)
}

/// The plan of a dry run's report: per package the versions it would delete, and what it
/// keeps and why. Text from outside is redacted, as in every output.
fn make(config: &Config, now: SystemTime, report: &RunReport, clean: &Sanitizer) -> PlanFile {
    let made_at = whole_seconds(now);
    PlanFile {
        made_at,
        expires_at: made_at + config.plan_expires,
        owner: config.owner.clone(),
        api_url: config.api_url.clone(),
        registry_url: config.registry_url.clone(),
        package_type: config.package_type,
        mode: Mode::Delete,
        packages_input: packages_input(config),
        policy: config.policy_inputs(),
        packages: report
            .packages
            .iter()
            .map(|package| planned_package(package, clean))
            .collect(),
    }
}

fn planned_package(package: &PackageReport, clean: &Sanitizer) -> PlannedPackage {
    let redacted = |version: &Version| Version {
        name: clean.redact(&version.name),
        tags: version.tags.iter().map(|tag| clean.redact(tag)).collect(),
        ..version.clone()
    };
    let planned: Vec<_> = package
        .entries
        .iter()
        .filter(|entry| {
            matches!(
                entry.outcome,
                Outcome::WouldDelete | Outcome::WouldDeleteWithPackage
            )
        })
        .collect();
    let ids: std::collections::HashSet<u64> = planned.iter().map(|e| e.version.id).collect();
    let delete = planned
        .iter()
        .map(|entry| {
            let parent = entry.relation.as_ref().and_then(|relation| {
                let first = *relation.parents.first()?;
                ids.contains(&first)
                    .then(|| (first, clean.redact(&relation.role.to_string())))
            });
            PlanEntry {
                scope: Scope::Version,
                version: redacted(&entry.version),
                reason: clean.redact(&entry.reason),
                rule: entry.rule.as_deref().map(|rule| clean.redact(rule)),
                parent_id: parent.as_ref().map(|(id, _)| *id),
                role: parent.map(|(_, role)| role),
            }
        })
        .collect();
    let left = package
        .entries
        .iter()
        .filter(|entry| matches!(entry.outcome, Outcome::Left(_)))
        .count()
        + package.undecided;
    let whole = package
        .whole
        .as_ref()
        .is_some_and(|whole| whole.outcome == Outcome::WouldDeletePackage);
    PlannedPackage {
        name: clean.redact(&package.name),
        listed: package.listed as u64,
        whole,
        not_planned: package
            .error
            .as_ref()
            .or(package.left.as_ref())
            .map(|why| clean.redact(why)),
        delete,
        kept: Kept {
            total: package.kept_count() as u64,
            by_reason: package
                .kept
                .iter()
                .map(|(cause, count)| ((*cause).to_owned(), *count as u64))
                .collect(),
            versions: package
                .kept_versions
                .iter()
                .take(MAX_KEPT_ROWS)
                .map(|kept| {
                    let version = redacted(&kept.version);
                    KeptRow {
                        id: version.id,
                        name: version.name,
                        tags: version.tags,
                        updated_at: version.updated_at,
                        reason: clean.redact(&kept.reason),
                    }
                })
                .collect(),
        },
        left: left as u64,
    }
}

/// Write the plan at `path` and its Markdown at `<path>.md`, inside the workspace only,
/// once it is known to read back whole (a plan that could not be applied is not written).
fn write(
    path: &Path,
    workspace: &Path,
    plan: &PlanFile,
    clean: &Sanitizer,
) -> anyhow::Result<Written> {
    let json = plan.to_json();
    PlanFile::from_json(&json)
        .map_err(|err| anyhow!("it would not read back as a plan ({err})"))?;
    let mut markdown_path = PathBuf::from(path).into_os_string();
    markdown_path.push(".md");
    let markdown_path = PathBuf::from(markdown_path);
    let markdown = plan::render(plan, clean);
    for (target, bytes) in [
        (path, json.as_slice()),
        (&markdown_path, markdown.as_bytes()),
    ] {
        workspace_file::write_inside(target, workspace, |mut file| {
            std::io::Write::write_all(&mut file, bytes)
                .with_context(|| format!("could not write {}", target.display()))?;
            Ok(file)
        })?;
    }
    Ok(Written {
        path: path.display().to_string(),
        markdown_path: markdown_path.display().to_string(),
        deletions: plan.deletions(),
        packages: plan
            .packages
            .iter()
            .filter(|package| !package.delete.is_empty())
            .count(),
        fingerprint: plan.fingerprint(),
        expires_at: plan.expires_at,
    })
}

/// `time` without its fraction of a second: a plan writes whole seconds.
fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let base = [
            ("INPUT_TOKEN", "t"),
            ("GITHUB_REPOSITORY_OWNER", "acme"),
            ("INPUT_PACKAGES", "app, lib-*"),
            ("INPUT_TAG-REGEX", "^pr-"),
        ];
        Config::from_env(|name| {
            pairs
                .iter()
                .chain(&base)
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
        .expect("valid inputs")
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn plan_of(config: &Config) -> PlanFile {
        let report = RunReport {
            packages: Vec::new(),
            refusal: None,
            stopped: None,
            interrupted: None,
            now: now(),
            plan: None,
        };
        make(config, now(), &report, &Sanitizer::default())
    }

    #[test]
    fn a_plan_is_refused_when_it_is_not_for_this_run_and_says_why() {
        let plan = plan_of(&config(&[]));
        let hour = Duration::from_secs(3_600);
        /// What differs, the apply run's inputs, its clock, and words of the refusal.
        type Case = (
            &'static str,
            Vec<(&'static str, &'static str)>,
            SystemTime,
            Option<&'static str>,
        );
        let cases: [Case; 11] = [
            ("the same run, an hour later", vec![], now() + hour, None),
            (
                "owner in another case",
                vec![("INPUT_OWNER", "ACME")],
                now(),
                None,
            ),
            (
                "packages in another order",
                vec![("INPUT_PACKAGES", "lib-*,app")],
                now(),
                None,
            ),
            (
                "a cap changed",
                vec![("INPUT_MAX-VERSIONS", "3")],
                now(),
                None,
            ),
            (
                "expired",
                vec![],
                now() + 25 * hour,
                Some("expired at 2027-01-16T08:00:00Z"),
            ),
            (
                "made in the future",
                vec![],
                now() - hour,
                Some("later than now"),
            ),
            (
                "another owner",
                vec![("INPUT_OWNER", "other")],
                now(),
                Some("made for owner `acme`, and this run is for `other`"),
            ),
            (
                "another host",
                vec![("GITHUB_API_URL", "https://ghes.example.com/api/v3")],
                now(),
                Some("this run talks to https://ghes.example.com/api/v3"),
            ),
            (
                "another registry",
                vec![("INPUT_REGISTRY-URL", "https://registry.example.com")],
                now(),
                Some("`registry-url`"),
            ),
            (
                "another package set",
                vec![("INPUT_PACKAGES", "app")],
                now(),
                Some("made for the packages `app, lib-*`, and this run is for `app`"),
            ),
            (
                "other policy inputs",
                vec![("INPUT_TAG-REGEX", "^pr-1"), ("INPUT_KEEP-LATEST", "2")],
                now(),
                Some("tag-regex, keep-latest differ"),
            ),
        ];
        for (what, pairs, at, expected) in cases {
            let got = refusal(&plan, &config(&pairs), at);
            match expected {
                None => assert_eq!(got, None, "{what}"),
                Some(expected) => assert!(
                    got.as_deref().is_some_and(|got| got.contains(expected)),
                    "{what}: {got:?}"
                ),
            }
        }
        let npm = config(&[("INPUT_PACKAGE-TYPE", "npm")]);
        assert!(
            refusal(&plan, &npm, now()).is_some_and(
                |why| why.contains("is for container packages, and this run is for npm")
            )
        );
    }
}
