//! Entry point: parse the inputs, run once, and turn the result into the exit code.

use std::process::ExitCode;

use package_janitor::config::inputs::Variables;
use package_janitor::config::{Config, InputError, TOKEN_VARIABLES, cli};
use package_janitor::report::log::Log;
use package_janitor::report::sanitize::Sanitizer;
use package_janitor::report::terminal::Print;
use package_janitor::run::{Environment, listen, run};

fn main() -> ExitCode {
    let flags = match cli::parse(std::env::args_os()) {
        Ok(flags) => flags,
        // Help and the version go to stdout and succeed; a usage error names the closest flag.
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // The report printed on stdout (outside Actions, or with `--format`) moves the log to
    // stderr, so that stdout holds the report alone.
    let print = Print::detect(flags.format, flags.verbose);
    let mut log = Log::console(print.is_some());
    let variables = match Variables::collect(std::env::vars_os(), flags.inputs) {
        Ok(variables) => variables,
        Err(err) => {
            log.error(&InputError::not_unicode(&err.name).to_string());
            return ExitCode::FAILURE;
        }
    };
    for warning in &variables.warnings {
        log.warning(warning);
    }
    let config = match Config::from_env(|name| variables.get(name)) {
        Ok(config) => config,
        Err(err) => {
            // The error may quote a value that holds the token by mistake (a token pasted
            // into the wrong input): redact every token the run could have read, while the
            // error is whole, since showing it may cut a long value.
            let tokens: Vec<String> = TOKEN_VARIABLES
                .iter()
                .filter_map(|name| variables.get(name))
                .collect();
            let redact = |text: &str| {
                tokens.iter().fold(text.to_owned(), |text, token| {
                    Sanitizer::new(token.trim()).redact(&text)
                })
            };
            log.error(&err.redacted(redact).to_string());
            return ExitCode::FAILURE;
        }
    };
    let clean = Sanitizer::new(config.token.expose());
    log.redacting(match &config.package_restore_token {
        Some(restore) => clean.also(restore.expose()),
        None => clean,
    });
    for warning in &config.warnings {
        log.warning(warning);
    }
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
    let env = Environment {
        print,
        ..Environment::from_process()
    };
    let ran = runtime.block_on(async {
        if let Err(err) = listen(&env.cancel) {
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
