//! Benchmark (not a test): the release package-janitor against the fake with GitHub's
//! documented limits and 50 ms latency, for 1k, 10k and 100k versions. See bench/run.sh.
//!
//! Usage: `bench PATH/TO/package-janitor [--sizes 1000,10000,100000] [--deletes 100]`
//!
//! Each size is one npm package whose `deletes` oldest versions are named `0.0.N` (the rest
//! `1.0.N`); the janitor runs with `tag-regex: ^0\.0\.` and default pacing. npm rather than
//! container, because this measures the REST API budget: a container package also reads
//! each manifest once from the registry, which does not spend that budget. The
//! budget minimum is the earliest the default pacing lets the run's last request start
//! ([`minimum`]): the owner lookup, then the first page, then the other pages 10 at a time
//! (one latency per round) while the minute's 800 points last, then the deletes one second
//! apart (5 points each). Wall time, which adds process start, the last answer's latency
//! and the reports, is compared with it. `--deletes 0` measures the listing alone.

mod measure;

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use fake_github::{
    FakeGitHub, Faults, Limits, OwnerSeed, PackageSeed, PrimaryLimit, SecondaryLimit, Seed,
    TokenSeed, VersionSeed, days,
};

const TOKEN: &str = "ghp_bench";
/// The default pacing (src/github/pacing.rs): 800 points a minute over a rolling minute,
/// GET 1 point, DELETE 5, one second between mutations, 4 requests in flight.
const POINTS_PER_MINUTE: u32 = 800;
const MUTATION_SPACING: Duration = Duration::from_secs(1);
const CONCURRENCY: u64 = 10;
const LATENCY: Duration = Duration::from_millis(50);

struct Row {
    versions: u64,
    deletes: u64,
    wall: Duration,
    minimum: Duration,
    first_request: Duration,
    peak_rss_kib: i64,
    gets: u64,
    deletes_sent: u64,
    secondary: u64,
    statuses: String,
    summary_bytes: u64,
    output_bytes: u64,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .context("usage: bench PATH/TO/package-janitor [--sizes a,b] [--deletes n]")?;
    let mut sizes = vec![1_000, 10_000, 100_000];
    let mut deletes = 100;
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => {
                sizes = value
                    .split(',')
                    .map(|size| size.trim().parse().context("--sizes takes numbers"))
                    .collect::<anyhow::Result<_>>()?
            }
            "--deletes" => deletes = value.parse().context("--deletes takes a number")?,
            other => bail!("unknown argument {other}"),
        }
    }
    let mut rows = Vec::new();
    for versions in sizes {
        let row = run(&binary, versions, deletes.min(versions - 1))?;
        eprintln!("{} versions: {:.1} s", row.versions, row.wall.as_secs_f64());
        rows.push(row);
    }
    print_table(&rows);
    Ok(())
}

fn seed(versions: u64, deletes: u64) -> Seed {
    let package = PackageSeed::new("acme", "npm", "app").versions(
        (1..=versions)
            .map(|id| {
                let name = if id <= deletes {
                    format!("0.0.{id}")
                } else {
                    format!("1.0.{id}")
                };
                // Older ids are older; ages in minutes keep 100k versions within a year.
                VersionSeed::new(id, days(365) - Duration::from_secs(id * 60)).named(&name)
            })
            .collect(),
    );
    Seed::new()
        .token(TokenSeed::pat(
            TOKEN,
            "alice",
            &["read:packages", "delete:packages", "repo"],
        ))
        .owner(OwnerSeed::org("acme").members(&["alice"]))
        .package(package)
        .limits(Limits {
            primary: PrimaryLimit::default(),
            secondary: Some(SecondaryLimit::default()),
        })
        .faults(Faults {
            latency: LATENCY,
            ..Faults::default()
        })
}

fn run(binary: &str, versions: u64, deletes: u64) -> anyhow::Result<Row> {
    let fake = FakeGitHub::start(seed(versions, deletes))?;
    let dir = std::env::temp_dir().join(format!("package-janitor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (output, summary) = (dir.join("output"), dir.join("summary"));
    for file in [&output, &summary] {
        std::fs::write(file, "")?;
    }
    let started = Instant::now();
    let mut command = Command::new(binary);
    command.env_clear();
    // Which root certificates the TLS client loads at start-up (a file vs. a directory of
    // hundreds) changes the time to the first request, so a caller may choose them.
    for name in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let child = command
        // As the runner starts it: the log on stdout, no report printed for a person.
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", fake.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("INPUT_TOKEN", TOKEN)
        .env("INPUT_PACKAGE-TYPE", "npm")
        .env("INPUT_PACKAGES", "app")
        .env("INPUT_TAG-REGEX", r"^0\.0\.")
        .stdout(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {binary}"))?;
    let (status, peak_rss_kib) = measure::wait_measured(child)?;
    let wall = started.elapsed();
    ensure!(status == 0, "{binary} exited with status {status}");
    let written = std::fs::read_to_string(&output)?;
    ensure!(
        written
            .lines()
            .any(|line| line == format!("count={deletes}")),
        "the run did not delete {deletes} versions"
    );
    let counters = fake.counters();
    let pages = versions.div_ceil(100);
    let row = Row {
        versions,
        deletes,
        wall,
        minimum: minimum(pages, deletes),
        first_request: counters
            .first_request
            .map(|at| at.duration_since(started))
            .unwrap_or_default(),
        peak_rss_kib,
        gets: counters.method_total("GET"),
        deletes_sent: counters.method_total("DELETE"),
        secondary: counters.secondary_answers,
        statuses: counters
            .requests
            .iter()
            .map(|(key, count)| format!("{key}: {count}"))
            .collect::<Vec<_>>()
            .join(", "),
        summary_bytes: std::fs::metadata(&summary)?.len(),
        output_bytes: written.len() as u64,
    };
    std::fs::remove_dir_all(&dir)?;
    Ok(row)
}

/// When the run's last request may start at the earliest under the default pacing: each
/// request waits for its turn (latency and concurrency) and for room in the rolling minute.
fn minimum(pages: u64, deletes: u64) -> Duration {
    let mut spent: Vec<(Duration, u32)> = Vec::new();
    let mut book = |earliest: Duration, points: u32| {
        let mut start = earliest;
        loop {
            let in_window: u32 = spent
                .iter()
                .filter(|(at, _)| *at + Duration::from_secs(60) > start)
                .map(|(_, points)| points)
                .sum();
            if in_window + points <= POINTS_PER_MINUTE {
                break;
            }
            start = spent
                .iter()
                .map(|(at, _)| *at + Duration::from_secs(60))
                .filter(|end| *end > start)
                .min()
                .unwrap_or(start);
        }
        spent.push((start, points));
        start
    };
    let owner = book(Duration::ZERO, 1);
    let mut last = book(owner + LATENCY, 1);
    let mut round_start = last + LATENCY;
    for page in 0..pages.saturating_sub(1) {
        last = book(round_start, 1);
        if page % CONCURRENCY == CONCURRENCY - 1 {
            round_start = last + LATENCY;
        }
    }
    let mut next = last + LATENCY;
    for _ in 0..deletes {
        last = book(next, 5);
        next = last + MUTATION_SPACING;
    }
    last
}

fn print_table(rows: &[Row]) {
    println!(
        "| versions | deleted | wall | budget minimum | wall / minimum | list+other GETs | DELETEs | secondary-limit answers | peak RSS | start to first request | summary / outputs bytes |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {:.1} s | {:.1} s | {:.3} | {} | {} | {} | {:.1} MiB | {:.1} ms | {} / {} |",
            row.versions,
            row.deletes,
            row.wall.as_secs_f64(),
            row.minimum.as_secs_f64(),
            row.wall.as_secs_f64() / row.minimum.as_secs_f64(),
            row.gets,
            row.deletes_sent,
            row.secondary,
            row.peak_rss_kib as f64 / 1024.0,
            row.first_request.as_secs_f64() * 1000.0,
            row.summary_bytes,
            row.output_bytes,
        );
    }
    println!();
    for row in rows {
        println!(
            "{} versions, answers by status: {}",
            row.versions, row.statuses
        );
    }
}
