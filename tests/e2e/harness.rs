//! Runs the real binary against the fake API and reads back its outputs and summary.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fake_github::{FakeGitHub, OwnerSeed, PackageSeed, Seed, TokenSeed, VersionSeed, days};

/// A PAT of `alice`, member of the `acme` organization, with every packages scope.
pub const ALICE: &str = "ghp_alice_secret_value";
/// A GITHUB_TOKEN issued to workflows of `acme/app`.
pub const WORKFLOW_TOKEN: &str = "ghs_workflow_secret_value";

/// The accounts every test starts from; tests add their packages.
pub fn accounts() -> Seed {
    Seed::new()
        .token(TokenSeed::pat(
            ALICE,
            "alice",
            &["read:packages", "write:packages", "delete:packages", "repo"],
        ))
        .token(TokenSeed::github_token(WORKFLOW_TOKEN, "acme/app"))
        .owner(OwnerSeed::org("acme").members(&["alice"]))
        .owner(OwnerSeed::user("alice"))
        .owner(OwnerSeed::user("bob"))
}

/// A container version with tags, `age_days` old.
pub fn image(id: u64, age_days: u64, tags: &[&str]) -> VersionSeed {
    VersionSeed::new(id, days(age_days)).tags(tags)
}

/// A version of a non-container package, named like `1.2.3`.
pub fn release(id: u64, age_days: u64, name: &str) -> VersionSeed {
    VersionSeed::new(id, days(age_days)).named(name)
}

pub fn container(owner: &str, name: &str, versions: Vec<VersionSeed>) -> PackageSeed {
    PackageSeed::new(owner, "container", name)
        .repository("acme/app")
        .versions(versions)
}

/// One invocation of the binary, built up input by input.
pub struct Janitor {
    env: Vec<(OsString, OsString)>,
    args: Vec<OsString>,
    /// The working directory (the workspace), for relative paths such as `state-file`.
    dir: Option<PathBuf>,
    /// Run at a pseudo-terminal (`script`): stdout and stderr are then one stream.
    terminal: bool,
}

/// A run against `fake` with `token`, pointed at it for both the REST API and the container
/// registry, under Actions (`GITHUB_ACTIONS=true`) as the runner starts it; see
/// [`Janitor::outside_actions`] for a person's run. The fake answers in microseconds and has
/// no limits unless a test seeds them, so the pacing is opened up (later inputs override it)
/// and backoff starts at 10 ms: tests assert outcomes, never speed.
pub fn janitor(fake: &FakeGitHub, token: &str) -> Janitor {
    Janitor {
        env: vec![
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_API_URL".into(), fake.url().into()),
            ("INPUT_REGISTRY-URL".into(), fake.url().into()),
            ("GITHUB_REPOSITORY_OWNER".into(), "acme".into()),
            ("INPUT_TOKEN".into(), token.into()),
            ("INPUT_POINTS-PER-MINUTE".into(), "1000000".into()),
            ("INPUT_MUTATION-INTERVAL".into(), "0s".into()),
            ("PACKAGE_JANITOR_RETRY_BASE".into(), "10ms".into()),
        ],
        args: Vec::new(),
        dir: None,
        terminal: false,
    }
}

/// A binary run with nothing but the given variables, as the runner would start it.
pub fn janitor_without_api() -> Janitor {
    Janitor {
        env: Vec::new(),
        args: Vec::new(),
        dir: None,
        terminal: false,
    }
}

impl Janitor {
    /// Set an input the way the runner does: `INPUT_` + upper-cased name, hyphens kept.
    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.env.push((
            format!("INPUT_{}", name.to_uppercase()).into(),
            value.into(),
        ));
        self
    }

    pub fn env(self, name: &str, value: &str) -> Self {
        self.env_os(name, value)
    }

    /// Run as a person does, not under Actions: without `GITHUB_ACTIONS`, the report is
    /// printed on stdout and the log goes to stderr (see [`Finished::stdout`]).
    pub fn outside_actions(mut self) -> Self {
        self.env.retain(|(name, _)| name != "GITHUB_ACTIONS");
        self
    }

    /// A variable whose value need not be UTF-8.
    pub fn env_os(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// A command-line argument, such as `--dry-run`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Run at a pseudo-terminal, as a person at a terminal runs it (through util-linux
    /// `script`, which Debian and Ubuntu always have): stdout and stderr are both the
    /// terminal, and [`Finished::stdout`] is all it showed, with `\r\n` made `\n`.
    pub fn at_terminal(mut self) -> Self {
        self.terminal = true;
        self.env.push(("TERM".into(), "xterm".into()));
        self
    }

    /// Run in `dir`, as the runner runs a container action in the workspace.
    pub fn in_dir(mut self, dir: &std::path::Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    pub fn run(self) -> Finished {
        self.spawn().wait()
    }

    /// Start the binary without waiting for it, for tests that signal it while it runs.
    pub fn spawn(self) -> Running {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "package-janitor-e2e-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let binary = env!("CARGO_BIN_EXE_package-janitor");
        let mut env = self.env.clone();
        let mut command = if self.terminal {
            // The shell `script` starts drops variables whose names have a hyphen, as most
            // inputs' do: each input goes as its flag instead.
            let mut args: Vec<OsString> = Vec::new();
            env.retain(|(name, value)| {
                let input = name.to_str().and_then(|name| name.strip_prefix("INPUT_"));
                let Some(input) = input else { return true };
                let mut flag = OsString::from(format!("--{}=", input.to_lowercase()));
                flag.push(value);
                args.push(flag);
                false
            });
            args.extend(self.args.iter().cloned());
            let quote = |arg: &std::ffi::OsStr| {
                format!("'{}'", arg.to_string_lossy().replace('\'', "'\\''"))
            };
            let line: Vec<String> = std::iter::once(std::ffi::OsStr::new(binary))
                .chain(args.iter().map(OsString::as_os_str))
                .map(quote)
                .collect();
            let mut script =
                Command::new(on_path("script").expect("util-linux `script` is installed"));
            script.args(["-qec", &line.join(" "), "/dev/null"]);
            script
        } else {
            let mut command = Command::new(binary);
            command.args(&self.args);
            command
        };
        if let Some(workspace) = &self.dir {
            command.current_dir(workspace);
        }
        let child = command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("GITHUB_OUTPUT", dir.join("output"))
            .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        Running { child, dir }
    }
}

/// A run in progress.
pub struct Running {
    child: Child,
    dir: PathBuf,
}

impl Running {
    /// Send SIGTERM, as the runner does when a job is cancelled.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Whether the process has exited, without waiting.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// [`Running::wait`], with the process's own peak resident memory in KiB (`VmHWM`,
    /// read from /proc every 2 ms while it runs).
    pub fn wait_measured(self) -> (Finished, u64) {
        let status = format!("/proc/{}/status", self.child.id());
        let watcher = std::thread::spawn(move || {
            let mut peak = 0;
            while let Ok(text) = std::fs::read_to_string(&status) {
                let hwm = text
                    .lines()
                    .find_map(|line| line.strip_prefix("VmHWM:"))
                    .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok());
                match hwm {
                    Some(kib) => peak = peak.max(kib),
                    // A zombie has no memory lines any more: it has exited.
                    None if peak > 0 => break,
                    None => {}
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            peak
        });
        let finished = self.wait();
        (finished, watcher.join().unwrap_or(0))
    }

    /// Send SIGTERM as soon as `ready` holds (`what` names it), then wait for the run,
    /// failing if it has not ended within 10 s of the signal (when the runner kills it).
    pub fn terminate_when(mut self, what: &str, ready: impl Fn() -> bool) -> Finished {
        let waited = Instant::now();
        while !ready() {
            assert!(!self.has_exited(), "the run ended before {what}");
            assert!(
                waited.elapsed() < Duration::from_secs(60),
                "{what} never came"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.terminate();
        let signalled = Instant::now();
        while !self.has_exited() {
            assert!(
                signalled.elapsed() < Duration::from_secs(10),
                "the run did not end within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.wait()
    }

    pub fn wait(self) -> Finished {
        let output = self.child.wait_with_output().expect("the binary runs");
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        let finished = Finished {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
            log: String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
            outputs: parse_outputs(&read("output")),
            summary: read("summary"),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
        finished
    }
}

/// What a run left behind.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    /// Stdout and stderr, one after the other.
    pub log: String,
    /// Stdout alone: outside Actions, the printed report.
    pub stdout: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
}

impl Finished {
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, Some(0), "run failed:\n{}", self.log);
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert_eq!(self.code, Some(1), "run should exit 1:\n{}", self.log);
        self
    }

    /// The `ids` output, as numbers, sorted.
    pub fn ids(&self) -> Vec<u64> {
        ids_in(&self.outputs["ids"])
    }

    pub fn failed_ids(&self) -> Vec<u64> {
        ids_in(&self.outputs["failed-ids"])
    }

    pub fn json(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.outputs["json"]).expect("json output is a JSON array")
    }

    /// The outcome the `json` output gives a version id.
    pub fn outcome_of(&self, id: u64) -> String {
        self.json()
            .iter()
            .find(|entry| entry["id"] == id)
            .and_then(|entry| entry["outcome"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("no json entry for {id}: {}", self.outputs["json"]))
    }
}

fn ids_in(list: &str) -> Vec<u64> {
    let mut ids: Vec<u64> = list
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| id.parse().expect("ids are numbers"))
        .collect();
    ids.sort_unstable();
    ids
}

/// Parse a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIM` heredocs.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        }
    }
    outputs
}

/// Where tests keep the state file, relative to the workspace.
pub const STATE: &str = ".package-janitor/state";

/// A fresh workspace directory for one test, removed when the test ends.
pub struct Workspace(PathBuf);

impl std::ops::Deref for Workspace {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn workspace() -> Workspace {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pj-state-e2e-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("workspace");
    Workspace(dir)
}

/// Where `program` is on this process's `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Ids from `first` to `last` inclusive, for asserting on ranges.
pub fn range(first: u64, last: u64) -> Vec<u64> {
    (first..=last).collect()
}
