#!/usr/bin/env bash
# Benchmark (not a test): builds the static release binary the image ships
# (scripts/build-static) and runs it against the fake GitHub API with GitHub's documented
# limits (5000 requests/h, 900 points a minute per endpoint, 100 concurrent requests) and
# 50 ms latency, for 1k, 10k and 100k versions, deleting the 100 oldest of each with the
# default pacing. Prints a Markdown table; takes about 7 minutes, most of it the 300 deletes
# at GitHub's advised one per second.
# Arguments are passed on: --sizes 1000,10000 --deletes 50
# `bench/run.sh hourly [--versions 100000 --old 10000 --budget 1000 --unchanged 20000]` runs
# the hourly scenario instead (crates/fake-github/examples/hourly.rs): a state-file kept
# between runs, the budget refilled between them.
# `bench/run.sh untag [--images 100 --builds 20 --recent 10]` runs untag on a package of
# double-tagged images (crates/fake-github/examples/untag.rs).
set -euo pipefail

cd "$(dirname "$0")/.."
example=bench
case "${1:-}" in
  hourly | untag)
    example="$1"
    shift
    ;;
esac
binary="$(scripts/build-static)"
cargo run --quiet --release --locked -p fake-github --example "$example" -- "$binary" "$@"
