//! Rules the release must keep, read from `.github/workflows/release.yml` (and the Dockerfiles
//! it and CI build): every source fetch pins the run's commit, no job that can push packages
//! or sign attestations runs an installer fetched at run time, every image is pinned by
//! digest, tags move with the release App's token, and the workflow's own tag move does not
//! start another release. Each rule also runs on small bad workflows, to prove it can fail.

use std::fs;
use std::path::Path;

use regex::Regex;
use serde_yaml_ng::{Mapping, Value};

fn repository_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    fs::read_to_string(&full).unwrap_or_else(|error| panic!("{}: {error}", full.display()))
}

fn parse(yaml: &str) -> Value {
    serde_yaml_ng::from_str(yaml).expect("workflow YAML parses")
}

fn text<'a>(map: &'a Mapping, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

fn with<'a>(step: &'a Mapping, key: &str) -> Option<&'a str> {
    step.get("with")
        .and_then(Value::as_mapping)
        .and_then(|with| text(with, key))
}

/// The action a step uses, without its `@ref`.
fn action(step: &Mapping) -> &str {
    text(step, "uses").map_or("", |uses| uses.split('@').next().unwrap_or(uses))
}

/// Every job, by id.
fn jobs(workflow: &Value) -> Vec<(&str, &Mapping)> {
    workflow
        .get("jobs")
        .and_then(Value::as_mapping)
        .map(|jobs| {
            jobs.iter()
                .filter_map(|(id, job)| Some((id.as_str()?, job.as_mapping()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn steps(job: &Mapping) -> Vec<&Mapping> {
    job.get("steps")
        .and_then(Value::as_sequence)
        .map(|steps| steps.iter().filter_map(Value::as_mapping).collect())
        .unwrap_or_default()
}

/// How a violation names a step: its job, position and name.
fn place(job: &str, index: usize, step: &Mapping) -> String {
    let name = text(step, "name").or(text(step, "uses")).unwrap_or("");
    format!("job `{job}` step {} ({name})", index + 1)
}

/// Rule 1. A re-run keeps GITHUB_REF, the tag the release moves, so a checkout or a build
/// context fetched by ref would get another commit (or, for actions/checkout, fail): each must
/// take the run's own commit.
fn unpinned_sources(workflow: &Value) -> Vec<String> {
    let pinned = Regex::new(
        r"^(\$\{\{ *(github\.sha|needs\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+) *\}\}|[0-9a-f]{40})$",
    )
    .expect("regex");
    let mut violations = Vec::new();
    for (job, definition) in jobs(workflow) {
        for (index, step) in steps(definition).into_iter().enumerate() {
            match action(step) {
                "actions/checkout" if !with(step, "ref").is_some_and(|r| pinned.is_match(r)) => {
                    violations.push(format!(
                        "{}: actions/checkout without `ref: ${{{{ github.sha }}}}`",
                        place(job, index, step)
                    ));
                }
                "docker/build-push-action"
                    if !with(step, "context")
                        .is_some_and(|c| !c.contains("://") && !c.contains("{{")) =>
                {
                    violations.push(format!(
                        "{}: docker/build-push-action without a path `context` (its default Git context fetches the tag)",
                        place(job, index, step)
                    ));
                }
                _ => {}
            }
        }
    }
    violations
}

/// Whether a job's token may push packages or sign (its own permissions, else the workflow's).
fn can_push_or_sign(workflow: &Value, job: &Mapping) -> bool {
    let permissions = job.get("permissions").or(workflow.get("permissions"));
    match permissions {
        Some(Value::String(all)) => all == "write-all",
        Some(Value::Mapping(map)) => ["packages", "id-token"]
            .iter()
            .any(|scope| text(map, scope) == Some("write")),
        // No permissions key anywhere: the repository default, which may be write-all.
        _ => true,
    }
}

/// Actions that download an installer from a mutable source and run it: anchore/sbom-action
/// v0.23.0 runs `install.sh` from anchore/syft's main branch (src/github/SyftGithubAction.ts).
const INSTALLING_ACTIONS: &[&str] = &["anchore/sbom-action"];

/// Rule 2. A job that can push packages or sign runs nothing fetched and executed at run time.
fn installers_in_writing_jobs(workflow: &Value) -> Vec<String> {
    let installers = [
        // curl … | sh, wget … | sudo bash
        r"(curl|wget)\b[^|\n]*\|\s*(sudo\s+)?(ba|z|da)?sh\b",
        // bash <(curl …), sh -c "$(curl …)"
        r"(ba|z|da)?sh\b[^\n]*(<\(|\$\()\s*(curl|wget)\b",
        // pip install https://…, pip install git+…
        r"pip3?\s+install\b[^\n]*\s(https?://|git\+)",
        // cargo install --git …
        r"cargo\s+install\b[^\n]*--git\b",
        // npm install -g, npx …: whatever the registry serves today
        r"npm\s+(install|i)\s+(-g|--global)\b",
    ];
    let installers: Vec<Regex> = installers
        .iter()
        .map(|pattern| Regex::new(pattern).expect("regex"))
        .collect();
    // go install module@version: only a release version is pinned.
    let go_install = Regex::new(r"go\s+install\s+\S+@(\S+)").expect("regex");
    let release = Regex::new(r"^v\d+\.\d+\.\d+$").expect("regex");
    let mut violations = Vec::new();
    for (job, definition) in jobs(workflow) {
        if !can_push_or_sign(workflow, definition) {
            continue;
        }
        for (index, step) in steps(definition).into_iter().enumerate() {
            if INSTALLING_ACTIONS.contains(&action(step)) {
                violations.push(format!(
                    "{}: {} installs its tool at run time in a job that can push or sign",
                    place(job, index, step),
                    action(step)
                ));
            }
            let Some(run) = text(step, "run") else {
                continue;
            };
            let fetched = installers
                .iter()
                .find_map(|r| r.find(run))
                .map(|m| m.as_str());
            let go = go_install
                .captures(run)
                .filter(|c| !release.is_match(&c[1]))
                .and_then(|c| c.get(0))
                .map(|m| m.as_str());
            if let Some(command) = fetched.or(go) {
                violations.push(format!(
                    "{}: runs an installer fetched at run time (`{command}`) in a job that can push or sign",
                    place(job, index, step)
                ));
            }
        }
    }
    violations
}

fn digest_pinned(reference: &str) -> bool {
    Regex::new(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
        .expect("regex")
        .is_match(reference)
}

/// Rule 3a. Every FROM of a Dockerfile names an image by digest, `scratch` or an earlier stage.
fn unpinned_froms(dockerfile: &str) -> Vec<String> {
    let from =
        Regex::new(r"(?i)^\s*FROM\s+(--platform=\S+\s+)?(\S+)(\s+AS\s+(\S+))?").expect("regex");
    let mut stages = Vec::new();
    let mut violations = Vec::new();
    for line in dockerfile.lines() {
        let Some(captures) = from.captures(line) else {
            continue;
        };
        let image = &captures[2];
        if image != "scratch" && !stages.iter().any(|s| s == image) && !digest_pinned(image) {
            violations.push(format!("`{}`: not pinned by digest", line.trim()));
        }
        if let Some(stage) = captures.get(4) {
            stages.push(stage.as_str().to_owned());
        }
    }
    violations
}

/// Rule 3b. Every image a workflow runs is pinned by digest: `docker://` steps, job containers
/// and services, images built inline, and the BuildKit image of each docker/setup-buildx-action
/// (a digest, or the output of a step that reads the pinned `.github/buildkit/Dockerfile`).
fn unpinned_images(workflow: &Value) -> Vec<String> {
    let from_step_output =
        Regex::new(r"^image=\$\{\{ *steps\.([A-Za-z0-9_-]+)\.outputs\.[A-Za-z0-9_-]+ *\}\}$")
            .expect("regex");
    let mut violations = Vec::new();
    for (job, definition) in jobs(workflow) {
        let mut images: Vec<&str> = Vec::new();
        match definition.get("container") {
            Some(Value::String(image)) => images.push(image),
            Some(Value::Mapping(container)) => images.extend(text(container, "image")),
            _ => {}
        }
        if let Some(services) = definition.get("services").and_then(Value::as_mapping) {
            images.extend(
                services
                    .values()
                    .filter_map(Value::as_mapping)
                    .filter_map(|service| text(service, "image")),
            );
        }
        for image in images.into_iter().filter(|image| !digest_pinned(image)) {
            violations.push(format!("job `{job}`: image `{image}` not pinned by digest"));
        }
        let job_steps = steps(definition);
        for (index, step) in job_steps.iter().enumerate() {
            if let Some(image) = text(step, "uses").and_then(|u| u.strip_prefix("docker://"))
                && !digest_pinned(image)
            {
                violations.push(format!(
                    "{}: `docker://{image}` not pinned by digest",
                    place(job, index, step)
                ));
            }
            if let Some(run) = text(step, "run") {
                for problem in unpinned_froms(run) {
                    violations.push(format!("{}: {problem}", place(job, index, step)));
                }
            }
            if action(step) == "docker/setup-buildx-action" {
                let driver_image = with(step, "driver-opts").and_then(|opts| {
                    opts.lines()
                        .map(str::trim)
                        .find(|o| o.starts_with("image="))
                });
                let pinned = driver_image.is_some_and(|option| {
                    digest_pinned(&option["image=".len()..])
                        || from_step_output.captures(option).is_some_and(|c| {
                            job_steps.iter().any(|s| {
                                text(s, "id") == Some(&c[1])
                                    && text(s, "run")
                                        .is_some_and(|r| r.contains(".github/buildkit/Dockerfile"))
                            })
                        })
                });
                if !pinned {
                    violations.push(format!(
                        "{}: the BuildKit image is not pinned by digest (driver-opts: {})",
                        place(job, index, step),
                        driver_image
                            .unwrap_or("none, so buildx runs moby/buildkit:buildx-stable-1")
                    ));
                }
            }
        }
    }
    violations
}

/// Whether a step's run moves a tag on GitHub.
fn moves_tags(run: &str) -> bool {
    run.contains("release-git-steps publish-tag")
        || run.contains("release-git-steps move-floating")
        || (run.contains("git push") && run.contains("refs/tags"))
        || (run.contains("git/refs") && ["PATCH", "POST"].iter().any(|m| run.contains(m)))
}

/// Rule 4. GITHUB_TOKEN alone cannot move a tag that a ruleset guards or across a change of
/// `.github/workflows`: every step that moves tags takes the token of a release App step of its
/// job (actions/create-github-app-token pinned by SHA), GITHUB_TOKEN only as the fallback; and
/// some step moves the floating tags.
fn tags_moved_without_app_token(workflow: &Value) -> Vec<String> {
    let app_token = Regex::new(r"steps\.([A-Za-z0-9_-]+)\.outputs\.token").expect("regex");
    let pinned_app = Regex::new(r"^actions/create-github-app-token@[0-9a-f]{40}$").expect("regex");
    let mut violations = Vec::new();
    let mut floating_steps = 0;
    for (job, definition) in jobs(workflow) {
        let job_steps = steps(definition);
        for (index, step) in job_steps.iter().enumerate() {
            let Some(run) = text(step, "run").filter(|run| moves_tags(run)) else {
                continue;
            };
            if run.contains("move-floating") {
                floating_steps += 1;
            }
            let env = step.get("env").and_then(Value::as_mapping);
            let uses_app = env
                .into_iter()
                .flat_map(Mapping::values)
                .filter_map(Value::as_str)
                .any(|value| {
                    app_token.captures_iter(value).any(|c| {
                        job_steps[..index].iter().any(|s| {
                            text(s, "id") == Some(&c[1])
                                && text(s, "uses").is_some_and(|u| pinned_app.is_match(u))
                        })
                    })
                });
            if !uses_app {
                violations.push(format!(
                    "{}: moves tags with GITHUB_TOKEN alone, not a pinned release App token of its job",
                    place(job, index, step)
                ));
            }
        }
    }
    if floating_steps == 0 {
        violations
            .push("no step moves the floating tags (release-git-steps move-floating)".to_owned());
    }
    violations
}

/// Rule 5. Only a tag's creation starts a release: the workflow's own tag move, pushed with the
/// App's token, starts workflows too. Every job that needs no other carries the condition.
fn starts_on_its_own_tag_move(workflow: &Value) -> Vec<String> {
    jobs(workflow)
        .into_iter()
        .filter(|(_, job)| job.get("needs").is_none())
        .filter(|(_, job)| !text(job, "if").is_some_and(|c| c.contains("github.event.created")))
        .map(|(id, _)| format!("job `{id}` also runs when a push moves an existing tag (no `if: github.event.created`)"))
        .collect()
}

#[test]
fn the_release_workflow_pins_every_source_to_the_runs_commit() {
    let workflow = parse(&repository_file(".github/workflows/release.yml"));
    let checkouts = jobs(&workflow)
        .into_iter()
        .flat_map(|(_, job)| steps(job))
        .filter(|step| action(step) == "actions/checkout")
        .count();
    assert!(
        checkouts >= 6,
        "found {checkouts} checkouts; the rule read the wrong file?"
    );
    assert_eq!(unpinned_sources(&workflow), Vec::<String>::new());
}

#[test]
fn no_release_job_that_can_push_or_sign_runs_an_installer() {
    let workflow = parse(&repository_file(".github/workflows/release.yml"));
    let writing = jobs(&workflow)
        .into_iter()
        .filter(|(_, job)| can_push_or_sign(&workflow, job))
        .map(|(id, _)| id)
        .collect::<Vec<_>>();
    assert_eq!(writing, ["build", "image", "publish"]);
    assert_eq!(installers_in_writing_jobs(&workflow), Vec::<String>::new());
}

#[test]
fn every_image_the_release_and_ci_build_or_run_is_pinned_by_digest() {
    for dockerfile in ["Dockerfile", ".github/buildkit/Dockerfile"] {
        let text = repository_file(dockerfile);
        assert!(text.contains("@sha256:"), "{dockerfile} pins nothing");
        assert_eq!(unpinned_froms(&text), Vec::<String>::new(), "{dockerfile}");
    }
    for workflow in [".github/workflows/release.yml", ".github/workflows/ci.yml"] {
        assert_eq!(
            unpinned_images(&parse(&repository_file(workflow))),
            Vec::<String>::new(),
            "{workflow}"
        );
    }
}

#[test]
fn the_release_moves_its_tags_with_the_release_app_token() {
    let workflow = parse(&repository_file(".github/workflows/release.yml"));
    assert_eq!(
        tags_moved_without_app_token(&workflow),
        Vec::<String>::new()
    );
}

#[test]
fn only_a_created_tag_starts_the_release() {
    let workflow = parse(&repository_file(".github/workflows/release.yml"));
    assert_eq!(starts_on_its_own_tag_move(&workflow), Vec::<String>::new());
    let without = parse(
        "on: push\njobs:\n  validate:\n    runs-on: x\n    steps: []\n  build:\n    needs: validate\n    runs-on: x\n    steps: []\n  lint:\n    if: github.ref_type == 'tag'\n    runs-on: x\n    steps: []\n",
    );
    assert_eq!(
        starts_on_its_own_tag_move(&without),
        [
            "job `validate` also runs when a push moves an existing tag (no `if: github.event.created`)",
            "job `lint` also runs when a push moves an existing tag (no `if: github.event.created`)",
        ]
    );
}

/// A one-job workflow around STEPS (YAML list items indented by six spaces).
fn one_job(permissions: &str, steps: &str) -> Value {
    parse(&format!(
        "on: push\npermissions: {{}}\njobs:\n  release:\n    runs-on: ubuntu-24.04\n    permissions: {permissions}\n    steps:\n{steps}"
    ))
}

#[test]
fn a_checkout_or_build_context_that_follows_the_tag_is_caught() {
    let cases = [
        (
            "      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd\n",
            "without `ref",
        ),
        (
            "      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd\n        with:\n          ref: ${{ github.ref }}\n",
            "without `ref",
        ),
        (
            "      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd\n        with:\n          ref: v1.2.3\n",
            "without `ref",
        ),
        (
            "      - uses: docker/build-push-action@d08e5c354a6adb9ed34480a06d141179aa583294\n",
            "path `context`",
        ),
        (
            "      - uses: docker/build-push-action@d08e5c354a6adb9ed34480a06d141179aa583294\n        with:\n          context: \"{{defaultContext}}:docker\"\n",
            "path `context`",
        ),
    ];
    for (steps, expected) in cases {
        let violations = unpinned_sources(&one_job("{ contents: read }", steps));
        assert!(
            violations.len() == 1 && violations[0].contains(expected),
            "{steps}: {violations:?}"
        );
    }
    let pinned = "      - uses: actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd\n        with:\n          ref: ${{ needs.validate.outputs.commit }}\n";
    assert_eq!(
        unpinned_sources(&one_job("{ contents: read }", pinned)),
        Vec::<String>::new()
    );
}

#[test]
fn an_installer_in_a_job_that_can_push_or_sign_is_caught() {
    let cases = [
        (
            "{ packages: write }",
            "      - run: curl -sSfL https://example.com/install.sh | sh -s -- -b /usr/local/bin\n",
        ),
        (
            "{ id-token: write }",
            "      - run: wget -qO- https://example.com/i.sh | sudo bash\n",
        ),
        (
            "{ packages: write }",
            "      - run: bash <(curl -s https://example.com/i.sh)\n",
        ),
        (
            "{ id-token: write }",
            "      - run: pip install git+https://github.com/example/tool\n",
        ),
        (
            "{ packages: write }",
            "      - run: go install github.com/example/tool@main\n",
        ),
        (
            "{ packages: write }",
            "      - run: go install github.com/example/tool@latest\n",
        ),
        (
            "{ id-token: write }",
            "      - run: cargo install --git https://github.com/example/tool\n",
        ),
        (
            "{ packages: write }",
            "      - run: npm install -g some-tool\n",
        ),
        (
            "write-all",
            "      - run: curl https://example.com/i.sh | sh\n",
        ),
        (
            "{ id-token: write, packages: write }",
            "      - uses: anchore/sbom-action@17ae1740179002c89186b61233e0f892c3118b11\n",
        ),
    ];
    for (permissions, steps) in cases {
        let violations = installers_in_writing_jobs(&one_job(permissions, steps));
        assert_eq!(violations.len(), 1, "{permissions} {steps}: {violations:?}");
    }
    // The same installers in a job that can neither push nor sign, and pinned installs in one
    // that can, are allowed.
    let read_only = one_job(
        "{ contents: read }",
        "      - run: curl https://example.com/i.sh | sh\n      - uses: anchore/sbom-action@17ae1740179002c89186b61233e0f892c3118b11\n",
    );
    assert_eq!(installers_in_writing_jobs(&read_only), Vec::<String>::new());
    let pinned = one_job(
        "{ packages: write }",
        "      - run: go install github.com/example/tool@v1.2.3\n      - run: curl -sSfLO https://example.com/tool.tar.gz\n",
    );
    assert_eq!(installers_in_writing_jobs(&pinned), Vec::<String>::new());
}

#[test]
fn an_image_not_pinned_by_digest_is_caught() {
    let digest = "sha256:0168606be2315b7c807a03b3d8aa79beefdb31c98740cebdffdfeebf31190c9f";
    assert_eq!(
        unpinned_froms(
            "FROM rust:1.95-slim-bookworm AS builder\nFROM scratch\nCOPY --from=builder /a /a\n"
        ),
        ["`FROM rust:1.95-slim-bookworm AS builder`: not pinned by digest"]
    );
    assert_eq!(
        unpinned_froms("FROM --platform=$BUILDPLATFORM ${RUST_IMAGE} AS builder\n").len(),
        1
    );
    assert_eq!(
        unpinned_froms(&format!(
            "FROM rust:1.95@{digest} AS toolchain\nFROM toolchain AS builder\nFROM scratch\n"
        )),
        Vec::<String>::new()
    );
    let cases = [
        "      - uses: docker://alpine:3.20\n".to_owned(),
        "      - run: |\n          docker build - <<'EOF'\n          FROM node:22\n          EOF\n".to_owned(),
        "      - uses: docker/setup-buildx-action@4d04d5d9486b7bd6fa91e7baf45bbb4f8b9deedd\n".to_owned(),
        "      - uses: docker/setup-buildx-action@4d04d5d9486b7bd6fa91e7baf45bbb4f8b9deedd\n        with:\n          driver-opts: image=moby/buildkit:buildx-stable-1\n".to_owned(),
        // A step output that does not come from the pinned BuildKit file.
        "      - id: buildkit\n        run: echo image=moby/buildkit:latest >>\"$GITHUB_OUTPUT\"\n      - uses: docker/setup-buildx-action@4d04d5d9486b7bd6fa91e7baf45bbb4f8b9deedd\n        with:\n          driver-opts: image=${{ steps.buildkit.outputs.image }}\n".to_owned(),
    ];
    for steps in &cases {
        let violations = unpinned_images(&one_job("{ contents: read }", steps));
        assert_eq!(violations.len(), 1, "{steps}: {violations:?}");
    }
    let container = parse(&format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    container: debian:12\n    services:\n      registry:\n        image: registry:2@{digest}\n    steps: []\n"
    ));
    assert_eq!(
        unpinned_images(&container),
        ["job `a`: image `debian:12` not pinned by digest"]
    );
    let pinned = one_job(
        "{ contents: read }",
        &format!(
            "      - uses: docker://alpine:3.20@{digest}\n      - uses: docker/setup-buildx-action@4d04d5d9486b7bd6fa91e7baf45bbb4f8b9deedd\n        with:\n          driver-opts: image=moby/buildkit:v0.30.0@{digest}\n"
        ),
    );
    assert_eq!(unpinned_images(&pinned), Vec::<String>::new());
}

#[test]
fn a_tag_moved_with_github_token_alone_is_caught() {
    let app = "      - id: app\n        uses: actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3\n";
    let floating = "      - env:\n          RELEASE_GIT_TOKEN: TOKEN\n        run: scripts/release-git-steps move-floating \"$TAG\" \"$COMMIT\" v1 v1.2\n";
    let cases = [
        // GITHUB_TOKEN alone, with or without an App step around.
        floating.replace("TOKEN", "${{ github.token }}"),
        format!("{app}{}", floating.replace("TOKEN", "${{ secrets.GITHUB_TOKEN }}")),
        // An App step pinned by tag, not by SHA.
        format!(
            "{}{}",
            app.replace("@1b10c78c7865c340bc4f6099eb2f838309f1e8c3", "@v3"),
            floating.replace("TOKEN", "${{ steps.app.outputs.token || github.token }}")
        ),
        // The App step comes after the move.
        format!("{}{app}", floating.replace("TOKEN", "${{ steps.app.outputs.token }}")),
        // A hand-written move of v1 through the API.
        "      - env:\n          GH_TOKEN: ${{ github.token }}\n        run: gh api --method PATCH repos/o/r/git/refs/tags/v1 -f sha=abc\n      - env:\n          RELEASE_GIT_TOKEN: ${{ github.token }}\n        run: scripts/release-git-steps move-floating v1.2.3 abc v1\n".to_owned(),
    ];
    for steps in &cases {
        let violations = tags_moved_without_app_token(&one_job("{ contents: write }", steps));
        assert!(
            !violations.is_empty() && violations.iter().all(|v| v.contains("GITHUB_TOKEN alone")),
            "{steps}: {violations:?}"
        );
    }
    let none = one_job("{ contents: write }", "      - run: echo nothing to move\n");
    assert_eq!(
        tags_moved_without_app_token(&none),
        ["no step moves the floating tags (release-git-steps move-floating)"]
    );
    let with_app = one_job(
        "{ contents: write }",
        &format!(
            "{app}{}",
            floating.replace("TOKEN", "${{ steps.app.outputs.token || github.token }}")
        ),
    );
    assert_eq!(
        tags_moved_without_app_token(&with_app),
        Vec::<String>::new()
    );
}
