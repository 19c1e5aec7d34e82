//! The Markdown step summary: what was asked, totals, and a table per package.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

use super::{PackageReport, RunReport, age};
use crate::config::{Config, Mode, PackageSelector, TagState};
use crate::execute::describe;

/// GitHub drops a step summary over 1 MiB; rows stop well before that.
const MAX_SUMMARY_BYTES: usize = 900_000;

/// Render the summary. `owner` describes the resolved owner, e.g. "`acme` (organization)".
pub fn render(config: &Config, owner: &str, report: &RunReport) -> String {
    let mut out = String::new();
    let mode = match config.mode {
        Mode::Delete => "delete",
        Mode::Restore => "restore",
    };
    let dry = if config.dry_run {
        " (dry run: nothing was changed)"
    } else {
        ""
    };
    let _ = writeln!(out, "## package-janitor: {mode}{dry}\n");
    let _ = writeln!(out, "- **Owner:** {owner}");
    let _ = writeln!(out, "- **Package type:** {}", config.package_type);
    let _ = writeln!(out, "- **Packages:** {}", packages(&config.packages));
    let _ = writeln!(out, "- **Filters:** {}", filters(config));
    if let Some(max) = config.max_versions {
        let _ = writeln!(out, "- **max-versions:** {max}");
    }
    let totals = report.totals();
    let done = if config.dry_run {
        format!("would {mode}")
    } else {
        format!("{mode}d")
    };
    let _ = writeln!(
        out,
        "\n**Totals:** {} listed · {} selected · {} {done} · {} skipped · {} failed · {} left for the next run\n",
        totals.listed, totals.selected, totals.acted_on, totals.skipped, totals.failed, totals.left
    );
    if let Some(refusal) = &report.refusal {
        let _ = writeln!(out, "> [!CAUTION]\n> {}\n", cell(refusal));
    }
    if let Some(stopped) = &report.stopped {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Stopped before listing: {}. The next run carries on.\n",
            cell(stopped)
        );
    } else if report.cut_short() {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> This run stopped early on GitHub's rate limits: {} versions and {} packages are left for the next run, oldest done first. Each one's outcome says why.\n",
            totals.left, totals.packages_left
        );
    }
    let mut rows_left = report.entries().count();
    for package in &report.packages {
        package_section(&mut out, package, report, &mut rows_left);
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
/// once the summary is full, and later packages then get their headline only.
fn package_section(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    rows_left: &mut usize,
) {
    let _ = writeln!(out, "### `{}`\n", package.name);
    if let Some(error) = &package.error {
        let _ = writeln!(out, "**Not processed:** {}\n", cell(error));
        return;
    }
    if let Some(left) = &package.left {
        let _ = writeln!(out, "**Left for the next run:** {}\n", cell(left));
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
        "{} listed · {} selected · kept by policy: {kept}\n",
        package.listed,
        package.entries.len()
    );
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
    for entry in &package.entries {
        if out.len() > MAX_SUMMARY_BYTES {
            let _ = writeln!(
                out,
                "\n_{rows_left} more rows are not shown, to keep the summary under GitHub's 1 MiB limit; the `json` output lists every version._\n"
            );
            *rows_left = 0;
            return;
        }
        let version = &entry.version;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            version.id,
            cell(&describe(version)),
            age(report.now, version.updated_at),
            cell(&entry.outcome.to_string())
        );
        *rows_left -= 1;
    }
    out.push('\n');
}

fn packages(selectors: &[PackageSelector]) -> String {
    selectors
        .iter()
        .map(|selector| match selector {
            PackageSelector::Exact(name) | PackageSelector::Wildcard(name) => format!("`{name}`"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn filters(config: &Config) -> String {
    let policy = &config.policy;
    let mut parts = Vec::new();
    if let Some(regex) = &policy.tag_regex {
        parts.push(format!("tag-regex `{}`", cell(regex.as_str())));
    }
    if let Some(regex) = &policy.exclude_tag_regex {
        parts.push(format!("exclude-tag-regex `{}`", cell(regex.as_str())));
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
    if let Some(ids) = &policy.version_ids {
        parts.push(format!("version-ids ({} ids)", ids.len()));
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

/// Make text safe inside a Markdown table cell or a one-line quote.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}
