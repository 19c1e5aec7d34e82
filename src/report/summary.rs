//! The Markdown step summary: one line of totals, what was asked, what the cleanup freed
//! (see [`storage`]), and per package its counts, the selected versions and, collapsed,
//! the kept ones with why.
//!
//! Every name, tag, pattern and message in it goes through the run's [`Sanitizer`], so
//! outside text shows as text: it cannot add lines, cells, headings, HTML or the token.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::sanitize::Sanitizer;
use super::{Fate, PackageReport, RunReport, age, kept_because, plural, storage};
use crate::config::{Config, PackageSelector};
use crate::model::image::{Role, describe, short_digest};
use crate::model::outcome::{Outcome, PackageEntry};
use crate::model::untag::TagOutcome;
use crate::model::version::Version;
use crate::policy::rules::{OrderBy, TagState};

/// GitHub drops a step summary over 1 MiB; rows stop well before that.
const MAX_SUMMARY_BYTES: usize = 900_000;

/// Tables longer than this fold into a collapsed `<details>`, so the summary's top (the
/// headline, the warnings, each package's counts) stays on one screen.
const FOLD_ROWS: usize = 50;

/// Render the summary. `owner` is Markdown describing the resolved owner, e.g. "`acme`
/// (organization)", built with `clean`. First the heading and one line of totals, then
/// what stopped or refused the run and the log's `notes` (each said once), what was asked,
/// and a section per package.
pub fn render(
    config: &Config,
    owner: &str,
    report: &RunReport,
    notes: &[String],
    clean: &Sanitizer,
) -> String {
    let mut out = String::new();
    let mode = config.mode.as_str();
    let dry = if config.dry_run {
        " (dry run: nothing was changed)"
    } else {
        ""
    };
    let _ = writeln!(out, "## package-janitor: {mode}{dry}\n");
    let _ = writeln!(
        out,
        "**{}**\n",
        report.headline(config.mode, config.dry_run)
    );
    if let Some(tags) = report.tags_line(config.mode, config.dry_run) {
        let _ = writeln!(out, "**{tags}**\n");
    }
    let totals = report.totals();
    if let Some(note) = &report.plan {
        out.push_str(&super::plan::summary_section(note, clean));
    }
    if let Some(refusal) = &report.refusal {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> {} The tables below say what this run would have done.\n",
            clean.markdown(&refusal.message)
        );
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
            "> [!WARNING]\n> This run stopped early on GitHub's rate limits: {} and {} are left for the next run, oldest done first. Each one's outcome says why.\n",
            plural(totals.left, "version"),
            plural(totals.packages_left, "package")
        );
    }
    for note in notes {
        let _ = writeln!(out, "> [!WARNING]\n> {}\n", clean.markdown(note));
    }
    let _ = writeln!(out, "- **Owner:** {owner}");
    let _ = writeln!(out, "- **Package type:** {}", config.package_type);
    let _ = writeln!(out, "- **Packages:** {}", packages(&config.packages, clean));
    let _ = writeln!(out, "- **Filters:** {}", filters(config, clean));
    if let Some(max) = config.max_versions {
        let _ = writeln!(out, "- **max-versions:** {max}");
    }
    if let Some(max) = config.max_percent {
        let _ = writeln!(out, "- **max-percent:** {max}");
    }
    out.push('\n');
    out.push_str(&storage::cleanup_section(report, config.dry_run, clean));
    let done = if config.dry_run {
        format!("would {mode}")
    } else {
        config.mode.past_tense().to_string()
    };
    let words = Words {
        rules: !config.policy.rules.is_empty(),
        done: &done,
        would: &format!("would {mode}"),
    };
    let mut rows_left = report.entries().count();
    for package in &report.packages {
        package_section(&mut out, package, report, &words, &mut rows_left, clean);
    }
    out
}

/// What every package's section says the same way.
struct Words<'a> {
    /// Whether the policy is the `rules` input: each package then gets its rules table.
    rules: bool,
    /// What was done: `deleted`, `would delete`.
    done: &'a str,
    /// What would have been done: `would delete`, `would restore`.
    would: &'a str,
}

/// `rows_left` counts the table rows of selected versions still to write over all
/// packages; it drops to zero once the summary is full, and later packages then get their
/// counts only. With `rules`, a table per rule comes first. The kept versions follow,
/// collapsed.
fn package_section(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    words: &Words<'_>,
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
    let kept = if package.kept.is_empty() {
        "none kept".to_string()
    } else {
        kept_because(&package.kept)
    };
    let _ = writeln!(
        out,
        "{} listed · {} selected · {kept}\n",
        package.listed,
        package.entries.len()
    );
    unreadable_table(out, package, report, words.done, clean);
    if words.rules {
        rules_section(out, package, words.done, clean);
    }
    if !package.entries.is_empty() && *rows_left > 0 {
        selected_table(out, package, report, words.would, rows_left, clean);
    }
    if !package.tags.is_empty() {
        tags_table(out, package, clean);
    }
    kept_table(out, package, report, clean);
}

/// The tags `untag` removed (or `restore-tags` put back), one row each, with the image
/// (its version id, digest and the tags it was listed with); folded when long. The rows
/// stop, with a note, when the summary nears GitHub's limit.
fn tags_table(out: &mut String, package: &PackageReport, clean: &Sanitizer) {
    let count = package.tags.len();
    let folded = count > FOLD_ROWS;
    if folded {
        let _ = writeln!(
            out,
            "<details><summary>{}</summary>\n",
            plural(count, "tag")
        );
    }
    let _ = writeln!(
        out,
        "| tag | image | its tags | outcome |\n|---|---|---|---|"
    );
    for entry in &package.tags {
        if out.len() > MAX_SUMMARY_BYTES {
            let _ = writeln!(
                out,
                "\n_More rows are not shown, to keep the summary under GitHub's 1 MiB limit; the `json` output lists every tag._"
            );
            break;
        }
        let image = match entry.id {
            Some(id) => format!("{id} {}", short_digest(&entry.digest)),
            None => short_digest(&entry.digest),
        };
        let placeholder = entry
            .placeholder
            .filter(|_| matches!(entry.outcome, TagOutcome::Failed(_)))
            .map(|id| format!(" (placeholder version {id})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}{placeholder} |",
            clean.code(&entry.tag),
            clean.markdown(&image),
            clean.markdown(&entry.tags.join(", ")),
            clean.markdown(&entry.outcome.to_string())
        );
    }
    out.push('\n');
    if folded {
        out.push_str("</details>\n\n");
    }
}

/// The selected versions, images with what went with them beneath; folded when long.
/// Rows a refusal held back say `would` instead.
fn selected_table(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    would: &str,
    rows_left: &mut usize,
    clean: &Sanitizer,
) {
    let count = package.entries.len();
    let folded = count > FOLD_ROWS;
    if folded {
        let _ = writeln!(
            out,
            "<details><summary>{} selected</summary>\n",
            plural(count, "version")
        );
    }
    let _ = writeln!(
        out,
        "| id | tags / version | age | outcome |\n|---:|---|---|---|"
    );
    let rows = tree(
        &package.entries,
        |entry| entry.version.id,
        |entry| {
            entry
                .relation
                .as_ref()
                .and_then(|r| r.parents.first().copied())
        },
    );
    for (depth, entry) in rows {
        if out.len() > MAX_SUMMARY_BYTES {
            let _ = writeln!(
                out,
                "\n_{rows_left} more rows are not shown, to keep the summary under GitHub's 1 MiB limit; the `json` output lists every version._"
            );
            *rows_left = 0;
            break;
        }
        let version = &entry.version;
        let role = entry.relation.as_ref().map(|relation| &relation.role);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            version.id,
            row_label(version, role, depth, clean),
            if entry.outcome.is_listed(version) {
                age(report.now, version.updated_at)
            } else {
                "—".to_owned()
            },
            outcome_cell(&entry.outcome, report, would, clean)
        );
        *rows_left -= 1;
    }
    out.push('\n');
    if folded {
        out.push_str("</details>\n\n");
    }
}

/// Every version whose manifest could not be read, tagged ones first, each with why: a
/// tagged image the registry cannot serve may be broken. Folded when long.
fn unreadable_table(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    done: &str,
    clean: &Sanitizer,
) {
    let count = package.unreadable_count;
    if count == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "**{} could not be read.** A tagged image whose manifest the registry cannot serve may be broken. A version whose manifest was not read is kept, unless `version-ids` names it.\n",
        plural(count, "manifest")
    );
    if out.len() > MAX_SUMMARY_BYTES {
        return;
    }
    let folded = count > FOLD_ROWS;
    if folded {
        let _ = writeln!(
            out,
            "<details><summary>{} that could not be read</summary>\n",
            plural(count, "manifest")
        );
    }
    let _ = writeln!(
        out,
        "| id | tags / version | age | why | in this run |\n|---:|---|---|---|---|"
    );
    let mut shown = 0;
    for unreadable in &package.unreadable {
        if out.len() > MAX_SUMMARY_BYTES {
            break;
        }
        let version = &unreadable.version;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            version.id,
            clean.markdown(&describe(version)),
            age(report.now, version.updated_at),
            clean.markdown(&unreadable.why),
            if unreadable.kept { "kept" } else { done }
        );
        shown += 1;
    }
    if shown < count {
        let _ = writeln!(
            out,
            "\n_{} more are not listed._",
            plural(count - shown, "unreadable manifest")
        );
    }
    out.push('\n');
    if folded {
        out.push_str("</details>\n\n");
    }
}

/// Every kept version with why, in a collapsed `<details>`: a kept image with its
/// platform manifests and artifacts beneath it.
fn kept_table(out: &mut String, package: &PackageReport, report: &RunReport, clean: &Sanitizer) {
    let count = package.kept_count();
    if count == 0 {
        return;
    }
    if out.len() > MAX_SUMMARY_BYTES {
        let _ = writeln!(
            out,
            "_{} are not listed, to keep the summary under GitHub's 1 MiB limit._\n",
            plural(count, "kept version")
        );
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>{}, and why</summary>\n\n| id | tags / version | age | kept because |\n|---:|---|---|---|",
        plural(count, "kept version")
    );
    let kept = &package.kept_versions;
    let rows = tree(
        kept,
        |kept| kept.version.id,
        |kept| kept.image.as_ref().map(|(parent, _)| *parent),
    );
    let mut shown = 0;
    for (depth, kept) in rows {
        if out.len() > MAX_SUMMARY_BYTES {
            break;
        }
        let role = kept.image.as_ref().map(|(_, role)| role);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            kept.version.id,
            row_label(&kept.version, role, depth, clean),
            age(report.now, kept.version.updated_at),
            clean.markdown(&kept.reason)
        );
        shown += 1;
    }
    if shown < count {
        let _ = writeln!(
            out,
            "\n_{} more are not listed._",
            plural(count - shown, "kept version")
        );
    }
    out.push_str("\n</details>\n\n");
}

/// A row's name: tags or short digest, and beneath an image, what the version is to it.
fn row_label(version: &Version, role: Option<&Role>, depth: usize, clean: &Sanitizer) -> String {
    match (role, depth) {
        (Some(role), 1..) => format!(
            "{}└ {} · {}",
            "&nbsp;&nbsp;".repeat(depth - 1),
            clean.markdown(role.label()),
            clean.markdown(&describe(version))
        ),
        _ => clean.markdown(&describe(version)),
    }
}

/// An outcome cell. A refusal is said once above the tables, so the rows it held back say
/// what would have happened (`would` is `would delete` or `would restore`).
fn outcome_cell(outcome: &Outcome, report: &RunReport, would: &str, clean: &Sanitizer) -> String {
    match (outcome, &report.refusal) {
        (Outcome::Skipped(reason), Some(refusal)) if *reason == refusal.message => {
            would.to_string()
        }
        _ => clean.markdown(&outcome.to_string()),
    }
}

/// Per rule: how many versions pass its filters, then what became of the versions it
/// decided, each counted once, so that the columns add up to the package's totals (the
/// last row). A line under the table says what each column means.
fn rules_section(out: &mut String, package: &PackageReport, done: &str, clean: &Sanitizer) {
    let _ = writeln!(
        out,
        "| rule | matched | kept | selected | {done} |\n|---|---:|---:|---:|---:|"
    );
    let mut total = Fate::default();
    for (number, rule) in package.rules.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} |",
            number + 1,
            clean.markdown(&rule.label),
            rule.matched,
            rule.fate.kept,
            rule.fate.selected,
            rule.fate.acted_on
        );
        total = total.plus(rule.fate);
    }
    let outside = package.outside_rules;
    if outside != Fate::default() {
        let _ = writeln!(
            out,
            "| no rule | | {} | {} | {} |",
            outside.kept, outside.selected, outside.acted_on
        );
    }
    total = total.plus(outside);
    let _ = writeln!(
        out,
        "| **all** | | **{}** | **{}** | **{}** |\n",
        total.kept, total.selected, total.acted_on
    );
    let _ = writeln!(
        out,
        "_Each version counts once, under the rule that decided it: the first rule that keeps it, else the first that selects it; the parts of an image count under the image's rule. **no rule**: kept by the global filters, or matching no rule. **kept** and **selected** add up to the package's totals; **{done}** is the part of **selected** that was {done_what}. **matched** counts the versions that pass a rule's own filters, whatever the global filters and the other rules say, so a version several rules match counts under each._\n",
        done_what = if done.starts_with("would") {
            "planned"
        } else {
            "done"
        },
    );
}

/// What happened to the package itself, when it was acted on as a whole.
fn whole_line(whole: &PackageEntry, clean: &Sanitizer) -> String {
    let versions = plural(whole.version_ids.len(), "version");
    let what = match &whole.outcome {
        Outcome::Deleted => format!(
            "deleted with its package: the policy selected every active version ({versions}), so the package itself was deleted, in one request"
        ),
        Outcome::WouldDeletePackage => {
            format!("would delete the package, with every active version ({versions})")
        }
        Outcome::Restored => {
            format!("the package had been deleted and was restored; {versions} came back with it")
        }
        other => format!("{other} ({})", whole.reason),
    };
    format!("**Whole package:** {}", clean.markdown(&what))
}

/// Items with their depth in the image tree: an image, then what goes with it (platform
/// manifests, attestations, signatures) beneath it, in the items' order. An item whose
/// parent is not among the items is shown at the top level.
pub(super) fn tree<T>(
    items: &[T],
    id: impl Fn(&T) -> u64,
    parent: impl Fn(&T) -> Option<u64>,
) -> Vec<(usize, &T)> {
    let ids: HashSet<u64> = items.iter().map(&id).collect();
    let mut children: HashMap<u64, Vec<&T>> = HashMap::new();
    let mut roots = Vec::new();
    for item in items {
        match parent(item).filter(|parent| ids.contains(parent) && *parent != id(item)) {
            Some(parent) => children.entry(parent).or_default().push(item),
            None => roots.push(item),
        }
    }
    let mut shown = HashSet::new();
    let mut rows = Vec::with_capacity(items.len());
    let mut stack: Vec<(usize, &T)> = roots.into_iter().rev().map(|item| (0, item)).collect();
    while let Some((depth, item)) = stack.pop() {
        if !shown.insert(id(item)) {
            continue;
        }
        rows.push((depth, item));
        for child in children.get(&id(item)).into_iter().flatten().rev() {
            stack.push((depth + 1, child));
        }
    }
    // Items only reachable through a reference cycle (never from a real registry).
    rows.extend(
        items
            .iter()
            .filter(|item| !shown.contains(&id(item)))
            .map(|item| (0, item)),
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
    if policy.order_by == OrderBy::Version {
        parts.push("order-by version".to_string());
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
        parts.push(format!("version-ids ({})", plural(ids.len(), "id")));
    }
    if config.delete_orphans {
        parts.push("delete-orphans".to_string());
    }
    if let Some(patterns) = &config.keep_referenced {
        let patterns: Vec<String> = patterns.texts().iter().map(|p| clean.code(p)).collect();
        parts.push(format!("keep-referenced {}", patterns.join(", ")));
    }
    if config.untag {
        parts.push("untag".to_string());
    }
    if let Some(tags) = &config.restore_tags {
        parts.push(format!("restore-tags ({})", plural(tags.len(), "tag")));
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
    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::model::image::Relation;
    use crate::model::outcome::Entry;
    use crate::report::KeptVersion;
    use crate::testing::image_at;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn version(id: u64, tags: &[&str]) -> Version {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        image_at(id, tags, at)
    }

    fn entry(id: u64, tags: &[&str], parent: Option<(u64, Role)>) -> Entry {
        Entry {
            version: version(id, tags),
            outcome: Outcome::Deleted,
            relation: parent.map(|(parent, role)| Relation {
                parents: vec![parent],
                role,
            }),
            reason: "matches the policy".to_string(),
            rule: Some("#1".to_string()),
        }
    }

    fn kept(id: u64, tags: &[&str], reason: &str, image: Option<(u64, Role)>) -> KeptVersion {
        KeptVersion {
            version: version(id, tags),
            reason: reason.to_string(),
            image,
        }
    }

    fn package(name: &str, entries: Vec<Entry>, kept_versions: Vec<KeptVersion>) -> PackageReport {
        let mut kept = BTreeMap::new();
        if !kept_versions.is_empty() {
            kept.insert("older-than", kept_versions.len());
        }
        PackageReport {
            name: name.to_string(),
            listed: entries.len() + kept_versions.len(),
            kept,
            rules: Vec::new(),
            outside_rules: Fate::default(),
            kept_versions,
            entries,
            referenced: Vec::new(),
            error: None,
            left: None,
            whole: None,
            undecided: 0,
            storage: None,
            unreadable: Vec::new(),
            unreadable_count: 0,
            tags: Vec::new(),
        }
    }

    fn run(packages: Vec<PackageReport>) -> RunReport {
        RunReport {
            packages,
            refusal: None,
            stopped: None,
            interrupted: None,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            plan: None,
        }
    }

    fn config(inputs: &[(&str, &str)]) -> Config {
        Config::from_env(|name| match name {
            "INPUT_TOKEN" => Some("ghp_summary_token".to_string()),
            "INPUT_PACKAGES" => Some("app".to_string()),
            "GITHUB_REPOSITORY_OWNER" => Some("acme".to_string()),
            _ => inputs
                .iter()
                .find(|(input, _)| *input == name)
                .map(|(_, value)| value.to_string()),
        })
        .expect("valid inputs")
    }

    fn rendered(config: &Config, report: &RunReport) -> String {
        render(
            config,
            "`acme`",
            report,
            &[],
            &Sanitizer::new("ghp_summary_token"),
        )
    }

    /// Rows of the tables, header rows left out.
    fn rows(markdown: &str) -> Vec<&str> {
        markdown
            .lines()
            .filter(|line| line.starts_with("| ") && !line.starts_with("| id"))
            .collect()
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
        let rows: Vec<(usize, u64)> = tree(
            &entries,
            |entry| entry.version.id,
            |entry| entry.relation.as_ref().map(|r| r.parents[0]),
        )
        .into_iter()
        .map(|(depth, entry)| (depth, entry.version.id))
        .collect();
        assert_eq!(rows, vec![(0, 9), (0, 1), (1, 3), (2, 5), (1, 2), (0, 4)]);
    }

    #[test]
    fn the_first_line_after_the_heading_is_the_headline_in_each_mode() {
        let one = run(vec![package("app", vec![entry(1, &["v1"], None)], vec![])]);
        let cases = [
            (
                config(&[]),
                "## package-janitor: delete",
                "**1 selected, 1 deleted (1 version listed in 1 package)**",
            ),
            (
                config(&[("INPUT_DRY-RUN", "true")]),
                "## package-janitor: delete (dry run: nothing was changed)",
                "**1 selected, 1 would be deleted (1 version listed in 1 package)**",
            ),
            (
                config(&[("INPUT_MODE", "restore")]),
                "## package-janitor: restore",
                "**1 selected, 1 restored (1 deleted version listed in 1 package)**",
            ),
        ];
        for (config, heading, headline) in cases {
            let markdown = rendered(&config, &one);
            let lines: Vec<&str> = markdown.lines().filter(|l| !l.is_empty()).collect();
            assert_eq!(lines[..2], [heading, headline], "{markdown}");
        }
    }

    #[test]
    fn kept_versions_are_listed_collapsed_with_why_and_kept_images_with_their_children() {
        let amd64 = Role::Platform("linux/amd64".into());
        let report = run(vec![package(
            "app",
            vec![entry(1, &[], None)],
            vec![
                kept(10, &["v1.2.0"], "kept by keep-latest (#1 newest)", None),
                kept(12, &[], "linux/amd64 of kept image", Some((10, amd64))),
                kept(11, &["edge"], "updated more recently than older-than", None),
            ],
        )]);
        let markdown = rendered(&config(&[]), &report);
        let details = markdown
            .find("<details><summary>3 kept versions, and why</summary>")
            .unwrap_or_else(|| panic!("no kept list in\n{markdown}"));
        let kept_rows: Vec<&str> = rows(&markdown[details..]);
        assert_eq!(
            kept_rows,
            [
                "| 10 | v1.2.0 | 1157d | kept by keep-latest (\\#1 newest) |",
                "| 12 | └ linux/amd64 · sha256:000000000000… | 1157d | linux/amd64 of kept image |",
                "| 11 | edge | 1157d | updated more recently than older-than |",
            ],
            "{markdown}"
        );
        assert!(markdown[details..].contains("</details>"), "{markdown}");
        assert!(
            markdown.contains("4 listed · 1 selected · kept because of older-than: 3"),
            "{markdown}"
        );
    }

    #[test]
    fn tables_longer_than_fifty_rows_fold_and_shorter_ones_do_not() {
        for (count, folded) in [(FOLD_ROWS, false), (FOLD_ROWS + 1, true)] {
            let entries = (1..=count as u64).map(|id| entry(id, &[], None)).collect();
            let markdown = rendered(&config(&[]), &run(vec![package("app", entries, vec![])]));
            let fold = format!("<details><summary>{count} versions selected</summary>");
            assert_eq!(
                markdown.contains(&fold),
                folded,
                "{count} rows:\n{markdown}"
            );
            assert_eq!(markdown.contains("</details>"), folded, "{markdown}");
            assert_eq!(rows(&markdown).len(), count);
        }
    }

    #[test]
    fn a_refusal_is_said_once_above_the_table_and_its_rows_say_what_would_have_happened() {
        let refusal = "3 versions would be affected, more than max-versions (2): nothing was changed. Narrow the filters or raise max-versions.";
        let entries = (1..=3)
            .map(|id| Entry {
                outcome: Outcome::Skipped(refusal.to_string()),
                ..entry(id, &[], None)
            })
            .collect();
        let report = RunReport {
            refusal: Some(crate::report::Refusal {
                input: "max-versions",
                message: refusal.to_string(),
            }),
            ..run(vec![package("app", entries, vec![])])
        };
        let markdown = rendered(&config(&[("INPUT_MAX-VERSIONS", "2")]), &report);
        assert_eq!(markdown.matches("more than max-versions (2)").count(), 1);
        let caution = markdown.find("[!CAUTION]").expect("refusal shown");
        let table = markdown.find("| id |").expect("table shown");
        assert!(caution < table, "{markdown}");
        assert_eq!(markdown.matches("Narrow the filters").count(), 1);
        let rows = rows(&markdown);
        assert_eq!(rows.len(), 3, "{markdown}");
        for row in rows {
            assert!(row.ends_with("| would delete |"), "{row}");
        }
    }

    #[test]
    fn a_note_from_the_log_is_said_once_above_the_tables_as_text() {
        let report = run(vec![package("app", vec![entry(1, &[], None)], vec![])]);
        let note =
            "acme/app: no manifest could be read from https://ghcr.io\n# not a heading".to_string();
        let markdown = render(
            &config(&[]),
            "`acme`",
            &report,
            &[note],
            &Sanitizer::default(),
        );
        let warning = "> [!WARNING]\n> acme/app: no manifest could be read from https://ghcr.io\\\\n\\# not a heading\n";
        assert_eq!(markdown.matches(warning).count(), 1, "{markdown}");
        let table = markdown.find("| id |").expect("table shown");
        assert!(markdown.find(warning).is_some_and(|at| at < table));
    }

    #[test]
    fn digests_are_short_everywhere_and_an_artifact_row_shows_its_tag() {
        let signature = format!("sha256-{HEX}.sig");
        let mut image = entry(1, &[], None);
        image.version.name = format!("sha256:{HEX}");
        let report = run(vec![package(
            "app",
            vec![
                image,
                entry(2, &[&signature], Some((1, Role::Signature))),
                entry(3, &[], Some((1, Role::Attestation))),
            ],
            vec![],
        )]);
        let markdown = rendered(&config(&[]), &report);
        assert_eq!(
            rows(&markdown),
            [
                "| 1 | sha256:0123456789ab… | 1157d | deleted |",
                "| 2 | └ signature · sha256-0123456789ab….sig | 1157d | deleted |",
                "| 3 | └ attestation · sha256:000000000000… | 1157d | deleted |",
            ],
            "{markdown}"
        );
        assert!(!markdown.contains(HEX), "a full digest in\n{markdown}");
    }

    #[test]
    fn hostile_names_and_messages_add_no_line_and_an_interrupted_run_says_so() {
        let mut hostile = entry(1, &["v1\n**Totals:** 0 listed", "<!--"], None);
        hostile.outcome = Outcome::Failed("# heading\n| fake | row |".to_string());
        let report = RunReport {
            interrupted: Some("cancelled\n<!--".to_string()),
            ..run(vec![package("app\n<!--\n## fake", vec![hostile], vec![])])
        };
        let markdown = rendered(&config(&[]), &report);
        let lines: Vec<&str> = markdown.lines().collect();
        assert!(
            !lines.iter().any(|l| l.starts_with("**Totals:**")),
            "{markdown}"
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
        let total = 30_000;
        let entries: Vec<Entry> = (1..=total).map(|id| entry(id, &[], None)).collect();
        let markdown = rendered(&config(&[]), &run(vec![package("app", entries, vec![])]));
        assert!(markdown.len() < 1024 * 1024, "{} bytes", markdown.len());
        let shown = rows(&markdown).len() as u64;
        let note = format!("_{} more rows are not shown", total - shown);
        assert!(markdown.contains(&note), "expected {note}");
        assert!(markdown.contains("</details>"), "the fold is closed");
        assert!(
            shown > 1_000,
            "the table is cut late, not early: {shown} rows"
        );
    }
}
