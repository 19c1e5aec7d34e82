//! Entry point: parse the inputs, run once, and turn the result into the exit code.

use std::process::ExitCode;

use package_janitor::config::Config;
use package_janitor::report::log::Log;
use package_janitor::run::{Environment, run};

fn main() -> ExitCode {
    let mut log = Log::stdout();
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(err) => {
            log.error(&err.to_string());
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            log.error(&format!("cannot start the async runtime: {err}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&config, &Environment::from_process(), &mut log)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            log.error(&format!("{err:#}"));
            ExitCode::FAILURE
        }
    }
}
