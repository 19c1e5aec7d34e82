//! Entry point: parse the inputs, run once, and turn the result into the exit code.

use std::process::ExitCode;

use package_janitor::config::Config;
use package_janitor::report::log::Log;
use package_janitor::report::sanitize::Sanitizer;
use package_janitor::run::{Environment, cancel, run};

fn main() -> ExitCode {
    let mut log = Log::stdout();
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(err) => {
            log.error(&err.to_string());
            return ExitCode::FAILURE;
        }
    };
    log.redacting(Sanitizer::new(config.token.expose()));
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
    let env = Environment::from_process();
    let ran = runtime.block_on(async {
        if let Err(err) = cancel::listen(&env.cancel) {
            log.warning(&format!(
                "cannot listen for SIGTERM/SIGINT ({err}): a cancelled job may end without its record"
            ));
        }
        run(&config, &env, &mut log).await
    });
    match ran {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            log.error(&format!("{err:#}"));
            ExitCode::FAILURE
        }
    }
}
