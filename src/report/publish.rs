//! The one writer of a run's outputs and step summary: appended to the files the runner names
//! (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`), or printed to the log when the run is not under
//! Actions; and of the report printed on stdout for a person or a script
//! ([`super::terminal::Print`]), which then stands in for the log's copies. Cleanup,
//! restore, audit and verify all publish through it.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::log::Log;

/// GitHub drops an output over 1 MB: lists and arrays stop short of it, with room to spare, at
/// a whole entry.
pub const MAX_OUTPUT_BYTES: usize = 900_000;

/// The files the runner appends outputs and the summary to; `None` outside Actions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Files<'a> {
    pub outputs: Option<&'a Path>,
    pub summary: Option<&'a Path>,
}

/// Warn, once per output, that `names` were cut short at [`MAX_OUTPUT_BYTES`]. Called before
/// the summary is rendered, which shows the run's warnings.
pub fn warn_cut_short<W: Write>(names: &[&str], log: &mut Log<W>) {
    for name in names {
        log.warning(&format!(
            "output `{name}` was cut short to stay under GitHub's 1 MB limit per output"
        ));
    }
}

/// What writing the outputs and the summary came to. Each is written even when the other
/// cannot be, and the run reports the failures once it has logged the rest.
#[must_use = "a failure to write the outputs or the summary must fail the run"]
pub struct Published {
    outputs: anyhow::Result<()>,
    summary: anyhow::Result<()>,
}

impl Published {
    /// The first failure, if any; when both failed, the second is logged as an error first.
    pub fn result<W: Write>(self, log: &mut Log<W>) -> anyhow::Result<()> {
        if let (Err(_), Err(err)) = (&self.outputs, &self.summary) {
            log.error(&format!("{err:#}"));
        }
        self.outputs.and(self.summary)
    }
}

/// Append `outputs` (in `GITHUB_OUTPUT`'s format) and `markdown` to their files, or print each
/// in a log group when its file is not set.
pub fn publish<W: Write>(
    files: Files<'_>,
    outputs: &str,
    markdown: &str,
    log: &mut Log<W>,
) -> Published {
    Published {
        outputs: write_or_print(files.outputs, "GITHUB_OUTPUT", "outputs", outputs, log),
        summary: write_or_print(
            files.summary,
            "GITHUB_STEP_SUMMARY",
            "summary",
            markdown,
            log,
        ),
    }
}

/// Print `report` on `out` (stdout: the report for a person or a script, already made safe
/// by [`super::text`] or the sanitizer), then append `outputs` and `markdown` to the files
/// that are set; one that is not is skipped, since the printed report stands in for it. A
/// report that cannot be printed (a closed pipe) is said in the log.
pub fn publish_printed<W: Write>(
    files: Files<'_>,
    outputs: &str,
    markdown: &str,
    report: &str,
    out: &mut impl Write,
    log: &mut Log<W>,
) -> Published {
    if let Err(err) = out.write_all(report.as_bytes()).and_then(|()| out.flush()) {
        log.warning(&format!("the report could not be printed on stdout: {err}"));
    }
    let written = |path: Option<&Path>, variable: &str, text: &str| match path {
        Some(path) => write(path, variable, text),
        None => Ok(()),
    };
    Published {
        outputs: written(files.outputs, "GITHUB_OUTPUT", outputs),
        summary: written(files.summary, "GITHUB_STEP_SUMMARY", markdown),
    }
}

fn write_or_print<W: Write>(
    path: Option<&Path>,
    variable: &str,
    what: &str,
    text: &str,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let Some(path) = path else {
        log.group(&format!("{what} ({variable} is not set)"));
        log.block(text);
        log.end_group();
        return Ok(());
    };
    write(path, variable, text)
}

/// Append `text` to the file at `path`, which `variable` named.
fn write(path: &Path, variable: &str, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {variable} file {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {variable} file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Log<Vec<u8>> {
        Log::new(Vec::new())
    }

    fn text(log: Log<Vec<u8>>) -> String {
        String::from_utf8(log.into_inner()).unwrap_or_default()
    }

    #[test]
    fn outputs_and_summary_are_appended_to_their_files_and_never_printed() {
        let dir = std::env::temp_dir().join(format!("pj-publish-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (outputs, summary) = (dir.join("output"), dir.join("summary"));
        std::fs::write(&outputs, "earlier=1\n").expect("an earlier step's output");
        let files = Files {
            outputs: Some(&outputs),
            summary: Some(&summary),
        };
        let mut log = log();
        for run in ["a", "b"] {
            let published = publish(
                files,
                &format!("ids={run}\n"),
                &format!("# {run}\n"),
                &mut log,
            );
            published.result(&mut log).expect("both written");
        }
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(read(&outputs), "earlier=1\nids=a\nids=b\n");
        assert_eq!(read(&summary), "# a\n# b\n");
        assert_eq!(text(log), "");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn outside_actions_outputs_and_summary_are_printed_each_in_a_group() {
        let mut log = log();
        publish(
            Files::default(),
            "ids=1\ncount=1\n",
            "# Cleaned\n",
            &mut log,
        )
        .result(&mut log)
        .expect("printing cannot fail");
        assert_eq!(
            text(log),
            "::group::outputs (GITHUB_OUTPUT is not set)\nids=1\ncount=1\n::endgroup::\n\
             ::group::summary (GITHUB_STEP_SUMMARY is not set)\n# Cleaned\n::endgroup::\n"
        );
    }

    #[test]
    fn when_both_files_fail_the_outputs_error_is_returned_and_the_summarys_logged() {
        let missing = std::env::temp_dir()
            .join(format!("pj-publish-missing-{}", std::process::id()))
            .join("no-such-dir");
        let (outputs, summary) = (missing.join("output"), missing.join("summary"));
        let mut log = log();
        let files = Files {
            outputs: Some(&outputs),
            summary: Some(&summary),
        };
        let err = publish(files, "ids=1\n", "# x\n", &mut log)
            .result(&mut log)
            .expect_err("neither file can be opened");
        assert!(
            format!("{err:#}").contains("cannot open GITHUB_OUTPUT file"),
            "{err:#}"
        );
        let logged = text(log);
        assert!(logged.starts_with("::error::"), "{logged}");
        assert!(
            logged.contains("cannot open GITHUB_STEP_SUMMARY file"),
            "{logged}"
        );
        assert_eq!(logged.lines().count(), 1, "{logged}");
    }

    #[test]
    fn a_printed_report_goes_to_its_stream_alone_and_the_files_that_are_set_still_get_theirs() {
        let dir = std::env::temp_dir().join(format!("pj-publish-printed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let summary = dir.join("summary");
        let files = Files {
            outputs: None,
            summary: Some(&summary),
        };
        let mut log = log();
        let mut out = Vec::new();
        publish_printed(
            files,
            "ids=1\n",
            "# summary\n",
            "report\n",
            &mut out,
            &mut log,
        )
        .result(&mut log)
        .expect("written");
        assert_eq!(String::from_utf8_lossy(&out), "report\n");
        assert_eq!(
            std::fs::read_to_string(&summary).unwrap_or_default(),
            "# summary\n"
        );
        assert_eq!(text(log), "", "no group of outputs or summary in the log");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_output_cut_short_is_warned_about_once() {
        let mut log = log();
        warn_cut_short(&["json", "ids"], &mut log);
        let logged = text(log);
        assert_eq!(logged.lines().count(), 2, "{logged}");
        assert!(
            logged.contains(
                "output `json` was cut short to stay under GitHub's 1 MB limit per output"
            )
        );
        assert!(logged.contains("output `ids` was cut short"));
    }
}
