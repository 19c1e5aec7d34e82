//! What a run reads from the runner besides its inputs: file-command paths, the event, the
//! clock, and a cancel.

use std::path::PathBuf;
use std::time::SystemTime;

use super::cancel::Cancel;
use crate::report::publish::Files;
use crate::report::terminal::Print;

/// What the run reads from the runner besides its inputs.
#[derive(Debug, Clone)]
pub struct Environment {
    pub output_path: Option<PathBuf>,
    pub summary_path: Option<PathBuf>,
    pub event_path: Option<PathBuf>,
    /// The only folder the run writes files in (`state-file`): `GITHUB_WORKSPACE`, or the
    /// working directory outside Actions.
    pub workspace: PathBuf,
    pub now: SystemTime,
    /// Set when the runner cancels the job (SIGTERM/SIGINT).
    pub cancel: Cancel,
    /// How the report is printed on stdout, if it is (outside Actions, or `--format`).
    pub print: Option<Print>,
    /// Names this run in what it pushes (`untag`'s placeholders): `GITHUB_RUN_ID` and
    /// `GITHUB_RUN_ATTEMPT` when the runner sets them, then the process id and the start
    /// time, so that no two runs, not even two attempts of one, push the same bytes.
    pub run_id: String,
}

impl Environment {
    pub fn from_process() -> Environment {
        let now = SystemTime::now();
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        Environment {
            output_path: path("GITHUB_OUTPUT"),
            summary_path: path("GITHUB_STEP_SUMMARY"),
            event_path: path("GITHUB_EVENT_PATH"),
            workspace: path("GITHUB_WORKSPACE")
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_else(|| PathBuf::from(".")),
            now,
            cancel: Cancel::default(),
            print: None,
            run_id: run_id(
                std::env::var("GITHUB_RUN_ID").ok(),
                std::env::var("GITHUB_RUN_ATTEMPT").ok(),
                now,
            ),
        }
    }

    /// Where outputs and the summary go: the runner's files, or the log outside Actions.
    pub fn files(&self) -> Files<'_> {
        Files {
            outputs: self.output_path.as_deref(),
            summary: self.summary_path.as_deref(),
        }
    }
}

/// `<run id>.<attempt>/<process id>-<start in ns>`, or `local/…` outside Actions. Only
/// digits of the runner's values are kept: the id goes into pushed annotations.
fn run_id(run: Option<String>, attempt: Option<String>, now: SystemTime) -> String {
    let digits = |value: Option<String>| {
        value
            .map(|value| {
                value
                    .chars()
                    .filter(char::is_ascii_digit)
                    .take(20)
                    .collect()
            })
            .filter(|value: &String| !value.is_empty())
    };
    let started = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or(0);
    let process = std::process::id();
    match (digits(run), digits(attempt)) {
        (Some(run), Some(attempt)) => format!("{run}.{attempt}/{process}-{started}"),
        (Some(run), None) => format!("{run}/{process}-{started}"),
        _ => format!("local/{process}-{started}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_id_names_the_runners_run_and_attempt_and_keeps_only_their_digits() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(5);
        let process = std::process::id();
        let cases = [
            (Some("123"), Some("2"), format!("123.2/{process}-5")),
            (Some("123"), None, format!("123/{process}-5")),
            (Some("12\n::x3"), Some("a"), format!("123/{process}-5")),
            (None, Some("2"), format!("local/{process}-5")),
        ];
        for (run, attempt, expected) in cases {
            assert_eq!(
                run_id(run.map(str::to_string), attempt.map(str::to_string), at),
                expected
            );
        }
    }
}
