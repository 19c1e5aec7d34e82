//! The run state file (`state-file`) around a run: loaded before listing, recorded and
//! saved after finishing. It says where to look and how far a listing got; it never
//! decides what is deleted (the phases decide on what this run read).

use std::path::Path;

use crate::config::Config;
use crate::model::outcome::Outcome;
use crate::model::version::PackageType;
use crate::report::PackageReport;
use crate::report::log::Log;
use crate::state::RunState;

use super::environment::Environment;

/// The state the last run saved, when `state-file` is set; one that cannot be used is
/// replaced by an empty one, with a warning.
pub fn load<W: std::io::Write>(config: &Config, log: &mut Log<W>) -> Option<RunState> {
    config.state_file.as_ref().map(|path| {
        let loaded = RunState::load(path, &config.api_url, &config.owner);
        if let Some(warning) = &loaded.warning {
            log.warning(warning);
        }
        loaded.state
    })
}

/// Record which packages this run finished, and write the state for the next run, inside
/// the workspace only. A state that cannot be written only costs the next run this run's
/// progress.
pub fn save<W: std::io::Write>(
    state: &mut RunState,
    path: &Path,
    env: &Environment,
    package_type: PackageType,
    packages: &[PackageReport],
    log: &mut Log<W>,
) {
    let names: Vec<String> = packages
        .iter()
        .map(|package| package.name.clone())
        .collect();
    let done: Vec<String> = packages
        .iter()
        .filter(|package| {
            package.left.is_none()
                && package.error.is_none()
                && !package
                    .entries
                    .iter()
                    .any(|entry| matches!(entry.outcome, Outcome::Left(_)))
        })
        .map(|package| package.name.clone())
        .collect();
    state.record_finished(package_type, &names, &done);
    if let Err(err) = state.save(path, &env.workspace) {
        log.warning(&format!(
            "input `state-file`: this run's state was not saved, so the next run cannot carry on from it: {err:#}"
        ));
    }
}
