//! `fake-github --seed FILE [--port N] [--url-file FILE]`: serves a seeded fake until SIGTERM
//! or SIGINT.
//!
//! Prints `listening on http://127.0.0.1:PORT` once ready, and `counters {JSON}` (see
//! `Counters`) when it stops. With `--url-file`, the URL is also written to that file, whole,
//! once the server accepts connections: a script waits for the file instead of reading a log.

use std::io::Write;

use anyhow::{Context, bail};
use fake_github::{FakeGitHub, Seed};

const USAGE: &str = "usage: fake-github --seed FILE [--port N] [--url-file FILE]";

fn main() -> anyhow::Result<()> {
    let (seed_path, port, url_file) = parse_args(std::env::args().skip(1))?;
    let text =
        std::fs::read_to_string(&seed_path).with_context(|| format!("cannot read {seed_path}"))?;
    let seed = Seed::from_json(&text).with_context(|| format!("invalid seed file {seed_path}"))?;
    let fake = FakeGitHub::start_on_port(seed, port)?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", fake.url())?;
    stdout.flush()?;
    drop(stdout);
    if let Some(path) = url_file {
        // Written beside the target and renamed, so a reader never sees half a URL.
        let partial = format!("{path}.partial");
        std::fs::write(&partial, format!("{}\n", fake.url()))
            .with_context(|| format!("cannot write {partial}"))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {path}"))?;
    }

    wait_for_termination()?;
    let counters = serde_json::to_string(&fake.counters())?;
    drop(fake);
    // Nobody may be reading any more (a closed pipe); the counters are a courtesy.
    let _ = writeln!(std::io::stdout(), "counters {counters}");
    Ok(())
}

fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> anyhow::Result<(String, u16, Option<String>)> {
    let (mut seed, mut port, mut url_file) = (None, 0, None);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--seed" => seed = Some(value()?),
            "--port" => port = value()?.parse().context("--port needs a number")?,
            "--url-file" => url_file = Some(value()?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok((seed.context(USAGE)?, port, url_file))
}

fn wait_for_termination() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                interrupted = tokio::signal::ctrl_c() => interrupted?,
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        anyhow::Ok(())
    })
}
