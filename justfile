# Recipes for the daily loop. Install `just` with ./scripts/bootstrap (needs only cargo).

set shell := ["bash", "-euo", "pipefail", "-c"]

sim := "target/release/sim"

# List the recipes.
default:
    @just --list

# Build the release binary every recipe uses.
build:
    cargo build --release -p sim --quiet

# Run the tests exactly as CI does (the README's test command).
test:
    cargo test --workspace --release

# Everything CI checks: formatting, lints, tests, the seed corpus.
ci:
    bash .ci/run

# Run original grader scenarios: `just grader all --seed 3`.
grader *ARGS: build
    {{sim}} grader {{ARGS}}

# Full marks for `sim grader all` on every seed in FROM..=TO (default 1..=500).
grader-sweep FROM="1" TO="500": build
    #!/usr/bin/env bash
    set -euo pipefail
    failed=0
    for seed in $(seq {{FROM}} {{TO}}); do
        if ! out=$({{sim}} grader all --seed "$seed"); then
            echo "seed $seed:"; echo "$out" | grep -vE ' ([0-9]+)/\1 *$' || true; failed=1
        fi
    done
    [ "$failed" = 0 ] && echo "grader all: 180/180 on every seed in {{FROM}}..={{TO}}"
    exit "$failed"

# Criterion benchmarks (release): grader scenarios, and the checker on the Porcupine data.
bench:
    cargo bench --workspace
