#!/usr/bin/env bash
# Demo: the real package-janitor binary against the bundled fake GitHub API.
# Plans a cleanup of untagged images older than two weeks (dry run), does it, then undoes it
# by restoring the ids the cleanup reported. Prints each run's step summary. The fake also
# serves the registry: v1.2.0 is a multi-arch index whose untagged platform manifests and
# attestation survive the untagged cleanup, and an old untagged image goes with its
# cosign signature.
#
# Works cold and under any CARGO_TARGET_DIR: cargo says where it put the binaries, and the
# fake writes its URL to a file once it accepts connections.
set -euo pipefail

cd "$(dirname "$0")/.."

work=$(mktemp -d)
fake_pid=
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The paths of the binaries just built, from cargo's own JSON messages.
cargo build --quiet --workspace --bins --message-format=json-render-diagnostics \
  >"$work/build.json"
executable() {
  sed -n 's/.*"executable":"\([^"]*\/'"$1"'\)".*/\1/p' "$work/build.json" | tail -n 1
}
janitor_bin=$(executable package-janitor)
fake_bin=$(executable fake-github)
if [ ! -x "$janitor_bin" ] || [ ! -x "$fake_bin" ]; then
  echo "cargo did not report the package-janitor and fake-github binaries" >&2
  exit 1
fi

"$fake_bin" --seed demo/seed.json --url-file "$work/url" >"$work/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/url" ] && break
  if ! kill -0 "$fake_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ ! -s "$work/url" ]; then
  echo "the fake API did not start:" >&2
  cat "$work/fake.log" >&2
  exit 1
fi
url=$(cat "$work/url")

# Runs the binary the way the Actions runner would: inputs as INPUT_* variables.
janitor() {
  : >"$work/summary"
  : >"$work/output"
  env -i PATH="$PATH" GITHUB_ACTIONS=true \
    GITHUB_API_URL="$url" INPUT_REGISTRY-URL="$url" GITHUB_REPOSITORY_OWNER=acme \
    GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
    INPUT_TOKEN=demo-token INPUT_PACKAGES=app "$@" \
    "$janitor_bin" >"$work/log" || { cat "$work/log"; exit 1; }
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
