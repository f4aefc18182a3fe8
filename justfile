# Recipes for the daily loop. Install `just` with ./scripts/bootstrap (needs only cargo).

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

sim := "target/campaign/sim"
# The campaign binary optimised with a profile of its own fuzzing (`just fuzz-pgo`).
pgo := "target/pgo/sim"

# List the recipes.
default:
    @just --list

# Build the binary every recipe uses (the `campaign` profile: release with whole-program
# optimisation; see Cargo.toml).
build:
    cargo build --profile campaign -p sim --quiet

# The main job: `just fuzz --runs 10000` (any `sim fuzz` flags).
fuzz *ARGS: build
    {{sim}} fuzz "$@"

# The campaign binary with profile-guided optimisation (scripts/pgo-build): the same runs and
# trace hashes, about 14% fewer instructions, 4-8% more runs per second on this 2-core machine.
# Its first build, and the first after a source change, takes about four minutes.
build-pgo:
    scripts/pgo-build

# A long campaign on the profile-guided build: `just fuzz-pgo --runs 1000000`.
fuzz-pgo *ARGS: build-pgo
    {{pgo}} fuzz "$@"

# Replay a seed file or `--seed S` bit for bit: `just replay seeds/<file>.yaml`.
replay *ARGS: build
    {{sim}} replay "$@"

# Shrink a failing seed file: `just shrink seeds/<file>.yaml`.
shrink *ARGS: build
    {{sim}} shrink "$@"

# Replay the seed corpus and compare with each file's expectation (what CI runs).
regress *ARGS: build
    {{sim}} regress "$@"

# The planted-bug catalog.
bugs: build
    {{sim}} bugs

# Hunt every planted bug (`just hunt --json` for the machine-readable summary).
hunt *ARGS: build
    {{sim}} hunt --all "$@"

# Check a history file: `just check history.jsonl --format native`.
check *ARGS: build
    {{sim}} check "$@"

# Run original grader scenarios: `just grader all --seed 3`.
grader *ARGS: build
    {{sim}} grader "$@"

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

# The checker against Porcupine's histories with known verdicts (needs PORCUPINE_DATA).
compat:
    PORCUPINE_DATA="${PORCUPINE_DATA:-$(cd .. && pwd)/shared/data/porcupine}" cargo run --release --quiet -p checker --example compat

# The long run of the seed-file and history fuzz test (sim/tests/inputs.rs): CASES mutated inputs,
# 0 panics and 0 hangs, every exit-2 line naming the file and line; prints the figures.
fuzz-inputs CASES="100000":
    INPUT_FUZZ_CASES={{CASES}} PORCUPINE_DATA="${PORCUPINE_DATA:-$(cd .. && pwd)/shared/data/porcupine}" cargo test --release -p sim --test inputs -- --nocapture 2>&1 | grep -E '^(inputs|test result)'

# Run the tests exactly as CI does (the README's test command).
test:
    cargo test --workspace --release

# Everything CI checks: formatting, lints, tests, the seed corpus.
ci:
    bash .ci/run

# Speed figures: fuzz runs/s, ns per event and instructions per run for each variant, a grader
# scenario and the checker on the Porcupine data (`BENCH_RUNS=10000 just bench`).
bench:
    PORCUPINE_DATA="${PORCUPINE_DATA:-$(cd .. && pwd)/shared/data/porcupine}" scripts/bench

# `sim check` as one process per file on the Porcupine data, start-up taken off; give other
# binaries to compare them in one sitting: `just bench-check /work/base/sim`.
bench-check *SIMS: build
    PORCUPINE_DATA="${PORCUPINE_DATA:-$(cd .. && pwd)/shared/data/porcupine}" python3 scripts/check-timing.py {{SIMS}} {{sim}}

# Regenerate the README's planted-bug tables from `sim bugs` and `sim hunt --all`.
readme-tables: build
    #!/usr/bin/env bash
    set -euo pipefail
    catalog=$({{sim}} bugs)
    hunt=$({{sim}} hunt --all)
    python3 - "$catalog" "$hunt" <<'PY'
    import re, sys
    catalog, hunt = sys.argv[1], sys.argv[2]
    text = open("README.md").read()
    for name, body in (("catalog", catalog), ("hunt", hunt)):
        text = re.sub(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", lambda m: m.group(1) + body.strip() + "\n" + m.group(2), text, flags=re.S)
    open("README.md", "w").write(text)
    PY

# How fast fuzzing finds a classic linearizability anomaly: runs and seconds to the first one
# from 20 starting seeds, single-threaded, and their medians.
classic-anomaly-race: build
    #!/usr/bin/env bash
    set -euo pipefail
    dir=$(mktemp -d)
    for i in $(seq 0 19); do
        {{sim}} fuzz --variant classic --check linearizable --runs 1000 --seed $((1 + i * 1000003)) \
            --stop-on-failure --jobs 1 --no-shrink --json --out "$dir" 2>/dev/null || true
    done | python3 -c 'import json, statistics, sys; rows = [json.loads(l) for l in sys.stdin]; runs = [r["runs"] for r in rows]; secs = [r["seconds"] for r in rows]; found = sum(r["failures"] > 0 for r in rows); print(f"found in {found}/{len(rows)} starts; runs to first: {sorted(runs)}"); print(f"median runs {statistics.median(runs)}, median seconds {statistics.median(secs):.3f}")'
    rm -rf "$dir"

# A real test of a local cluster on loopback: `just jepsen --duration 60s --variant classic`.
jepsen *ARGS: build
    {{sim}} jepsen "$@"

# The figures of the README's real-cluster section: 60 s of kill, pause and partition on each
# variant, seed 1, folders under jepsen/.
jepsen-both: build
    {{sim}} jepsen --duration 60s --variant versioned --seed 1 --dir jepsen/versioned-1 || true
    {{sim}} jepsen --duration 60s --variant classic --seed 1 --dir jepsen/classic-1 || true

# A page's size and its render time in headless Chromium, five loads (default: the largest seed).
picture-timing SEED="seeds/classic-default-txn-id-reuse-bounded-response-1.yaml": build
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p target/pictures
    page="$(pwd)/target/pictures/timing.html"
    {{sim}} replay "{{SEED}}" --html "$page" >/dev/null || true
    echo "{{SEED}}: $(stat -c %s "$page") bytes"
    for i in 1 2 3 4 5; do
        profile=$(mktemp -d)
        chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
            --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
            --virtual-time-budget=3000 --dump-dom "file://$page" 2>/dev/null \
            | grep -o 'data-render-ms="[0-9]*"'
        rm -rf "$profile"
    done

# Mutation testing: mutants of node/ (cargo-mutants) judged by fresh fuzzing alone, unit tests and
# the seed corpus beside it: `just mutants --sample 60 --seed 12`, `just mutants --shard 1/8`,
# `just mutants --table target/mutants/results.jsonl`. MUTANTS_RUNS sets the runs per variant.
mutants *ARGS:
    python3 scripts/mutants.py "$@"
