//! The Markdown step summary: what was asked, totals, and a table per package.
//!
//! Every name, tag, pattern and message in it goes through the run's [`Sanitizer`], so
//! outside text shows as text: it cannot add lines, cells, headings, HTML or the token.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

use super::sanitize::Sanitizer;
use super::{PackageReport, RunReport, age};
use crate::config::{Config, PackageSelector, TagState};
use crate::model::image::short_digest;
use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::version::describe;

/// GitHub drops a step summary over 1 MiB; rows stop well before that.
const MAX_SUMMARY_BYTES: usize = 900_000;

/// Render the summary. `owner` is Markdown describing the resolved owner, e.g. "`acme`
/// (organization)", built with `clean`.
pub fn render(config: &Config, owner: &str, report: &RunReport, clean: &Sanitizer) -> String {
    let mut out = String::new();
    let mode = config.mode.as_str();
    let dry = if config.dry_run {
        " (dry run: nothing was changed)"
    } else {
        ""
    };
    let _ = writeln!(out, "## package-janitor: {mode}{dry}\n");
    let _ = writeln!(out, "- **Owner:** {owner}");
    let _ = writeln!(out, "- **Package type:** {}", config.package_type);
    let _ = writeln!(out, "- **Packages:** {}", packages(&config.packages, clean));
    let _ = writeln!(out, "- **Filters:** {}", filters(config, clean));
    if let Some(max) = config.max_versions {
        let _ = writeln!(out, "- **max-versions:** {max}");
    }
    let totals = report.totals();
    let done = if config.dry_run {
        format!("would {mode}")
    } else {
        config.mode.past_tense().to_string()
    };
    let _ = writeln!(
        out,
        "\n**Totals:** {} listed · {} selected · {} {done} · {} skipped · {} failed · {} left for the next run\n",
        totals.listed, totals.selected, totals.acted_on, totals.skipped, totals.failed, totals.left
    );
    if let Some(refusal) = &report.refusal {
        let _ = writeln!(out, "> [!CAUTION]\n> {}\n", clean.markdown(refusal));
    }
    if let Some(interrupted) = &report.interrupted {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> This run was cut short: {}. What it did is listed below; versions not done are left for the next run.\n",
            clean.markdown(interrupted)
        );
    }
    if let Some(stopped) = &report.stopped {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Stopped before listing: {}. The next run carries on.\n",
            clean.markdown(stopped)
        );
    } else if report.cut_short() && report.interrupted.is_none() {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> This run stopped early on GitHub's rate limits: {} versions and {} packages are left for the next run, oldest done first. Each one's outcome says why.\n",
            totals.left, totals.packages_left
        );
    }
    let mut rows_left = report.entries().count();
    let rules = !config.policy.rules.is_empty();
    for package in &report.packages {
        package_section(
            &mut out,
            package,
            report,
            rules,
            &done,
            &mut rows_left,
            clean,
        );
    }
    out
}

pub fn append_to(path: &Path, markdown: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open GITHUB_STEP_SUMMARY file {}", path.display()))?;
    file.write_all(markdown.as_bytes())
        .with_context(|| format!("cannot write GITHUB_STEP_SUMMARY file {}", path.display()))
}

/// `rows_left` counts the table rows still to write over all packages; it drops to zero
/// once the summary is full, and later packages then get their headline only. With
/// `rules`, a table per rule and the versions the rules kept come first; `done` names what
/// was done (`deleted`, `would delete`).
fn package_section(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    rules: bool,
    done: &str,
    rows_left: &mut usize,
    clean: &Sanitizer,
) {
    let _ = writeln!(out, "### {}\n", clean.code(&package.name));
    if let Some(whole) = &package.whole {
        let _ = writeln!(out, "{}\n", whole_line(whole, clean));
    }
    if let Some(error) = &package.error {
        let _ = writeln!(out, "**Not processed:** {}\n", clean.markdown(error));
        return;
    }
    if let Some(left) = &package.left {
        let _ = writeln!(out, "**Left for the next run:** {}\n", clean.markdown(left));
        return;
    }
    let kept: Vec<String> = package
        .kept
        .iter()
        .map(|(input, count)| format!("{input} {count}"))
        .collect();
    let kept = if kept.is_empty() {
        "none".to_string()
    } else {
        kept.join(", ")
    };
    let _ = writeln!(
        out,
        "{} listed · {} selected · kept: {kept}\n",
        package.listed,
        package.entries.len()
    );
    if rules {
        rules_section(out, package, report, done, clean);
    }
    if package.entries.is_empty() {
        return;
    }
    if *rows_left == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "| id | tags / version | age | outcome |\n|---:|---|---|---|"
    );
    for (depth, entry) in tree(&package.entries) {
        if out.len() > MAX_SUMMARY_BYTES {
            let _ = writeln!(
                out,
                "\n_{rows_left} more rows are not shown, to keep the summary under GitHub's 1 MiB limit; the `json` output lists every version._\n"
            );
            *rows_left = 0;
            return;
        }
        let version = &entry.version;
        let label = match (&entry.relation, depth) {
            (Some(relation), 1..) => format!(
                "{}└ {} · {}",
                "&nbsp;&nbsp;".repeat(depth - 1),
                clean.markdown(relation.role.label()),
                clean.markdown(&short_digest(&version.name))
            ),
            _ => clean.markdown(&describe(version)),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            version.id,
            label,
            if entry.outcome.is_listed(version) {
                age(report.now, version.updated_at)
            } else {
                "—".to_owned()
            },
            clean.markdown(&entry.outcome.to_string())
        );
        *rows_left -= 1;
    }
    out.push('\n');
}

/// Per rule: matched, kept, selected (each rule's own ranking, before keeping wins) and
/// what was done in the end; then the versions the rules kept, while the summary has room.
fn rules_section(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    done: &str,
    clean: &Sanitizer,
) {
    let _ = writeln!(
        out,
        "| rule | matched | kept | selected | {done} |\n|---|---:|---:|---:|---:|"
    );
    for (number, rule) in package.rules.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} |",
            number + 1,
            clean.markdown(&rule.label),
            rule.matched,
            rule.kept,
            rule.selected,
            rule.acted_on
        );
    }
    out.push('\n');
    if package.kept_by_rules.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "Kept by the rules:\n\n| id | tags / version | age | kept |\n|---:|---|---|---|"
    );
    for (shown, (version, reason)) in package.kept_by_rules.iter().enumerate() {
        if out.len() > MAX_SUMMARY_BYTES {
            let _ = writeln!(
                out,
                "\n_{} more kept versions are not shown, to keep the summary under GitHub's 1 MiB limit._",
                package.kept_by_rules.len() - shown
            );
            break;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            version.id,
            clean.markdown(&describe(version)),
            age(report.now, version.updated_at),
            clean.markdown(reason)
        );
    }
    out.push('\n');
}

/// What happened to the package itself, when it was acted on as a whole.
fn whole_line(whole: &PackageEntry, clean: &Sanitizer) -> String {
    let count = whole.version_ids.len();
    let what = match &whole.outcome {
        Outcome::Deleted => format!(
            "deleted with its package: the policy selected all {count} active versions, so the package itself was deleted, in one request"
        ),
        Outcome::WouldDeletePackage => {
            format!("would delete the package, with all {count} of its active versions")
        }
        Outcome::Restored => format!(
            "the package had been deleted and was restored; {count} versions came back with it"
        ),
        other => format!("{other} ({})", whole.reason),
    };
    format!("**Whole package:** {}", clean.markdown(&what))
}

/// Entries with their depth in the image tree: an image, then what went with it (platform
/// manifests, attestations, signatures) beneath it, in entry order. An entry whose parent
/// is not among the entries is shown at the top level.
fn tree(entries: &[Entry]) -> Vec<(usize, &Entry)> {
    let ids: HashSet<u64> = entries.iter().map(|entry| entry.version.id).collect();
    let mut children: HashMap<u64, Vec<&Entry>> = HashMap::new();
    let mut roots = Vec::new();
    for entry in entries {
        let parent = entry
            .relation
            .as_ref()
            .and_then(|relation| relation.parents.first())
            .filter(|parent| ids.contains(parent) && **parent != entry.version.id);
        match parent {
            Some(parent) => children.entry(*parent).or_default().push(entry),
            None => roots.push(entry),
        }
    }
    let mut shown = HashSet::new();
    let mut rows = Vec::with_capacity(entries.len());
    let mut stack: Vec<(usize, &Entry)> = roots.into_iter().rev().map(|e| (0, e)).collect();
    while let Some((depth, entry)) = stack.pop() {
        if !shown.insert(entry.version.id) {
            continue;
        }
        rows.push((depth, entry));
        for child in children.get(&entry.version.id).into_iter().flatten().rev() {
            stack.push((depth + 1, child));
        }
    }
    // Entries only reachable through a reference cycle (never from a real registry).
    rows.extend(
        entries
            .iter()
            .filter(|entry| !shown.contains(&entry.version.id))
            .map(|entry| (0, entry)),
    );
    rows
}

fn packages(selectors: &[PackageSelector], clean: &Sanitizer) -> String {
    selectors
        .iter()
        .map(|selector| match selector {
            PackageSelector::Exact(name) | PackageSelector::Wildcard(name) => clean.code(name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn filters(config: &Config, clean: &Sanitizer) -> String {
    let policy = &config.policy;
    let mut parts = Vec::new();
    if let Some(regex) = &policy.tag_regex {
        parts.push(format!("tag-regex {}", clean.code(regex.as_str())));
    }
    if let Some(regex) = &policy.exclude_tag_regex {
        parts.push(format!("exclude-tag-regex {}", clean.code(regex.as_str())));
    }
    if let Some(duration) = policy.older_than {
        parts.push(format!(
            "older-than {}",
            humantime::format_duration(duration)
        ));
    }
    match policy.tag_state {
        TagState::Any => {}
        TagState::Tagged => parts.push("tag-state tagged".to_string()),
        TagState::Untagged => parts.push("tag-state untagged".to_string()),
    }
    if policy.keep_latest > 0 {
        parts.push(format!("keep-latest {}", policy.keep_latest));
    }
    if !policy.rules.is_empty() {
        let labels: Vec<String> = policy
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                format!("{} {}", index + 1, clean.markdown(&rule.label(index + 1)))
            })
            .collect();
        parts.push(format!("rules: {}", labels.join(", ")));
    }
    if let Some(ids) = &policy.version_ids {
        parts.push(format!("version-ids ({} ids)", ids.len()));
    }
    if config.delete_orphans {
        parts.push("delete-orphans".to_string());
    }
    if let Some(duration) = policy.deleted_within {
        parts.push(format!(
            "deleted-within {}",
            humantime::format_duration(duration)
        ));
    }
    if parts.is_empty() {
        "none (every version is selected)".to_string()
    } else {
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::model::image::{Relation, Role};
    use crate::model::version::Version;

    fn entry(id: u64, tags: &[&str], parent: Option<(u64, Role)>) -> Entry {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        Entry {
            version: Version {
                id,
                name: format!("sha256:{id:064x}"),
                tags: tags.iter().map(|tag| tag.to_string()).collect(),
                tags_known: true,
                created_at: at,
                updated_at: at,
                deleted_at: None,
            },
            outcome: Outcome::Deleted,
            relation: parent.map(|(parent, role)| Relation {
                parents: vec![parent],
                role,
            }),
            reason: "matches the policy".to_string(),
            rule: Some("#1".to_string()),
        }
    }

    #[test]
    fn an_image_is_shown_with_its_children_beneath_it() {
        let amd64 = Role::Platform("linux/amd64".into());
        let entries = vec![
            entry(9, &["old"], None),
            entry(1, &["v1"], None),
            entry(3, &[], Some((1, Role::Attestation))),
            entry(2, &[], Some((1, amd64.clone()))),
            entry(4, &[], Some((7, amd64))),
            entry(5, &[], Some((3, Role::Signature))),
        ];
        let rows: Vec<(usize, u64)> = tree(&entries)
            .into_iter()
            .map(|(depth, entry)| (depth, entry.version.id))
            .collect();
        assert_eq!(rows, vec![(0, 9), (0, 1), (1, 3), (2, 5), (1, 2), (0, 4)]);
    }

    #[test]
    fn hostile_names_and_messages_add_no_line_and_an_interrupted_run_says_so() {
        let config = Config::from_env(|name| match name {
            "INPUT_TOKEN" => Some("ghp_summary_token".to_string()),
            "INPUT_PACKAGES" => Some("app".to_string()),
            "GITHUB_REPOSITORY_OWNER" => Some("acme".to_string()),
            _ => None,
        })
        .expect("valid inputs");
        let mut hostile = entry(1, &["v1\n**Totals:** 0 listed", "<!--"], None);
        hostile.outcome = Outcome::Failed("# heading\n| fake | row |".to_string());
        let report = RunReport {
            packages: vec![PackageReport {
                name: "app\n<!--\n## fake".to_string(),
                listed: 1,
                kept: Default::default(),
                entries: vec![hostile],
                error: None,
                left: None,
                rules: Vec::new(),
                kept_by_rules: Vec::new(),
                whole: None,
                undecided: 0,
            }],
            refusal: None,
            stopped: None,
            interrupted: Some("cancelled\n<!--".to_string()),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        };
        let markdown = render(
            &config,
            "`acme`",
            &report,
            &Sanitizer::new("ghp_summary_token"),
        );
        let lines: Vec<&str> = markdown.lines().collect();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("**Totals:**"))
                .count(),
            1
        );
        assert!(!markdown.contains("<!--"), "{markdown}");
        assert!(
            !lines.iter().any(|l| l.starts_with("## fake")),
            "{markdown}"
        );
        assert!(!lines.iter().any(|l| l.starts_with("| fake")), "{markdown}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("| 1 | v1\\\\n\\*\\*Totals")),
            "{markdown}"
        );
        assert!(
            markdown.contains("This run was cut short: cancelled"),
            "{markdown}"
        );
    }

    #[test]
    fn a_huge_run_is_cut_under_githubs_limit_with_a_note_counting_the_rest() {
        let config = Config::from_env(|name| match name {
            "INPUT_TOKEN" => Some("ghp_summary_token".to_string()),
            "INPUT_PACKAGES" => Some("app".to_string()),
            "GITHUB_REPOSITORY_OWNER" => Some("acme".to_string()),
            _ => None,
        })
        .expect("valid inputs");
        let total = 30_000;
        let entries: Vec<Entry> = (1..=total).map(|id| entry(id, &[], None)).collect();
        let report = RunReport {
            packages: vec![PackageReport {
                name: "app".to_string(),
                listed: entries.len(),
                kept: Default::default(),
                rules: Vec::new(),
                kept_by_rules: Vec::new(),
                entries,
                error: None,
                left: None,
                whole: None,
                undecided: 0,
            }],
            refusal: None,
            stopped: None,
            interrupted: None,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        };
        let markdown = render(&config, "`acme`", &report, &Sanitizer::default());
        assert!(markdown.len() < 1024 * 1024, "{} bytes", markdown.len());
        let shown = markdown
            .lines()
            .filter(|line| line.starts_with("| ") && !line.starts_with("| id"))
            .count() as u64;
        let note = format!("_{} more rows are not shown", total - shown);
        assert!(markdown.contains(&note), "expected {note}");
        assert!(
            shown > 1_000,
            "the table is cut late, not early: {shown} rows"
        );
    }
}
