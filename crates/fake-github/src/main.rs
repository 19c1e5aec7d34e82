//! `fake-github --seed FILE [--port N]`: serves a seeded fake until SIGTERM or SIGINT.
//!
//! Prints `listening on http://127.0.0.1:PORT` once ready, so a script can read the URL, and
//! `counters {JSON}` (see `Counters`) when it stops.

use std::io::Write;

use anyhow::{Context, bail};
use fake_github::{FakeGitHub, Seed};

const USAGE: &str = "usage: fake-github --seed FILE [--port N]";

fn main() -> anyhow::Result<()> {
    let (seed_path, port) = parse_args(std::env::args().skip(1))?;
    let text =
        std::fs::read_to_string(&seed_path).with_context(|| format!("cannot read {seed_path}"))?;
    let seed = Seed::from_json(&text).with_context(|| format!("invalid seed file {seed_path}"))?;
    let fake = FakeGitHub::start_on_port(seed, port)?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", fake.url())?;
    stdout.flush()?;
    drop(stdout);

    wait_for_termination()?;
    let counters = serde_json::to_string(&fake.counters())?;
    drop(fake);
    // Nobody may be reading any more (a closed pipe); the counters are a courtesy.
    let _ = writeln!(std::io::stdout(), "counters {counters}");
    Ok(())
}

fn parse_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<(String, u16)> {
    let (mut seed, mut port) = (None, 0);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--seed" => seed = Some(value()?),
            "--port" => port = value()?.parse().context("--port needs a number")?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok((seed.context(USAGE)?, port))
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
