//! Benchmark (not a test): hourly runs with a `state-file` against the fake, the budget
//! refilled between runs as if an hour had passed. See bench/run.sh (`hourly`).
//!
//! Usage: `hourly PATH/TO/package-janitor [--versions 100000] [--old 10000] [--budget 1000]
//! [--unchanged 20000] [--runs N]` (`--runs`: stop scenario 1 after N runs, unchecked, for
//! a quick look at the first runs' figures)
//!
//! Scenario 1: a container package of `versions` versions, of which the `old` oldest are
//! untagged and older than 30 days; `tag-state: untagged`, `older-than: 30d`, a primary
//! budget of `budget` requests an hour. Runs until `left-count` is 0 and prints runs to
//! finish (against ⌈(pages + deletions) / (95% of the budget)⌉ + 2), and per run: REST
//! requests (listing pages and deletions apart), registry requests (manifest `GET`s,
//! `HEAD`s, tag list pages), deletions, the output `bytes-freed`, wall time and peak RSS;
//! checks oldest first, no primary-limit refusal, no broken image. Pacing is opened up (mutation-interval 0s),
//! since this measures runs and requests, not speed.
//!
//! Scenario 2: a dry run twice on an unchanged container package of `unchanged` versions:
//! the registry requests of each (manifests read whole, `HEAD`s, tag list pages) and what
//! each says it would free.

mod measure;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use fake_github::{
    FakeGitHub, Limits, OwnerSeed, PackageSeed, PrimaryLimit, Seed, TokenSeed, VersionSeed, days,
};

const TOKEN: &str = "ghp_bench";

struct Run {
    rest: usize,
    /// REST listing pages (`GET …/versions?…`).
    pages: usize,
    /// Manifests read whole (`GET /v2/…/manifests/…`), challenged tries included.
    reads: usize,
    /// `HEAD /v2/…/manifests/…`, challenged tries included.
    heads: usize,
    /// Tag list pages (`GET /v2/…/tags/list`).
    tag_pages: usize,
    deleted: Vec<u64>,
    left: u64,
    /// The output `bytes-freed`: empty when the run could not give it exactly.
    freed: String,
    wall: Duration,
    peak_rss_kib: i64,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let binary = args.next().context(
        "usage: hourly PATH/TO/package-janitor [--versions n] [--old n] [--budget n] [--unchanged n]",
    )?;
    let (mut versions, mut old, mut budget, mut unchanged, mut stop_after) =
        (100_000u64, 10_000u64, 1_000u32, 20_000u64, None);
    while let Some(flag) = args.next() {
        let value: u64 = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?
            .parse()
            .context("values are numbers")?;
        match flag.as_str() {
            "--versions" => versions = value,
            "--old" => old = value,
            "--budget" => budget = u32::try_from(value)?,
            "--unchanged" => unchanged = value,
            "--runs" => stop_after = Some(usize::try_from(value)?),
            other => bail!("unknown argument {other}"),
        }
    }
    hourly(&binary, versions, old, budget, stop_after)?;
    if unchanged > 0 {
        manifests_once(&binary, unchanged)?;
    }
    Ok(())
}

/// A container package: the `old` oldest untagged and 60+ days old, the rest tagged.
fn package(versions: u64, old: u64) -> PackageSeed {
    PackageSeed::new("acme", "container", "app").versions(
        (1..=versions)
            .map(|id| {
                // Older ids are older; minutes apart keep 100k versions within a year.
                let version = VersionSeed::new(id, days(400) - Duration::from_secs(id * 60));
                if id <= old {
                    version
                } else {
                    version.tags(&[&format!("v{id}")])
                }
            })
            .collect(),
    )
}

fn fake(package: PackageSeed, budget: u32) -> anyhow::Result<FakeGitHub> {
    FakeGitHub::start(
        Seed::new()
            .token(TokenSeed::pat(
                TOKEN,
                "alice",
                &["read:packages", "delete:packages", "repo"],
            ))
            .owner(OwnerSeed::org("acme").members(&["alice"]))
            .package(package)
            .limits(Limits {
                primary: PrimaryLimit::new(budget, budget, Duration::from_secs(3_600)),
                secondary: None,
            }),
    )
}

fn hourly(
    binary: &str,
    versions: u64,
    old: u64,
    budget: u32,
    stop_after: Option<usize>,
) -> anyhow::Result<()> {
    let fake = fake(package(versions, old), budget)?;
    let dir = workspace("hourly")?;
    let pages = versions.div_ceil(100);
    // 950 of GitHub's 1,000 an hour: the yardstick, scaled with the budget.
    let target = (pages + old).div_ceil(u64::from(budget) * 95 / 100) + 2;
    let mut runs = Vec::new();
    let mut seen = 0;
    let mut newest_deleted = 0;
    loop {
        let run = run_once(binary, &fake, &dir, &[], &mut seen)?;
        ensure!(
            run.deleted.iter().all(|id| *id > newest_deleted),
            "run {} deleted out of order",
            runs.len() + 1
        );
        newest_deleted = run.deleted.iter().copied().max().unwrap_or(newest_deleted);
        let left = run.left;
        let progress = !run.deleted.is_empty() || runs.len() < 2;
        runs.push(run);
        eprintln!("run {}: left-count {left}", runs.len());
        if left == 0 || stop_after == Some(runs.len()) {
            break;
        }
        ensure!(
            progress || runs.len() < 4,
            "run {} made no progress",
            runs.len()
        );
        ensure!(
            runs.len() < 3 * target as usize,
            "more than {} runs",
            3 * target
        );
        fake.reset_budgets();
    }
    let counters = fake.counters();
    ensure!(counters.primary_answers == 0, "a primary-limit refusal");
    if stop_after.is_some() {
        print_runs(&runs);
        std::fs::remove_dir_all(&dir)?;
        return Ok(());
    }
    ensure!(
        fake.broken_images("acme", "app").is_empty(),
        "broken images"
    );
    ensure!(
        fake.deleted_ids("acme", "container", "app") == (1..=old).collect::<Vec<_>>(),
        "not exactly the {old} old untagged versions deleted"
    );
    println!(
        "{versions} versions, {old} to delete, {budget} requests an hour: {} runs to finish (target {target})\n",
        runs.len()
    );
    print_runs(&runs);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The table of runs, and the medians from run 3 on.
fn print_runs(runs: &[Run]) {
    println!(
        "| run | REST requests | listing pages | deleted | manifest GETs | HEADs | tag list pages | left-count | bytes-freed | wall | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (n, run) in runs.iter().enumerate() {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s | {:.1} MiB |",
            n + 1,
            run.rest,
            run.pages,
            run.deleted.len(),
            run.reads,
            run.heads,
            run.tag_pages,
            run.left,
            shown(&run.freed),
            run.wall.as_secs_f64(),
            run.peak_rss_kib as f64 / 1024.0
        );
    }
    let mut rest: Vec<usize> = runs.iter().skip(2).map(|run| run.rest).collect();
    let mut pages: Vec<usize> = runs.iter().skip(2).map(|run| run.pages).collect();
    let mut walls: Vec<Duration> = runs.iter().skip(2).map(|run| run.wall).collect();
    let mut peaks: Vec<i64> = runs.iter().skip(2).map(|run| run.peak_rss_kib).collect();
    let peak = runs.iter().map(|run| run.peak_rss_kib).max().unwrap_or(0);
    println!(
        "\nmedians from run 3 on: {} REST requests, {} listing pages a run; median wall {:.1} s a run; median peak RSS {:.1} MiB a run; peak RSS {:.1} MiB\n",
        median(&mut rest),
        median(&mut pages),
        median(&mut walls).as_secs_f64(),
        median(&mut peaks) as f64 / 1024.0,
        peak as f64 / 1024.0
    );
}

/// An output as the table shows it: `—` when empty.
fn shown(output: &str) -> &str {
    if output.is_empty() { "—" } else { output }
}

fn manifests_once(binary: &str, versions: u64) -> anyhow::Result<()> {
    let fake = fake(package(versions, 100), 5_000)?;
    let dir = workspace("unchanged")?;
    let mut seen = 0;
    let dry = [("INPUT_DRY-RUN", "true")];
    let first = run_once(binary, &fake, &dir, &dry, &mut seen)?;
    let second = run_once(binary, &fake, &dir, &dry, &mut seen)?;
    println!(
        "unchanged {versions}-version container package, dry run twice: manifests read {} then {} ({:.2}% of the manifests); HEADs {} then {}; tag list pages {} then {}; REST requests {} then {}; bytes-freed {} then {}; wall {:.1} s then {:.1} s",
        first.reads,
        second.reads,
        100.0 * second.reads as f64 / versions as f64,
        first.heads,
        second.heads,
        first.tag_pages,
        second.tag_pages,
        first.rest,
        second.rest,
        shown(&first.freed),
        shown(&second.freed),
        first.wall.as_secs_f64(),
        second.wall.as_secs_f64()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn workspace(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("pj-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// One run in `dir`; `seen` is how many of the fake's recorded requests earlier runs made.
fn run_once(
    binary: &str,
    fake: &FakeGitHub,
    dir: &Path,
    extra: &[(&str, &str)],
    seen: &mut usize,
) -> anyhow::Result<Run> {
    let output = dir.join("output");
    std::fs::write(&output, "")?;
    let child = Command::new(binary)
        .current_dir(dir)
        .env_clear()
        // As the runner starts it: the log on stdout, no report printed for a person.
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", fake.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .env("INPUT_TOKEN", TOKEN)
        .env("INPUT_REGISTRY-URL", fake.url())
        .env("INPUT_PACKAGES", "app")
        .env("INPUT_TAG-STATE", "untagged")
        .env("INPUT_OLDER-THAN", "30d")
        .env("INPUT_STATE-FILE", ".package-janitor/state")
        .env("INPUT_RATE-LIMIT-WAIT", "0s")
        .env("INPUT_POINTS-PER-MINUTE", "1000000")
        .env("INPUT_MUTATION-INTERVAL", "0s")
        .envs(extra.iter().copied())
        .stdout(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {binary}"))?;
    let started = std::time::Instant::now();
    let (status, peak_rss_kib) = measure::wait_measured(child)?;
    let wall = started.elapsed();
    ensure!(status == 0, "{binary} exited with status {status}");
    let requests = fake.requests();
    let new = &requests[*seen..];
    *seen = requests.len();
    let count = |keep: &dyn Fn(&fake_github::RecordedRequest) -> bool| {
        new.iter().filter(|request| keep(request)).count()
    };
    let manifests = |method: &'static str| {
        move |request: &fake_github::RecordedRequest| {
            request.method == method && request.path.contains("/manifests/")
        }
    };
    let reads = count(&manifests("GET"));
    let heads = count(&manifests("HEAD"));
    let tag_pages = count(&|request| request.path.contains("/tags/list"));
    let rest =
        count(&|request| !request.path.starts_with("/v2/") && !request.path.starts_with("/token"));
    let pages = count(&|request| request.method == "GET" && request.path.contains("/versions?"));
    let written = std::fs::read_to_string(&output)?;
    let value = |name: &str| {
        written
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_string()
    };
    let deleted = value("ids")
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| id.parse().context("ids are numbers"))
        .collect::<anyhow::Result<Vec<u64>>>()?;
    Ok(Run {
        rest,
        pages,
        reads,
        heads,
        tag_pages,
        deleted,
        left: value("left-count").parse().context("left-count")?,
        freed: value("bytes-freed"),
        wall,
        peak_rss_kib,
    })
}

/// The median of `values` (the upper one of an even count).
fn median<T: Ord + Copy + Default>(values: &mut [T]) -> T {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or_default()
}
