//! A plan as Markdown, fit for a sticky pull-request comment or a job summary, and what a
//! run's summary and log say of a plan: written by a dry run, or applied, with how what was
//! done compares with what was planned.
//!
//! Every name, tag, reason and input from the plan goes through the run's [`Sanitizer`]:
//! the plan is data from the registry and from whoever wrote the file, so nothing in it can
//! add a line, a cell, a heading, HTML or a comment that hides the rest. The Markdown stays
//! under [`MAX_MARKDOWN_BYTES`] whatever the plan holds; a table longer than [`FOLD_ROWS`]
//! folds into a collapsed `<details>`.

use std::fmt::Write as _;

use super::plan_note::PlanNote;
use super::sanitize::Sanitizer;
use super::{plural, timestamp};
use crate::model::image::{describe, short_digest};
use crate::model::plan_file::{PlanFile, PlannedPackage, PolicyInputs};

/// GitHub keeps at most 65,536 characters of a comment; the plan stays well under it.
pub const MAX_MARKDOWN_BYTES: usize = 60_000;

/// The first line of a plan's Markdown: a workflow finds its earlier sticky comment by it.
pub const MARKER: &str = "<!-- package-janitor plan -->";

/// Tables longer than this fold into a collapsed `<details>`.
const FOLD_ROWS: usize = 50;

/// Room kept for what closes the Markdown (an open `<details>`, the note on rows left out).
const RESERVE: usize = 1_000;

/// Package names of the `packages` input shown before the rest are counted.
const INPUTS_SHOWN: usize = 20;

/// Render `plan` as Markdown: a heading with the count, who and what it is for, the policy,
/// then per package the versions to delete (folded past [`FOLD_ROWS`]) and, collapsed,
/// what it keeps and why.
pub fn render(plan: &PlanFile, clean: &Sanitizer) -> String {
    let mut out = Bounded {
        out: String::new(),
        limit: MAX_MARKDOWN_BYTES - RESERVE,
        full: false,
    };
    let packages_planned = plan
        .packages
        .iter()
        .filter(|package| !package.delete.is_empty())
        .count();
    out.push(&format!(
        "{MARKER}\n## package-janitor plan: {} to delete in {}\n\n",
        plural(plan.deletions(), "version"),
        plural(packages_planned, "package")
    ));
    out.push(&format!(
        "- **Owner:** {} on {}\n- **Packages:** {} {}\n- **Made:** {} · **expires:** {}\n- **Policy:** {} · fingerprint {}\n",
        clean.code(&plan.owner),
        clean.code(&plan.api_url),
        plan.package_type,
        inputs_shown(&plan.packages_input, clean),
        timestamp(plan.made_at),
        timestamp(plan.expires_at),
        policy(&plan.policy, clean),
        clean.code(&short_digest(&plan.fingerprint()))
    ));
    out.push(
        "- **Applying it:** a run with the same inputs, without `dry-run`, and `plan-file` naming this plan deletes only these versions, each only if it is unchanged and still selected then.\n\n",
    );
    let total_rows: usize = plan
        .packages
        .iter()
        .map(|package| package.delete.len() + package.kept.versions.len())
        .sum();
    let mut shown = 0;
    for package in &plan.packages {
        shown += package_section(&mut out, package, clean);
    }
    let mut markdown = out.out;
    if shown < total_rows {
        let _ = writeln!(
            markdown,
            "\n_{} of {total_rows} are not shown, to keep this under GitHub's size limit for a comment; the plan file lists every version._",
            plural(total_rows - shown, "row")
        );
    }
    markdown
}

/// Markdown that stops growing once the next piece would pass its limit; what closes an
/// open block is written from the reserve.
struct Bounded {
    out: String,
    limit: usize,
    full: bool,
}

impl Bounded {
    /// Append `text` when it fits, and say whether it did; once something did not fit,
    /// nothing more is appended.
    fn push(&mut self, text: &str) -> bool {
        if self.full || self.out.len() + text.len() > self.limit {
            self.full = true;
            return false;
        }
        self.out.push_str(text);
        true
    }

    /// Append `text` from the reserve, to close what was opened.
    fn close(&mut self, text: &str) {
        self.out.push_str(text);
    }
}

/// One package: a heading with its counts, the versions to delete, then the kept ones
/// collapsed. Returns how many rows it showed.
fn package_section(out: &mut Bounded, package: &PlannedPackage, clean: &Sanitizer) -> usize {
    let heading = format!(
        "### {}: {} to delete · {} kept · {} listed\n\n",
        clean.code(&package.name),
        package.delete.len(),
        package.kept.total,
        package.listed
    );
    if !out.push(&heading) {
        return 0;
    }
    if let Some(why) = &package.not_planned {
        out.push(&format!(
            "**Not planned:** {}: nothing of it is deleted when this plan is applied.\n\n",
            clean.markdown(why)
        ));
        return 0;
    }
    if package.whole {
        out.push("**Whole package:** every version is planned, so the package itself is deleted, with one request (`delete-empty-packages`), if it still holds exactly these versions.\n\n");
    }
    if package.left > 0 {
        out.push(&format!(
            "{} the policy would select were not confirmed by the dry run's reads: not planned.\n\n",
            plural(usize::try_from(package.left).unwrap_or(usize::MAX), "version")
        ));
    }
    let rows = package.delete.iter().map(|entry| {
        let label = match (&entry.parent_id, &entry.role) {
            (Some(parent), Some(role)) => format!(
                "└ {} of {parent} · {}",
                clean.markdown(role),
                clean.markdown(&describe(&entry.version))
            ),
            _ => clean.markdown(&describe(&entry.version)),
        };
        format!(
            "| {} | {label} | {} | {} |\n",
            entry.version.id,
            timestamp(entry.version.updated_at),
            clean.markdown(&entry.reason)
        )
    });
    let mut shown = table(
        out,
        &plural(package.delete.len(), "version"),
        "to delete",
        "| id | tags / version | updated | selected because |\n|---:|---|---|---|\n",
        package.delete.len(),
        rows,
    );
    if package.kept.total > 0 {
        let causes: Vec<String> = package
            .kept
            .by_reason
            .iter()
            .map(|(cause, count)| format!("{}: {count}", clean.markdown(cause)))
            .collect();
        let opened = out.push(&format!(
            "<details><summary>{} kept, and why</summary>\n\nkept because of {}\n\n",
            plural(
                usize::try_from(package.kept.total).unwrap_or(usize::MAX),
                "version"
            ),
            causes.join(", ")
        ));
        if opened {
            let rows = package.kept.versions.iter().map(|row| {
                let label = if row.tags.is_empty() {
                    short_digest(&row.name)
                } else {
                    crate::model::image::short_tags(&row.tags)
                };
                format!(
                    "| {} | {} | {} | {} |\n",
                    row.id,
                    clean.markdown(&label),
                    timestamp(row.updated_at),
                    clean.markdown(&row.reason)
                )
            });
            shown += rows_within(
                out,
                "| id | tags / version | updated | kept because |\n|---:|---|---|---|\n",
                rows,
            );
            let unlisted = package
                .kept
                .total
                .saturating_sub(package.kept.versions.len() as u64);
            if unlisted > 0 {
                out.push(&format!(
                    "\n_{unlisted} more kept versions are only counted._\n"
                ));
            }
            out.close("\n</details>\n\n");
        }
    }
    shown
}

/// A table of `count` rows, folded into `<details>` when longer than [`FOLD_ROWS`]. Returns
/// how many rows fit.
fn table(
    out: &mut Bounded,
    what: &str,
    doing: &str,
    header: &str,
    count: usize,
    rows: impl Iterator<Item = String>,
) -> usize {
    if count == 0 {
        return 0;
    }
    let folded = count > FOLD_ROWS;
    if folded && !out.push(&format!("<details><summary>{what} {doing}</summary>\n\n")) {
        return 0;
    }
    let shown = rows_within(out, header, rows);
    out.close(if folded { "\n</details>\n\n" } else { "\n" });
    shown
}

/// The header, then rows while they fit. Returns how many did.
fn rows_within(out: &mut Bounded, header: &str, rows: impl Iterator<Item = String>) -> usize {
    if !out.push(header) {
        return 0;
    }
    let mut shown = 0;
    for row in rows {
        if !out.push(&row) {
            break;
        }
        shown += 1;
    }
    shown
}

/// The `packages` input as code spans, the first [`INPUTS_SHOWN`] of them.
fn inputs_shown(names: &[String], clean: &Sanitizer) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(INPUTS_SHOWN)
        .map(|name| clean.code(name))
        .collect();
    if names.len() > INPUTS_SHOWN {
        shown.push(format!("and {} more", names.len() - INPUTS_SHOWN));
    }
    shown.join(", ")
}

/// The policy inputs in one line, as the summary's filters read.
fn policy(inputs: &PolicyInputs, clean: &Sanitizer) -> String {
    let mut parts = Vec::new();
    if let Some(regex) = &inputs.tag_regex {
        parts.push(format!("tag-regex {}", clean.code(regex)));
    }
    if let Some(regex) = &inputs.exclude_tag_regex {
        parts.push(format!("exclude-tag-regex {}", clean.code(regex)));
    }
    if let Some(duration) = &inputs.older_than {
        parts.push(format!("older-than {}", clean.markdown(duration)));
    }
    if inputs.tag_state != "any" {
        parts.push(format!("tag-state {}", clean.markdown(&inputs.tag_state)));
    }
    if inputs.keep_latest > 0 {
        parts.push(format!("keep-latest {}", inputs.keep_latest));
    }
    if inputs.order_by != "pushed" {
        parts.push(format!("order-by {}", clean.markdown(&inputs.order_by)));
    }
    if !inputs.rules.is_empty() {
        let labels: Vec<String> = (1..)
            .zip(&inputs.rules)
            .take(INPUTS_SHOWN)
            .map(|(number, rule)| {
                let label = rule.name.clone().unwrap_or_else(|| format!("#{number}"));
                format!("{number} {}", clean.markdown(&label))
            })
            .collect();
        parts.push(format!(
            "{}: {}",
            plural(inputs.rules.len(), "rule"),
            labels.join(", ")
        ));
    }
    if let Some(ids) = &inputs.version_ids {
        parts.push(format!("version-ids ({})", plural(ids.len(), "id")));
    }
    if let Some(patterns) = &inputs.keep_referenced {
        let shown: Vec<String> = patterns
            .iter()
            .take(INPUTS_SHOWN)
            .map(|pattern| clean.code(pattern))
            .collect();
        parts.push(format!("keep-referenced {}", shown.join(", ")));
    }
    if inputs.delete_orphans {
        parts.push("delete-orphans".into());
    }
    if inputs.delete_empty_packages {
        parts.push("delete-empty-packages".into());
    }
    if parts.is_empty() {
        "no filter (every version is selected)".into()
    } else {
        parts.join(" · ")
    }
}

/// The summary's paragraph on the plan, right below the headline.
pub fn summary_section(note: &PlanNote, clean: &Sanitizer) -> String {
    match note {
        PlanNote::Written(written) => format!(
            "> [!NOTE]\n> **Plan written** to {}, its Markdown to {}: {} to delete in {}, policy fingerprint {}, expires {}. A run with the same inputs, without `dry-run`, applies it: it deletes only these versions, each only if unchanged.\n\n",
            clean.code(&written.path),
            clean.code(&written.markdown_path),
            plural(written.deletions, "version"),
            plural(written.packages, "package"),
            clean.code(&short_digest(&written.fingerprint)),
            timestamp(written.expires_at)
        ),
        PlanNote::NotWritten(why) => format!(
            "> [!CAUTION]\n> **No plan was written** to the `plan-file`: {}. Nothing of this dry run can be applied; fix that and run it again.\n\n",
            clean.markdown(why)
        ),
        PlanNote::Applied(comparison) => {
            let made = match (comparison.made_at, comparison.expires_at) {
                (Some(made), Some(expires)) => {
                    format!(
                        ", made {} (expires {})",
                        timestamp(made),
                        timestamp(expires)
                    )
                }
                _ => String::new(),
            };
            format!(
                "> [!NOTE]\n> **Plan applied:** {}{made}: {}.\n\n",
                clean.code(&comparison.path),
                clean.markdown(&comparison.counts())
            )
        }
    }
}

/// The log's line on the plan.
pub fn log_line(note: &PlanNote) -> String {
    match note {
        PlanNote::Written(written) => format!(
            "plan written to {} (Markdown: {}): {} to delete in {}, expires {}",
            written.path,
            written.markdown_path,
            plural(written.deletions, "version"),
            plural(written.packages, "package"),
            timestamp(written.expires_at)
        ),
        PlanNote::NotWritten(why) => format!("input `plan-file`: no plan was written: {why}"),
        PlanNote::Applied(comparison) => {
            format!("plan {} applied: {}", comparison.path, comparison.counts())
        }
    }
}

#[cfg(test)]
mod tests;
