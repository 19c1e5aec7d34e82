//! What an audit reports: the outputs `broken`, `orphans`, `count`, `bytes-freed` (0: an
//! audit frees nothing), `bytes-kept` (the packages' bytes) and `json`, and the step summary
//! (a table per package, broken images first, orphans folded, the package's storage as a
//! pie chart, and a Mermaid graph for small packages). Every string from outside goes through the [`Sanitizer`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::json;

use super::outputs::{bytes_outputs, within_limit};
use super::sanitize::Sanitizer;
use super::{age, plural, storage, timestamp};
use crate::model::image::short_digest;
use crate::model::version::{PackageType, Version};
use crate::policy::audit::{Audit, Broken, Counts, Image, Target};
use crate::policy::storage::Size;

/// A package with at most this many images gets a Mermaid graph: more would not read.
pub const MAX_GRAPHED_IMAGES: usize = 30;

/// Rows per summary table, so that a huge package keeps the summary under GitHub's limit.
const MAX_ROWS: usize = 500;

/// What one package's audit found.
#[derive(Debug, Clone)]
pub enum Found {
    /// Boxed: an audit is large beside a list of versions.
    Container(Box<Audit>),
    /// A package without images: its versions.
    Versions(Vec<Version>),
}

/// One package: what was found, or why it could not be audited.
#[derive(Debug, Clone)]
pub struct PackageAudit {
    pub name: String,
    pub found: Result<Found, String>,
}

/// The owner's Docker-migration conflicts, or why they could not be read.
#[derive(Debug, Clone)]
pub enum Conflicts {
    Read(Vec<String>),
    Unreadable(String),
}

/// Everything an audit reports.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub owner: String,
    pub package_type: PackageType,
    pub packages: Vec<PackageAudit>,
    pub conflicts: Conflicts,
    /// Inputs set that an audit ignores.
    pub ignored: Vec<&'static str>,
    pub now: SystemTime,
}

impl AuditReport {
    fn audits(&self) -> impl Iterator<Item = (&str, &Audit)> {
        self.packages
            .iter()
            .filter_map(|package| match &package.found {
                Ok(Found::Container(audit)) => Some((package.name.as_str(), &**audit)),
                _ => None,
            })
    }

    /// Every broken tag, with its package.
    pub fn broken(&self) -> Vec<(&str, &Broken)> {
        self.audits()
            .flat_map(|(name, audit)| audit.broken.iter().map(move |broken| (name, broken)))
            .collect()
    }

    /// Every orphan id, package after package.
    pub fn orphan_ids(&self) -> Vec<u64> {
        self.audits()
            .flat_map(|(_, audit)| audit.orphans.iter().copied())
            .collect()
    }

    /// Every byte the container packages audited hold, each blob once per package: `None`
    /// for other package types, and unless every package was audited and every blob
    /// counted.
    pub fn bytes_held(&self) -> Option<u64> {
        let mut total = Size::Exact(0);
        for package in &self.packages {
            match &package.found {
                Ok(Found::Container(audit)) => total = total.plus(audit.storage.total),
                _ => return None,
            }
        }
        total.exact()
    }

    /// The lines appended to GITHUB_OUTPUT (`broken`, `orphans`, `count`, `bytes-freed`,
    /// `bytes-kept` and `json`), and the names of those cut short to stay under GitHub's
    /// size limit.
    pub fn outputs(&self, clean: &Sanitizer) -> (String, Vec<&'static str>) {
        let orphans = self.orphan_ids();
        let (ids, ids_cut) = within_limit(orphans.iter().map(u64::to_string), "", ",", "");
        let (json, json_cut) = self.json(clean);
        let (broken, broken_cut) = broken_json(&self.broken(), clean);
        let truncated = [
            (broken_cut, "broken"),
            (ids_cut, "orphans"),
            (json_cut, "json"),
        ]
        .into_iter()
        .filter(|(cut, _)| *cut)
        .map(|(_, name)| name)
        .collect();
        let held = self.bytes_held();
        // An audit changes nothing, so it frees nothing, whatever the package type.
        let text = format!(
            "{}orphans={}\ncount={}\n{}{}",
            clean.output_heredoc("broken", &broken),
            clean.output_value(&ids),
            orphans.len(),
            bytes_outputs(Some(0), held),
            clean.output_heredoc("json", &json)
        );
        (text, truncated)
    }

    /// The `json` output: every version, and whether it was cut short at a whole entry.
    pub fn json(&self, clean: &Sanitizer) -> (String, bool) {
        let versions = self
            .packages
            .iter()
            .flat_map(|package| version_items(package, clean))
            .map(|item| item.to_string());
        within_limit(versions, "[", ",", "]")
    }

    /// The report for a person (`--format text`): per package its counts, broken tags and
    /// orphans, in plain lines. The table of images is the summary's (`--format markdown`).
    pub fn text(&self, clean: &Sanitizer) -> String {
        let mut out = format!(
            "package-janitor audit: {} of {}: nothing was changed\n",
            plural(
                self.packages.len(),
                &format!("{} package", self.package_type)
            ),
            clean.terminal(&self.owner)
        );
        if !self.ignored.is_empty() {
            let _ = writeln!(out, "ignored by an audit: {}", self.ignored.join(", "));
        }
        for package in &self.packages {
            let _ = write!(
                out,
                "\n{} package {}: ",
                self.package_type,
                clean.terminal(&package.name)
            );
            match &package.found {
                Err(err) => {
                    let _ = writeln!(out, "not audited: {}", clean.terminal(err));
                }
                Ok(Found::Versions(versions)) => {
                    let _ = writeln!(out, "{}", plural(versions.len(), "version"));
                }
                Ok(Found::Container(audit)) => {
                    out.push_str(&counts_line(&audit.counts, self.now));
                    for broken in &audit.broken {
                        let _ = writeln!(
                            out,
                            "  broken: {} (version {}) cannot be pulled whole: {}",
                            clean.terminal(&broken.tag),
                            broken.id,
                            clean.terminal(&broken.reason)
                        );
                    }
                    if !audit.orphans.is_empty() {
                        let _ = writeln!(
                            out,
                            "  {}: {}",
                            plural(audit.orphans.len(), "orphan"),
                            audit
                                .orphans
                                .iter()
                                .map(u64::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                    }
                }
            }
        }
        out
    }

    /// The step summary.
    pub fn summary(&self, clean: &Sanitizer) -> String {
        let mut out = format!(
            "## package-janitor audit: {} of {}\n\nNothing was changed.\n",
            plural(
                self.packages.len(),
                &format!("{} package", self.package_type)
            ),
            clean.code(&self.owner)
        );
        if !self.ignored.is_empty() {
            let names: Vec<String> = self
                .ignored
                .iter()
                .map(|name| format!("`{name}`"))
                .collect();
            let _ = writeln!(
                out,
                "\n> [!NOTE]\n> Ignored by an audit: {}.",
                names.join(", ")
            );
        }
        for package in &self.packages {
            out.push_str(&package_section(package, self.now, clean));
        }
        out.push_str(&conflicts_section(&self.conflicts, clean));
        out
    }
}

/// The `broken` output: a JSON array of `{package, tag, id, missing, reason}`, and whether
/// it was cut short at a whole entry to stay under the size limit.
pub fn broken_json(broken: &[(&str, &Broken)], clean: &Sanitizer) -> (String, bool) {
    let items = broken.iter().map(|(package, broken)| {
        json!({
            "package": clean.redact(package),
            "tag": clean.redact(&broken.tag),
            "id": broken.id,
            "missing": broken.missing.iter().map(|d| clean.redact(d)).collect::<Vec<_>>(),
            "reason": clean.redact(&broken.reason),
        })
        .to_string()
    });
    within_limit(items, "[", ",", "]")
}

/// A kept tag `verify` found not pulling whole, with the versions this run deleted that its
/// image needs: empty when this run deleted none of them, so the breakage was found, not
/// caused.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedBroken<'a> {
    pub package: &'a str,
    pub broken: &'a Broken,
    pub deleted_here: &'a [u64],
}

impl VerifiedBroken<'_> {
    /// Whether this run's deletions broke it.
    pub fn caused(&self) -> bool {
        !self.deleted_here.is_empty()
    }
}

/// The `broken` output of `verify`: [`broken_json`]'s fields, plus whether this run caused
/// the breakage and the ids it deleted that the image needs.
pub fn verified_json(broken: &[VerifiedBroken<'_>], clean: &Sanitizer) -> (String, bool) {
    let items = broken.iter().map(|tag| {
        let broken = tag.broken;
        json!({
            "package": clean.redact(tag.package),
            "tag": clean.redact(&broken.tag),
            "id": broken.id,
            "missing": broken.missing.iter().map(|d| clean.redact(d)).collect::<Vec<_>>(),
            "reason": clean.redact(&broken.reason),
            "caused_by_this_run": tag.caused(),
            "deleted_ids": tag.deleted_here,
        })
        .to_string()
    });
    within_limit(items, "[", ",", "]")
}

/// The summary's last lines after `verify`: how many kept tags pull whole, or which do not,
/// those this run broke apart from those it found broken.
pub fn verified_summary(tags: usize, broken: &[VerifiedBroken<'_>], clean: &Sanitizer) -> String {
    if broken.is_empty() {
        return format!("\nverified: {tags} tags pull whole\n");
    }
    let (caused, found): (Vec<_>, Vec<_>) = broken.iter().partition(|tag| tag.caused());
    let mut out = String::new();
    let item = |out: &mut String, tag: &VerifiedBroken<'_>| {
        let broken = tag.broken;
        let missing: Vec<String> = broken.missing.iter().map(|d| clean.code(d)).collect();
        let _ = write!(
            out,
            "> - {} {} (version {}): missing {}: {}",
            clean.code(tag.package),
            clean.code(&broken.tag),
            broken.id,
            missing.join(", "),
            clean.markdown(&broken.reason)
        );
        if tag.caused() {
            let ids: Vec<String> = tag.deleted_here.iter().map(u64::to_string).collect();
            let _ = write!(out, "; this run deleted {}", ids.join(", "));
        }
        out.push('\n');
    };
    if !caused.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!CAUTION]\n> verify: {} of {tags} kept tags no longer pull whole after this run's deletions (restore the versions named to mend them):",
            caused.len()
        );
        for tag in &caused {
            item(&mut out, tag);
        }
    }
    if !found.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!WARNING]\n> verify: {} of {tags} kept tags were found not pulling whole; this run deleted nothing they need, so they were broken before it:",
            found.len()
        );
        for tag in &found {
            item(&mut out, tag);
        }
    }
    out
}

/// [`verified_summary`] for a person at a terminal (`--format text`): plain lines.
pub fn verified_text(tags: usize, broken: &[VerifiedBroken<'_>], clean: &Sanitizer) -> String {
    if broken.is_empty() {
        return format!("verified: {tags} tags pull whole\n");
    }
    let mut out = format!(
        "verify: {} of {tags} kept tags do not pull whole:\n",
        broken.len()
    );
    for tag in broken {
        let broken = tag.broken;
        let cause = if tag.caused() {
            let ids: Vec<String> = tag.deleted_here.iter().map(u64::to_string).collect();
            format!("broken by this run, which deleted {}", ids.join(", "))
        } else {
            "found broken: this run deleted nothing it needs".to_string()
        };
        let _ = writeln!(
            out,
            "  {} {} (version {}): {}; {cause}",
            clean.terminal(tag.package),
            clean.terminal(&broken.tag),
            broken.id,
            clean.terminal(&broken.reason)
        );
    }
    out
}

fn version_items(package: &PackageAudit, clean: &Sanitizer) -> Vec<serde_json::Value> {
    let item = |version: &Version, role: &str, parents: &[u64], reachable: bool| {
        json!({
            "package": clean.redact(&package.name),
            "id": version.id,
            "name": clean.redact(&version.name),
            "tags": version.tags.iter().map(|t| clean.redact(t)).collect::<Vec<_>>(),
            "role": role,
            "parent_ids": parents,
            "reachable": reachable,
        })
    };
    match &package.found {
        Ok(Found::Container(audit)) => audit
            .versions
            .iter()
            .map(|v| item(&v.version, &v.role, &v.parent_ids, v.reachable))
            .collect(),
        Ok(Found::Versions(versions)) => versions
            .iter()
            .map(|version| item(version, "version", &[], true))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn counts_line(counts: &Counts, now: SystemTime) -> String {
    let span = match (counts.oldest, counts.newest) {
        (Some(oldest), Some(newest)) => format!(
            "; oldest {} ({}), newest {} ({})",
            timestamp(oldest),
            age(now, oldest),
            timestamp(newest),
            age(now, newest)
        ),
        _ => String::new(),
    };
    format!(
        "{} ({} tagged, {} untagged): {}, {}, {}, {}, {} broken{span}\n",
        plural(counts.versions, "version"),
        counts.tagged,
        counts.untagged,
        plural(counts.images, "image"),
        plural(counts.platforms, "platform manifest"),
        plural(counts.artifacts, "artifact"),
        plural(counts.orphans, "orphan"),
        counts.broken
    )
}

fn package_section(package: &PackageAudit, now: SystemTime, clean: &Sanitizer) -> String {
    let mut out = format!("\n### {}\n\n", clean.code(&package.name));
    let audit = match &package.found {
        Err(err) => {
            let _ = writeln!(out, "> [!WARNING]\n> Not audited: {}", clean.markdown(err));
            return out;
        }
        Ok(Found::Versions(versions)) => {
            let counts = Counts {
                versions: versions.len(),
                tagged: versions.iter().filter(|v| !v.tags.is_empty()).count(),
                untagged: versions.iter().filter(|v| v.tags.is_empty()).count(),
                oldest: versions.iter().map(|v| v.created_at).min(),
                newest: versions.iter().map(|v| v.created_at).max(),
                ..Counts::default()
            };
            let _ = write!(out, "{}", plural(counts.versions, "version"));
            if let (Some(oldest), Some(newest)) = (counts.oldest, counts.newest) {
                let _ = write!(
                    out,
                    "; oldest {} ({}), newest {} ({})",
                    timestamp(oldest),
                    age(now, oldest),
                    timestamp(newest),
                    age(now, newest)
                );
            }
            let _ = writeln!(
                out,
                "\n\n**Storage:** GitHub's API gives no sizes for packages other than containers."
            );
            return out;
        }
        Ok(Found::Container(audit)) => audit,
    };
    out.push_str(&counts_line(&audit.counts, now));
    if !audit.broken.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!CAUTION]\n> **{} broken tags**: these images cannot be pulled whole.",
            audit.broken.len()
        );
        for broken in &audit.broken {
            let missing: Vec<String> = broken.missing.iter().map(|d| clean.code(d)).collect();
            let _ = writeln!(
                out,
                "> - {} (version {}): missing {}: {}",
                clean.code(&broken.tag),
                broken.id,
                missing.join(", "),
                clean.markdown(&broken.reason)
            );
        }
    }
    if let Some(id) = audit.fail_closed {
        let _ = writeln!(
            out,
            "\n> [!WARNING]\n> The manifest of version {id} could not be read, so a `delete-orphans` cleanup would fail closed: the orphans below are only those it would still delete."
        );
    }
    out.push_str("\n| Tag | Age | Platforms | Signed | Attested |\n|---|---|---|---|---|\n");
    let mut images: Vec<&Image> = audit.images.iter().collect();
    images.sort_by_key(|image| !image.broken);
    for image in images.iter().take(MAX_ROWS) {
        let tags: Vec<String> = image.tags.iter().map(|t| clean.code(t)).collect();
        let platforms: Vec<String> = image.platforms.iter().map(|p| clean.markdown(p)).collect();
        let yes = |flag: bool| if flag { "yes" } else { "no" };
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} |",
            if image.broken { "❌ broken: " } else { "" },
            tags.join(", "),
            age(now, image.created_at),
            if platforms.is_empty() {
                "single".to_string()
            } else {
                platforms.join(", ")
            },
            yes(image.signed),
            yes(image.attested)
        );
    }
    if images.len() > MAX_ROWS {
        let _ = writeln!(out, "\n… and {} more images.", images.len() - MAX_ROWS);
    }
    if !audit.orphans.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>{} orphans (what <code>delete-orphans: true</code> would delete)</summary>\n\n| Id | Digest | Tags | Role |\n|---|---|---|---|",
            audit.orphans.len()
        );
        let by_id: HashMap<u64, _> = audit.versions.iter().map(|v| (v.version.id, v)).collect();
        for id in audit.orphans.iter().take(MAX_ROWS) {
            let Some(audited) = by_id.get(id) else {
                continue;
            };
            let tags: Vec<String> = audited.version.tags.iter().map(|t| clean.code(t)).collect();
            let _ = writeln!(
                out,
                "| {id} | {} | {} | {} |",
                clean.code(&short_digest(&audited.version.name)),
                tags.join(", "),
                clean.markdown(&audited.role)
            );
        }
        if audit.orphans.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "\n… and {} more: the `orphans` output lists them all.",
                audit.orphans.len() - MAX_ROWS
            );
        }
        out.push_str("\n</details>\n");
    }
    out.push_str(&storage::audit_section(audit, clean));
    if !audit.images.is_empty() && audit.images.len() <= MAX_GRAPHED_IMAGES {
        out.push_str(&mermaid(audit, clean));
    }
    out
}

/// A Mermaid graph of the package's images: tags → indexes → platforms and artifacts,
/// missing manifests drawn as dotted edges to a `missing` node. Node ids are generated.
pub fn mermaid(audit: &Audit, clean: &Sanitizer) -> String {
    let mut out = String::from("\n```mermaid\ngraph LR\n");
    let by_id: HashMap<u64, &Version> = audit
        .versions
        .iter()
        .map(|v| (v.version.id, &v.version))
        .collect();
    let mut nodes: HashMap<String, String> = HashMap::new();
    let mut node = |key: String, label: String, out: &mut String| -> String {
        if let Some(id) = nodes.get(&key) {
            return id.clone();
        }
        let id = format!("n{}", nodes.len());
        let _ = writeln!(out, "  {id}[{}]", clean.mermaid_label(&label));
        nodes.insert(key, id.clone());
        id
    };
    for (n, image) in audit.images.iter().enumerate() {
        let tag = node(format!("tag{n}"), image.tags.join(", "), &mut out);
        let root = node(
            format!("v{}", image.id),
            short_digest(&image.digest),
            &mut out,
        );
        let _ = writeln!(out, "  {tag} --> {root}");
        for edge in &image.edges {
            let from_label = by_id
                .get(&edge.from)
                .map(|v| short_digest(&v.name))
                .unwrap_or_default();
            let from = node(format!("v{}", edge.from), from_label, &mut out);
            let label = clean.mermaid_label(edge.role.label());
            match &edge.to {
                Target::Version(id) => {
                    let to_label = by_id
                        .get(id)
                        .map(|v| short_digest(&v.name))
                        .unwrap_or_default();
                    let to = node(format!("v{id}"), to_label, &mut out);
                    let _ = writeln!(out, "  {from} -->|{label}| {to}");
                }
                Target::Missing(digest) => {
                    let to = node(
                        format!("m{digest}"),
                        format!("missing {}", short_digest(digest)),
                        &mut out,
                    );
                    let broken = clean.mermaid_label(&format!("broken: {}", edge.role.label()));
                    let _ = writeln!(out, "  {from} -.->|{broken}| {to}");
                }
            }
        }
    }
    out.push_str("```\n");
    out
}

fn conflicts_section(conflicts: &Conflicts, clean: &Sanitizer) -> String {
    match conflicts {
        Conflicts::Read(names) if names.is_empty() => {
            "\nDocker-migration conflicts: none.\n".to_string()
        }
        Conflicts::Read(names) => {
            let names: Vec<String> = names.iter().map(|n| clean.code(n)).collect();
            format!(
                "\n> [!WARNING]\n> Docker-migration conflicts ({}): {}\n",
                names.len(),
                names.join(", ")
            )
        }
        Conflicts::Unreadable(why) => format!(
            "\n> [!NOTE]\n> Docker-migration conflicts were not checked: this token cannot read them ({}). A classic PAT with `read:packages` can.\n",
            clean.markdown(why)
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::model::manifest::{Child, Manifest};
    use crate::policy::audit::audit;
    use crate::policy::images::Manifests;
    use crate::report::publish::MAX_OUTPUT_BYTES;
    use crate::testing::image_at;

    #[test]
    fn verify_tells_the_tags_this_run_broke_from_those_it_found_broken() {
        let broken = |tag: &str, id: u64| Broken {
            tag: tag.to_string(),
            id,
            missing: vec![format!("sha256:{id:064x}")],
            reason: "sha256:00000000…: MANIFEST_UNKNOWN".to_string(),
        };
        let (v1, v2) = (broken("v1", 1), broken("v2", 2));
        let tags = [
            VerifiedBroken {
                package: "app",
                broken: &v1,
                deleted_here: &[11, 12],
            },
            VerifiedBroken {
                package: "app",
                broken: &v2,
                deleted_here: &[],
            },
        ];
        let clean = Sanitizer::default();
        let markdown = verified_summary(5, &tags, &clean);
        let caused = markdown
            .find("> verify: 1 of 5 kept tags no longer pull whole after this run's deletions")
            .unwrap_or_else(|| panic!("{markdown}"));
        let found = markdown
            .find("> verify: 1 of 5 kept tags were found not pulling whole; this run deleted nothing they need")
            .unwrap_or_else(|| panic!("{markdown}"));
        let v1_line = markdown.find("`v1` (version 1)").expect("v1 listed");
        let v2_line = markdown.find("`v2` (version 2)").expect("v2 listed");
        assert!(
            caused < v1_line && v1_line < found && found < v2_line,
            "{markdown}"
        );
        assert!(
            markdown.contains("; this run deleted 11, 12\n"),
            "{markdown}"
        );
        assert_eq!(
            markdown.matches("this run deleted 1").count(),
            1,
            "{markdown}"
        );

        let (json, cut) = verified_json(&tags, &clean);
        assert!(!cut);
        let items: Vec<serde_json::Value> = serde_json::from_str(&json).expect("JSON");
        assert_eq!(items[0]["caused_by_this_run"], true);
        assert_eq!(items[0]["deleted_ids"], json!([11, 12]));
        assert_eq!(items[1]["caused_by_this_run"], false);
        assert_eq!(items[1]["deleted_ids"], json!([]));
        assert_eq!(
            verified_summary(5, &[], &clean),
            "\nverified: 5 tags pull whole\n"
        );
    }

    #[test]
    fn the_counts_line_says_one_of_each_in_the_singular_and_more_in_the_plural() {
        let each = |n: usize| Counts {
            versions: n,
            tagged: n,
            untagged: n,
            images: n,
            platforms: n,
            artifacts: n,
            orphans: n,
            broken: n,
            oldest: None,
            newest: None,
        };
        for (n, expected) in [
            (
                1,
                "1 version (1 tagged, 1 untagged): 1 image, 1 platform manifest, 1 artifact, 1 orphan, 1 broken\n",
            ),
            (
                2,
                "2 versions (2 tagged, 2 untagged): 2 images, 2 platform manifests, 2 artifacts, 2 orphans, 2 broken\n",
            ),
            (
                0,
                "0 versions (0 tagged, 0 untagged): 0 images, 0 platform manifests, 0 artifacts, 0 orphans, 0 broken\n",
            ),
        ] {
            assert_eq!(counts_line(&each(n), UNIX_EPOCH), expected, "{n} of each");
        }
    }

    fn version(id: u64, tags: &[&str]) -> Version {
        let at = UNIX_EPOCH + Duration::from_secs(1_000_000 - id);
        image_at(id, tags, at)
    }

    #[test]
    fn lists_stop_at_a_whole_item_before_the_output_limit() {
        let small = ["1", "2"].map(String::from).into_iter();
        assert_eq!(
            within_limit(small, "[", ",", "]"),
            ("[1,2]".to_string(), false)
        );
        let big = "x".repeat(MAX_OUTPUT_BYTES / 3);
        let (joined, cut) = within_limit(std::iter::repeat_n(big.clone(), 4), "[", ",", "]");
        assert!(cut);
        assert_eq!(joined, format!("[{big},{big}]"));
    }

    #[test]
    fn the_mermaid_graph_uses_generated_ids_and_escaped_labels_for_hostile_tags() {
        let hostile = "x\"]; click n0 call alert() %%";
        let versions = vec![version(1, &[hostile]), version(2, &[])];
        let mut manifests: Manifests = versions
            .iter()
            .map(|v| (v.id, Ok(Manifest::default())))
            .collect();
        let index = Manifest {
            is_index: true,
            children: vec![
                Child {
                    digest: versions[1].name.clone(),
                    platform: Some("linux/<b>amd64</b>".into()),
                    ..Child::default()
                },
                Child {
                    digest: format!("sha256:{:064x}", 9),
                    platform: Some("linux/arm64".into()),
                    ..Child::default()
                },
            ],
            ..Manifest::default()
        };
        manifests.insert(1, Ok(index));
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let graph = mermaid(&audit(versions, &manifests, now), &Sanitizer::new("token"));
        let cases = [
            (
                "  n0[\"x#34;#93;#59; click n0 call alert#40;#41; #37;#37;\"]",
                true,
            ),
            ("-->|\"linux/#60;b#62;amd64#60;/b#62;\"|", true),
            ("-.->|\"broken: linux/arm64\"|", true),
            ("alert()", false),
            ("<b>", false),
        ];
        for (text, present) in cases {
            assert_eq!(graph.contains(text), present, "{text}:\n{graph}");
        }
        for line in graph.lines().filter(|line| line.contains('[')) {
            let id = line.trim_start().split('[').next().unwrap_or_default();
            assert!(
                id.starts_with('n') && id[1..].chars().all(|c| c.is_ascii_digit()),
                "{line}"
            );
        }
    }
}
