//! `mode: audit`: list every package's active versions, read every container manifest once
//! (the cleanup's hardened, bounded reads), audit each package over the image graph, and
//! report. Sends no mutating request, and spends no REST budget beyond listing.

use super::clients;
use super::discover::{Packages, find_packages};
use super::environment::Environment;
use super::failures::listing_failed;
use super::inspect::read_manifests;
use crate::config::Config;
use crate::config::cli::Format;
use crate::github::GitHub;
use crate::model::version::VersionState;
use crate::owner;
use crate::policy::audit;
use crate::policy::rules::{OrderBy, Policy, TagState};
use crate::registry::{self, Registry};
use crate::report::audit::{AuditReport, Conflicts, Found, PackageAudit};
use crate::report::log::Log;
use crate::report::{plural, publish};

/// Audit every package and report. `Ok(false)`: a package could not be audited, or
/// `fail-on-broken` is set and an image is broken (exit code 1).
pub async fn run<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    env: &Environment,
    log: &mut Log<W>,
) -> anyhow::Result<bool> {
    let ignored = ignored_inputs(config);
    for name in &ignored {
        log.warning(&format!(
            "input `{name}` does not apply to `mode: audit` and is ignored: an audit reads every active version"
        ));
    }
    let known_kind = owner::kind_from_event(env.event_path.as_deref(), &config.owner);
    let Packages {
        namespace, names, ..
    } = find_packages(github, config, known_kind, log).await?;
    let registry = clients::registry(config)?;
    let mut packages = Vec::with_capacity(names.len());
    for name in names {
        log.group(&format!("{} package {name}: audit", config.package_type));
        let found = audit_package(
            github,
            &namespace,
            registry.as_ref(),
            config,
            env,
            &name,
            log,
        )
        .await
        .map_err(|err| format!("{err:#}"));
        if let Err(err) = &found {
            log.error(err);
        }
        packages.push(PackageAudit { name, found });
        log.end_group();
    }
    let conflicts = match github.docker_conflicts(&namespace).await {
        Ok(names) => Conflicts::Read(names),
        Err(err) => Conflicts::Unreadable(err.to_string()),
    };
    let report = AuditReport {
        owner: config.owner.clone(),
        package_type: config.package_type,
        packages,
        conflicts,
        ignored,
        now: env.now,
    };
    let clean = log.sanitizer().clone();
    let (outputs, truncated) = report.outputs(&clean);
    publish::warn_cut_short(&truncated, log);
    let markdown = report.summary(&clean);
    let published = match env.print {
        None => publish::publish(env.files(), &outputs, &markdown, log),
        Some(print) => {
            let printed = match print.format {
                Format::Text => report.text(&clean),
                Format::Json => format!("{}\n", clean.json_text(&report.json(&clean).0)),
                Format::Markdown => markdown.clone(),
            };
            let out = &mut std::io::stdout();
            publish::publish_printed(env.files(), &outputs, &markdown, &printed, out, log)
        }
    };
    let broken = report.broken();
    for (package, broken) in &broken {
        let message = format!(
            "package `{package}`: tag `{}` (version {}) cannot be pulled whole: {}",
            broken.tag, broken.id, broken.reason
        );
        if config.fail_on_broken {
            log.error(&message);
        } else {
            log.warning(&message);
        }
    }
    let failed = report.packages.iter().filter(|p| p.found.is_err()).count();
    log.info(&format!(
        "package-janitor: audited {}: {}, {}, {} failed; nothing was changed",
        plural(report.packages.len(), "package"),
        plural(broken.len(), "broken tag"),
        plural(report.orphan_ids().len(), "orphan"),
        plural(failed, "package")
    ));
    published.result(log)?;
    let broken_fails = config.fail_on_broken && !broken.is_empty();
    Ok(failed == 0 && !broken_fails)
}

/// Filter and cleanup inputs set to something other than their default: an audit ignores them.
fn ignored_inputs(config: &Config) -> Vec<&'static str> {
    let policy: &Policy = &config.policy;
    [
        ("tag-regex", policy.tag_regex.is_some()),
        ("exclude-tag-regex", policy.exclude_tag_regex.is_some()),
        ("older-than", policy.older_than.is_some()),
        ("tag-state", policy.tag_state != TagState::Any),
        ("keep-latest", policy.keep_latest != 0),
        ("order-by", policy.order_by != OrderBy::Pushed),
        ("rules", !policy.rules.is_empty()),
        ("keep-referenced", config.keep_referenced.is_some()),
        ("version-ids", policy.version_ids.is_some()),
        ("max-versions", config.max_versions.is_some()),
        ("max-percent", config.max_percent.is_some()),
        ("plan-file", config.plan_file.is_some()),
        ("dry-run", config.dry_run),
        ("delete-orphans", config.delete_orphans),
        ("delete-empty-packages", config.delete_empty_packages),
        ("verify", config.verify),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name)
    .collect()
}

/// List one package and, for a container package, read its manifests and audit it.
async fn audit_package<W: std::io::Write>(
    github: &GitHub,
    namespace: &crate::github::Namespace,
    registry: Option<&Registry>,
    config: &Config,
    env: &Environment,
    name: &str,
    log: &mut Log<W>,
) -> anyhow::Result<Found> {
    let versions = github
        .list_versions(namespace, config.package_type, name, VersionState::Active)
        .await
        .map_err(|err| listing_failed(err, config, namespace, name))?;
    log.info(&format!("{} active versions listed", versions.len()));
    let Some(registry) = registry else {
        return Ok(Found::Versions(versions));
    };
    let repository = registry::repository(&config.owner, name);
    log.progress("reading manifests", versions.len());
    let mut known = crate::state::KnownManifests::default();
    let read = read_manifests(
        registry,
        &repository,
        versions.iter(),
        &mut known,
        false,
        log,
    )
    .await;
    log.progress_done();
    if let Some(host) = &read.untrusted_realm {
        anyhow::bail!(
            "{repository}: the registry {} asks for tokens at {host}, which is not its own host over https: the token was not sent, and the package was not audited. Check input `registry-url`.",
            config.registry_url
        );
    }
    log.info(&format!(
        "{} manifests read from {}/{repository}, {} unreadable",
        versions.len(),
        config.registry_url,
        read.unreadable.len()
    ));
    let manifests = crate::policy::images::ByDigest {
        known: &known,
        unreadable: &read.unreadable,
    };
    Ok(Found::Container(Box::new(audit::audit(
        versions, &manifests, env.now,
    ))))
}
