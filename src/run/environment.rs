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
}

impl Environment {
    pub fn from_process() -> Environment {
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
            now: SystemTime::now(),
            cancel: Cancel::default(),
            print: None,
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
