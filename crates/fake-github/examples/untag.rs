//! Benchmark (not a test): `untag` on a container package of double-tagged images, the
//! release package-janitor against the fake with GitHub's documented limits and 50 ms
//! latency on every REST request. See bench/run.sh and bench/README.md.
//!
//! Usage: `untag PATH/TO/package-janitor [--images 100] [--builds 20] [--recent 10]`
//!
//! The package holds `images` releases older than 30 days, each tagged `sha-<n>` and
//! `v1.<n>.0`; `builds` older than 30 days tagged `sha-<n>` alone; and `recent` releases of
//! a day, tagged both ways. The janitor runs with `tag-regex: ^sha-`, `older-than: 30d`,
//! `untag: true` and default pacing: the builds go whole, the old releases lose their sha
//! tag, the recent ones stay whole. The REST cost of untagging is what the run sends after
//! its first manifest push: the issue asks for one listing read and one DELETE per removed
//! tag. The floor is the mutations one second apart (GitHub asks for at least one second
//! between mutating requests): `(builds + images − 1) × 1 s`. Registry requests spend no
//! REST budget and the fake serves them without latency.

mod measure;

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use fake_github::{
    FakeGitHub, Faults, Limits, OwnerSeed, PackageSeed, PrimaryLimit, SecondaryLimit, Seed,
    TokenSeed, VersionSeed, days,
};

const TOKEN: &str = "ghp_bench";
const LATENCY: Duration = Duration::from_millis(50);
const MUTATION_SPACING: Duration = Duration::from_secs(1);

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .context("usage: untag PATH/TO/package-janitor [--images n] [--builds n] [--recent n]")?;
    let (mut images, mut builds, mut recent) = (100_u64, 20_u64, 10_u64);
    while let Some(flag) = args.next() {
        let value: u64 = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?
            .parse()
            .with_context(|| format!("{flag} takes a number"))?;
        match flag.as_str() {
            "--images" => images = value,
            "--builds" => builds = value,
            "--recent" => recent = value,
            other => bail!("unknown argument {other}"),
        }
    }
    let fake = FakeGitHub::start(seed(images, builds, recent))?;
    let dir = std::env::temp_dir().join(format!("package-janitor-untag-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (output, summary) = (dir.join("output"), dir.join("summary"));
    for file in [&output, &summary] {
        std::fs::write(file, "")?;
    }
    let started = Instant::now();
    let child = Command::new(&binary)
        .env_clear()
        .env("GITHUB_API_URL", fake.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("INPUT_TOKEN", TOKEN)
        .env("INPUT_PACKAGES", "app")
        .env("INPUT_REGISTRY-URL", fake.url())
        .env("INPUT_TAG-REGEX", "^sha-")
        .env("INPUT_OLDER-THAN", "30d")
        .env("INPUT_UNTAG", "true")
        .stdout(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {binary}"))?;
    let (status, peak_rss_kib) = measure::wait_measured(child)?;
    let wall = started.elapsed();
    ensure!(status == 0, "{binary} exited with status {status}");

    // What the run left: the builds gone, every old release without its sha tag, nothing
    // else gone, no placeholder left, no image broken.
    let expected: Vec<u64> = (1..=images)
        .chain(2001..=2000 + recent)
        .collect::<std::collections::BTreeSet<u64>>()
        .into_iter()
        .collect();
    ensure!(
        fake.active_ids("acme", "container", "app") == expected,
        "the run left other versions than the releases"
    );
    for id in 1..=images {
        ensure!(
            fake.tags_of("acme", "container", "app", id) == vec![format!("v1.{id}.0")],
            "release {id} still has its sha tag"
        );
    }
    ensure!(
        fake.broken_images("acme", "app").is_empty(),
        "an image broke"
    );

    let requests = fake.requests();
    let first_push = requests
        .iter()
        .position(|request| request.method == "PUT" && request.path.contains("/manifests/"))
        .context("no manifest was pushed")?;
    let untagging = &requests[first_push..];
    let rest = |method: &str| {
        untagging
            .iter()
            .filter(|request| request.method == method && !request.path.starts_with("/v2/"))
            .count()
    };
    let registry = |method: &str| {
        requests
            .iter()
            .filter(|request| request.method == method && request.path.starts_with("/v2/"))
            .count()
    };
    let counters = fake.counters();
    let floor = MUTATION_SPACING * u32::try_from(builds + images - 1)?;
    println!(
        "| images untagged | builds deleted | wall | floor (mutations 1 s apart) | wall / floor | REST GETs | REST DELETEs | listing reads per tag | DELETEs per tag | registry HEAD / GET / PUT / POST / DELETE | secondary-limit answers | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
    println!(
        "| {images} | {builds} | {:.1} s | {:.1} s | {:.3} | {} | {} | {:.2} | {:.2} | {} / {} / {} / {} / {} | {} | {:.1} MiB |",
        wall.as_secs_f64(),
        floor.as_secs_f64(),
        wall.as_secs_f64() / floor.as_secs_f64(),
        counters.method_total("GET"),
        counters.method_total("DELETE"),
        rest("GET") as f64 / images as f64,
        rest("DELETE") as f64 / images as f64,
        registry("HEAD"),
        registry("GET"),
        registry("PUT"),
        registry("POST"),
        registry("DELETE"),
        counters.secondary_answers,
        peak_rss_kib as f64 / 1024.0,
    );
    println!(
        "\nsummary {} bytes, outputs {} bytes; REST answers by status: {}",
        std::fs::metadata(&summary)?.len(),
        std::fs::metadata(&output)?.len(),
        counters
            .requests
            .iter()
            .map(|(key, count)| format!("{key}: {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Releases 1..=images (old, double-tagged), builds 1001.. (old, sha only), recent
/// releases 2001.. (a day old, double-tagged).
fn seed(images: u64, builds: u64, recent: u64) -> Seed {
    let old = |id: u64| days(60) + Duration::from_secs(id * 60);
    let versions = (1..=images)
        .map(|id| {
            VersionSeed::new(id, old(id)).tags(&[&format!("sha-{id}"), &format!("v1.{id}.0")])
        })
        .chain(
            (1001..=1000 + builds)
                .map(|id| VersionSeed::new(id, old(id)).tags(&[&format!("sha-{id}")])),
        )
        .chain((2001..=2000 + recent).map(|id| {
            VersionSeed::new(id, days(1)).tags(&[&format!("sha-{id}"), &format!("v2.{id}.0")])
        }))
        .collect();
    Seed::new()
        .token(TokenSeed::pat(
            TOKEN,
            "alice",
            &["read:packages", "write:packages", "delete:packages"],
        ))
        .owner(OwnerSeed::org("acme").members(&["alice"]))
        .package(
            PackageSeed::new("acme", "container", "app")
                .repository("acme/app")
                .versions(versions),
        )
        .limits(Limits {
            primary: PrimaryLimit::default(),
            secondary: Some(SecondaryLimit::default()),
        })
        .faults(Faults {
            latency: LATENCY,
            ..Faults::default()
        })
}
