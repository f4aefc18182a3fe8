#!/usr/bin/env python3
"""Judges one mutant of node/ by fresh fuzzing alone.

Run it from the root of a tree whose release `sim` is already built (`scripts/mutants.py` does
that for every mutant, in a scratch copy). It fuzzes both variants from a seed range that the seed
corpus was not built from, then plays the original grader on a few seeds for the code only the
graders reach (the EmulNet network and its wire sizes). Exit status: 0 when every judge passed
(the mutant survived), 1 when one found a failure (the mutant is killed), 2 for bad flags. The
last line printed says which judge killed it, or that none did.

Environment (the defaults are the project's measurement; change them only to measure something
else, and say so next to the figures):
  MUTANTS_RUNS   runs per variant (default 10000, as issue 12 asks)
  MUTANTS_SEED   first seed (default 50000000: see FRESH_SEED)
  SIM            the binary to judge (default target/release/sim)
  MUTANTS_SKIP_SEEDS  seeds the unmutated tree fails, left out ("classic:50006630 ..."); what
                 `mutant_judge.py --baseline` prints after "skip seeds:"
"""

import json
import os
import subprocess
import sys
import tempfile

# The corpus in seeds/ was found by `sim fuzz --seed 1`, `sim hunt` (starts 1 + i * 1_000_003 for
# i < 5, so below 4_100_000) and the classic anomaly race (starts below 19_001_059). Fifty million
# is clear of all of them, so a kill here is fresh fuzzing finding the bug, not the corpus
# remembering it.
FRESH_SEED = 50_000_000
RUNS_PER_VARIANT = 10_000
# Both store variants: a mutant of shared code (membership, ring) dies under either; a mutant of
# one store only under its own.
VARIANTS = ("classic", "versioned")
# A few grader seeds: the grader's timelines are fixed, the seed only moves the message loss.
GRADER_SEEDS = (1, 2, 3)
# Rounds the baseline may take to list the unmutated tree's own failures.
BASELINE_ROUNDS_MAX = 4
EXIT_SURVIVED = 0
EXIT_KILLED = 1
EXIT_USAGE = 2


def env_int(name, default):
    """An integer from the environment, or exit 2 with one line naming the variable."""
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 1:
        print(f"mutant-judge: {name}={text!r}: not a positive integer", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    return value


def parse_skips(text):
    """MUTANTS_SKIP_SEEDS ("classic:50006630 versioned:50001234"): seeds per variant to leave out."""
    skips = {v: [] for v in VARIANTS}
    for item in text.split():
        variant, _, seed = item.partition(":")
        if variant not in skips or not seed.isdigit():
            print(f"mutant-judge: MUTANTS_SKIP_SEEDS: {item!r}: expected VARIANT:SEED", file=sys.stderr)
            sys.exit(EXIT_USAGE)
        skips[variant].append(int(seed))
    return skips


def segments(first, runs, skip):
    """(first seed, runs) pieces of first..first+runs that leave out the seeds in skip."""
    pieces, start = [], first
    for seed in sorted(s for s in set(skip) if first <= s < first + runs) + [first + runs]:
        if seed > start:
            pieces.append((start, seed - start))
        start = seed + 1
    return pieces


def fuzz(sim, variant, pieces, jobs, stop):
    """Fuzzes one variant over the pieces; returns the failing seeds (seed, why), or [] for none.

    With stop, the first failure ends it (judging a mutant); without, every piece runs to its end
    (learning the unmutated tree's own failures)."""
    found = []
    for first, runs in pieces:
        with tempfile.TemporaryDirectory(prefix="mutant-judge-") as out:
            command = [sim, "fuzz", "--runs", str(runs), "--seed", str(first), "--variant", variant,
                       "--jobs", str(jobs), "--no-shrink", "--json", "--out", out]
            done = subprocess.run(command + (["--stop-on-failure"] if stop else []),
                                  capture_output=True, text=True, check=False)
        if done.returncode == 0:
            continue
        try:
            summary = json.loads(done.stdout.strip().splitlines()[-1])
            kept = [(f["seed"], f"fails {f['property']}") for f in summary["failing_seeds"]]
            if not kept and summary.get("nondeterministic"):
                kept = [(first, "nondeterministic runs")]
        except (IndexError, KeyError, TypeError, ValueError):
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            kept = [(first, f"exit {done.returncode}: {last[:200]}")]
        found += kept
        if stop:
            break
    return found


def grader(sim, seed):
    """Plays the original grader; returns None at full marks, else why the mutant is killed."""
    done = subprocess.run([sim, "grader", "all", "--seed", str(seed)], capture_output=True,
                          text=True, check=False)
    if done.returncode == 0:
        return None
    return f"grader all --seed {seed}: exit {done.returncode}"


def baseline(sim, runs, seed, jobs):
    """Learns which seeds of the range the unmutated tree itself fails, and prints them.

    Such a failure is a finding about the tree (a bug, or a property that fires on correct
    behaviour), not about a mutant: the mutants are judged on the other seeds, and the figures
    say which seeds were left out. `sim fuzz` keeps the lowest failing seed per violation, so this
    runs again without the seeds it found until a round finds nothing."""
    skips = {v: [] for v in VARIANTS}
    for variant in VARIANTS:
        for _ in range(BASELINE_ROUNDS_MAX):
            found = fuzz(sim, variant, segments(seed, runs, skips[variant]), jobs, stop=False)
            if not found:
                break
            skips[variant] += [s for s, _ in found]
            for s, why in found:
                print(f"unmutated tree: {variant} seed {s} {why}", flush=True)
        else:
            print(f"killed: unmutated tree: {variant} still fails after {BASELINE_ROUNDS_MAX} rounds")
            return EXIT_KILLED
    why = next(filter(None, (grader(sim, s) for s in GRADER_SEEDS)), None)
    if why is not None:
        print(f"killed: unmutated tree: {why}")
        return EXIT_KILLED
    known = " ".join(f"{v}:{s}" for v in VARIANTS for s in sorted(skips[v]))
    print(f"skip seeds: {known}", flush=True)
    return EXIT_SURVIVED


def main(argv):
    """Runs the judges in order of cost and stops at the first that kills."""
    runs = env_int("MUTANTS_RUNS", RUNS_PER_VARIANT)
    seed = env_int("MUTANTS_SEED", FRESH_SEED)
    skips = parse_skips(os.environ.get("MUTANTS_SKIP_SEEDS", ""))
    sim = os.environ.get("SIM", "target/release/sim")
    if argv not in ([], ["--baseline"]):
        print(f"mutant-judge: {' '.join(argv)}: the only flag is --baseline", file=sys.stderr)
        return EXIT_USAGE
    if not os.access(sim, os.X_OK):
        print(f"mutant-judge: SIM={sim}: no such executable (build it first)", file=sys.stderr)
        return EXIT_USAGE
    jobs = os.cpu_count() or 1
    if argv:
        return baseline(sim, runs, seed, jobs)
    for variant in VARIANTS:
        found = fuzz(sim, variant, segments(seed, runs, skips[variant]), jobs, stop=True)
        if found:
            print(f"killed: fuzz {variant}: seed {found[0][0]} {found[0][1]}", flush=True)
            return EXIT_KILLED
    why = next(filter(None, (grader(sim, s) for s in GRADER_SEEDS)), None)
    if why is not None:
        print(f"killed: {why}", flush=True)
        return EXIT_KILLED
    left_out = sum(map(len, skips.values()))
    print(f"survived: {runs} runs per variant from seed {seed} ({left_out} left out), grader seeds "
          f"{','.join(map(str, GRADER_SEEDS))}", flush=True)
    return EXIT_SURVIVED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
