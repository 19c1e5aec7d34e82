#!/usr/bin/env bash
# Demo: the real package-janitor binary against the bundled fake GitHub API.
# Plans a cleanup of untagged images older than two weeks (dry run), does it, then undoes it
# by restoring the ids the cleanup reported. Prints each run's step summary. The fake also
# serves the registry: v1.2.0 is a multi-arch index whose untagged platform manifests and
# attestation survive the untagged cleanup, and an old untagged image goes with its
# cosign signature.
set -euo pipefail

cd "$(dirname "$0")/.."
cargo build --quiet --workspace --bins
bin=target/debug

work=$(mktemp -d)
fake_pid=
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/fake-github" --seed demo/seed.json >"$work/fake.log" 2>&1 &
fake_pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$work/fake.log")
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the fake API did not start:" >&2
  cat "$work/fake.log" >&2
  exit 1
fi

# Runs the binary the way the Actions runner would: inputs as INPUT_* variables.
janitor() {
  : >"$work/summary"
  : >"$work/output"
  env -i PATH="$PATH" \
    GITHUB_API_URL="$url" INPUT_REGISTRY-URL="$url" GITHUB_REPOSITORY_OWNER=acme \
    GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
    INPUT_TOKEN=demo-token INPUT_PACKAGES=app "$@" \
    "$bin/package-janitor" >"$work/log" || { cat "$work/log"; exit 1; }
  echo "--- step summary ---"
  cat "$work/summary"
  echo "--- outputs: $(grep -E '^(ids|count)=' "$work/output" | tr '\n' ' ')"
  echo
}

echo "=== 1. dry run: untagged images older than two weeks ==="
janitor INPUT_TAG-STATE=untagged INPUT_OLDER-THAN=2w INPUT_DRY-RUN=true

echo "=== 2. the same cleanup, for real ==="
janitor INPUT_TAG-STATE=untagged INPUT_OLDER-THAN=2w
deleted=$(sed -n 's/^ids=//p' "$work/output")

echo "=== 3. undo: restore the ids the cleanup reported ($deleted) ==="
janitor INPUT_MODE=restore INPUT_VERSION-IDS="$deleted"
