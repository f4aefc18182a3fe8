#!/usr/bin/env python3
"""`just mutants`: how many mutants of node/ fresh fuzzing kills.

cargo-mutants (installed by scripts/bootstrap) makes the mutants: flipped comparisons, swapped
operators, deleted match arms, functions returning defaults. Its own runner judges a mutant by
`cargo test`, which is not what this measures, so this driver takes cargo-mutants' list (with its
exclusions from .cargo/mutants.toml and their reasons), applies each mutant's diff in a scratch
copy of the tree, builds the release `sim` there, and judges it with scripts/mutant_judge.py:
`sim fuzz` on both variants from a fresh seed range and `sim grader all` on a few seeds. That score
is the harness's power. The unit tests of node/ (`cargo test --release -p node`) and the seed
corpus (`sim regress seeds`) judge the same mutant beside it, reported but not counted: they
catch the bugs found once before, and the score is about the next one.

    scripts/mutants.py [--sample N --seed S] [--shard K/M] [--names FILE] [--out DIR] [--resume]
                       [--no-beside]
    scripts/mutants.py --list [--sample N --seed S] [--shard K/M]
    scripts/mutants.py --table RESULTS.jsonl...

Exit status: 0 when every selected mutant was judged, 1 when the unmutated tree fails a judge (a
false alarm: no score can be given), 2 for bad flags (one line on stderr naming the flag).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

EXIT_OK = 0
EXIT_BASELINE = 1
EXIT_USAGE = 2

# A judge that takes this many times the unmutated tree's time (and at least TIMEOUT_MIN_SECONDS)
# has hung: a mutant that loops forever inside a step is caught this way, not by a property.
TIMEOUT_MULTIPLIER = 4.0
TIMEOUT_MIN_SECONDS = 120.0
BUILD_TIMEOUT_SECONDS = 1800.0

# Outcomes of one judge on one mutant, in table order.
KILLED, SURVIVED, TIMEOUT, UNVIABLE = "killed", "survived", "timed out", "unviable"
OUTCOMES = (KILLED, SURVIVED, TIMEOUT, UNVIABLE)
# The judges, in table order: the score first, then the two reported beside it.
FUZZ, UNIT, REGRESS = "fuzz", "unit", "regress"
JUDGE_LABELS = {
    FUZZ: "fresh fuzzing (the score)",
    UNIT: "unit tests (`cargo test -p node`)",
    REGRESS: "seed corpus (`sim regress`)",
}

# Mutant builds change only node/ and the crates above it; debug info and a full (non-incremental)
# release build would only make each of them slower. The judgement does not depend on it: a run
# gives the same trace in every build profile.
BUILD_ENV = {
    "CARGO_PROFILE_RELEASE_DEBUG": "0",
    "CARGO_PROFILE_RELEASE_INCREMENTAL": "true",
}


class UsageError(Exception):
    """A bad flag: reported as one line on stderr, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line and exit status 2."""

    def error(self, message):
        raise UsageError(message)


def parse_shard(text):
    """K/M with 1 <= K <= M, as `sim fuzz --shard` takes it: mutants i with i mod M = K-1."""
    k, sep, m = text.partition("/")
    if not sep or not k.isdigit() or not m.isdigit() or not 1 <= int(k) <= int(m):
        raise argparse.ArgumentTypeError(f"{text!r}: expected K/M with 1 <= K <= M, e.g. 1/4")
    return int(k), int(m)


def positive_int(text):
    """A count of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: not a positive integer")
    return int(text)


def seed_int(text):
    """A sample seed: any non-negative integer."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: not a non-negative integer")
    return int(text)


def parse_args(argv):
    """The flags; raises UsageError with one line for anything wrong."""
    p = Parser(prog="mutants", description=__doc__.split("\n\n")[0])
    p.add_argument("--sample", type=positive_int, help="judge a seeded random sample of N mutants")
    p.add_argument("--seed", type=seed_int, help="the sample's seed (required with --sample)")
    p.add_argument("--shard", type=parse_shard, help="K/M: judge mutants i with i mod M = K-1")
    p.add_argument("--names", metavar="FILE",
                   help="judge only the mutants named in FILE, one a line (e.g. the survivors)")
    p.add_argument("--out", default="target/mutants", help="scratch tree, builds and results")
    p.add_argument("--resume", action="store_true", help="skip mutants already in the results")
    p.add_argument("--no-beside", action="store_true",
                   help="judge by fuzzing only, not also by unit tests and the seed corpus")
    p.add_argument("--list", action="store_true", help="print the selected mutants and stop")
    p.add_argument("--table", nargs="+", metavar="RESULTS", help="print the table of results files (the last line of each mutant wins)")
    args = p.parse_args(argv)
    if (args.sample is None) != (args.seed is None):
        raise UsageError("--sample and --seed: give both or neither")
    return args


def sample_rank(seed, name):
    """A mutant's place in the seed's random order: a hash of the seed and the mutant's name.

    A hash, not a shuffle, so that whether a mutant is in the sample depends only on its own name:
    adding code elsewhere in node/ leaves the rest of a sample as it was."""
    return hashlib.sha256(f"{seed}\0{name}".encode()).hexdigest()


def select(mutants, sample=None, seed=None, shard=None):
    """The sample (if any) of the mutants, then the shard (if any) of that.

    A sample comes in its random order, so that a campaign stopped early has still judged a
    random sample (the first ones of the seed's order); without one, in list order."""
    chosen = mutants
    if sample is not None:
        chosen = sorted(mutants, key=lambda m: sample_rank(seed, m["name"]))[:sample]
    if shard is not None:
        k, m = shard
        chosen = [x for i, x in enumerate(chosen) if i % m == k - 1]
    return chosen


def named(mutants, path):
    """The mutants named in a file: one name a line, or the table's survivor lines (`- \`name\` ...`)."""
    try:
        with open(path, encoding="utf-8") as f:
            wanted = {quoted.group(1) if (quoted := re.match(r"\s*-?\s*`([^`]+)`", line)) else line.strip()
                      for line in f if line.strip()}
    except OSError as e:
        raise UsageError(f"--names {path}: cannot read: {e.strerror}") from None
    return [m for m in mutants if m["name"] in wanted]


def list_mutants(root):
    """cargo-mutants' mutants of node/ (after .cargo/mutants.toml's exclusions), with diffs, named
    as cargo-mutants names them (`file:line:column: description`)."""
    entries = json.loads(run_out(["cargo", "mutants", "--list", "--json", "--diff", "--package", "node"], root))
    return [{"name": e["name"], "file": e["file"], "diff": e["diff"]} for e in entries]


def run_out(command, cwd):
    """A command's stdout; its stderr and status end the driver when it fails."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def copy_tree(root, scratch):
    """The project's files (tracked and new, not ignored) copied to scratch, replacing it.

    The build directory beside it is kept between campaigns (only node/ and what depends on it
    rebuild), so the copies must look newer than anything built there."""
    files = run_out(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)
    if os.path.isdir(scratch):
        shutil.rmtree(scratch)
    for rel in filter(None, files.split("\0")):
        source = os.path.join(root, rel)
        if os.path.isfile(source):
            target = os.path.join(scratch, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # A fresh modification time, not the source's: an older one could look older than
            # the build directory's last mutant and leave that mutant's binary in place.
            shutil.copy(source, target)


def apply_diff(tree, mutant):
    """Applies the mutant's diff to its file in tree; returns the file's text before it."""
    path = os.path.join(tree, mutant["file"])
    with open(path, encoding="utf-8") as f:
        original = f.read()
    done = subprocess.run(["patch", "--quiet", "--forward", "--no-backup-if-mismatch", "-r", "-", path],
                          input=mutant["diff"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        restore(tree, mutant, original)
        raise RuntimeError(f"{mutant['name']}: its diff does not apply: {done.stdout.strip()}")
    return original


def restore(tree, mutant, original):
    """Puts the mutant's file back as it was."""
    with open(os.path.join(tree, mutant["file"]), "w", encoding="utf-8") as f:
        f.write(original)


class Lab:
    """The scratch tree and its build directory, and the judges run in it."""

    def __init__(self, out):
        self.tree = os.path.join(out, "tree")
        self.sim = os.path.join(out, "build", "release", "sim")
        self.env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(out, "build"), SIM=self.sim, **BUILD_ENV)
        self.judge_script = os.path.join(self.tree, "scripts", "mutant_judge.py")
        self.judge_timeout_seconds = None
        # The unit tests are built first with the build's timeout, then run with their own,
        # set by the baseline like fuzzing's.
        self.unit_timeout_seconds = BUILD_TIMEOUT_SECONDS

    def command(self, command, timeout):
        """(status, seconds, last line of output) of a command in the tree; status None = timeout."""
        began = time.monotonic()
        # Its own process group, so that a timeout ends the judge's children too (a hung `sim
        # fuzz` under a timed-out judge would otherwise go on taking the cores).
        child = subprocess.Popen(command, cwd=self.tree, env=self.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            return None, time.monotonic() - began, f"no answer in {timeout:.0f} s"
        lines = output.strip().splitlines()
        return child.returncode, time.monotonic() - began, lines[-1][:300] if lines else ""

    def build(self):
        """Builds the release `sim`: (whether the tree compiles, the build's last line)."""
        status, _, last = self.command(["cargo", "build", "--release", "--quiet", "-p", "sim"],
                                       BUILD_TIMEOUT_SECONDS)
        return status == 0, last

    def judge(self, name):
        """(outcome, seconds, detail) of one judge on the built tree."""
        if name == FUZZ:
            command, timeout = [sys.executable, self.judge_script], self.judge_timeout_seconds
        elif name == UNIT:
            unit = ["cargo", "test", "--release", "--quiet", "-p", "node"]
            status, _, last = self.command(unit + ["--no-run"], BUILD_TIMEOUT_SECONDS)
            if status != 0:
                return UNVIABLE, 0.0, last
            command, timeout = unit, self.unit_timeout_seconds
        else:
            command, timeout = [self.sim, "regress", "seeds"], self.judge_timeout_seconds
        status, seconds, last = self.command(command, timeout)
        if status is None:
            return TIMEOUT, seconds, last
        return (SURVIVED if status == 0 else KILLED), seconds, last


def judges_for(args):
    """The judges this run uses: fuzzing, and the two beside it unless --no-beside."""
    return [FUZZ] if args.no_beside else [FUZZ, UNIT, REGRESS]


def baseline(lab, judges):
    """Judges the unmutated tree: the seeds it fails itself are left out of every mutant's range
    (and printed: each is a finding about the tree), the other judges must pass, and fuzzing's
    time sets the timeout."""
    compiles, last = lab.build()
    if not compiles:
        raise RuntimeError(f"the unmutated tree does not build: {last}")
    status, seconds, last = lab.command([sys.executable, lab.judge_script, "--baseline"], None)
    print(f"baseline fuzz: {seconds:.0f} s: {last}", flush=True)
    if status != 0 or not last.startswith("skip seeds:"):
        return False
    lab.env["MUTANTS_SKIP_SEEDS"] = last.removeprefix("skip seeds:").strip()
    lab.judge_timeout_seconds = max(TIMEOUT_MIN_SECONDS, TIMEOUT_MULTIPLIER * seconds)
    for name in judges[1:]:
        outcome, seconds, detail = lab.judge(name)
        print(f"baseline {name}: {outcome} in {seconds:.0f} s: {detail}", flush=True)
        if outcome != SURVIVED:
            return False
        if name == UNIT:
            lab.unit_timeout_seconds = max(TIMEOUT_MIN_SECONDS, TIMEOUT_MULTIPLIER * seconds)
    return True


def judge_mutant(lab, mutant, judges):
    """One result line: the mutant, and each judge's outcome on it."""
    original = apply_diff(lab.tree, mutant)
    began = time.monotonic()
    try:
        result = {"name": mutant["name"], "file": mutant["file"]}
        compiles, last = lab.build()
        if not compiles:
            result.update({name: UNVIABLE for name in judges})
            result["build_detail"] = last
        else:
            for name in judges:
                outcome, _, detail = lab.judge(name)
                result[name] = outcome
                result[f"{name}_detail"] = detail
    finally:
        restore(lab.tree, mutant, original)
    result["seconds"] = round(time.monotonic() - began, 1)
    return result


def config_key(lab):
    """What a result depends on besides the mutant: results under another judge are not reused."""
    return {"runs": os.environ.get("MUTANTS_RUNS", "10000"), "seed": os.environ.get("MUTANTS_SEED", "50000000"),
            "skip_seeds": lab.env.get("MUTANTS_SKIP_SEEDS", "")}


def read_results(paths):
    """Result lines from files, the last one of each mutant winning."""
    results = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    try:
                        row = json.loads(line)
                        results[row["name"]] = row
                    except (ValueError, KeyError, TypeError):
                        raise UsageError(f"{path}:{number}: not a result line (JSON with a name)") from None
        except OSError as e:
            raise UsageError(f"{path}: cannot read: {e.strerror}") from None
    return list(results.values())


def table(results):
    """The score table (markdown) and every survivor of fuzzing by name."""
    lines = ["| judge | killed | survived | timed out | unviable | killed share |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, label in JUDGE_LABELS.items():
        judged = [r[name] for r in results if name in r]
        if not judged:
            continue
        counts = [judged.count(o) for o in OUTCOMES]
        viable = counts[0] + counts[1] + counts[2]
        share = f"{100.0 * counts[0] / viable:.1f}%" if viable else "-"
        lines.append(f"| {label} | " + " | ".join(map(str, counts)) + f" | {share} |")
    lines.append("")
    lines.append("killed share = killed / (killed + survived + timed out); unviable mutants do not compile.")
    survivors = [r for r in results if r.get(FUZZ) in (SURVIVED, TIMEOUT)]
    lines.append("")
    lines.append(f"Not killed by fresh fuzzing ({len(survivors)}):" if survivors else "Not killed by fresh fuzzing: none.")
    for r in sorted(survivors, key=lambda r: r["name"]):
        beside = ", ".join(f"{n}: {r[n]}" for n in (UNIT, REGRESS) if n in r)
        note = " (timed out)" if r[FUZZ] == TIMEOUT else ""
        lines.append(f"- `{r['name']}`{note}" + (f" ({beside})" if beside else ""))
    return "\n".join(lines)


def main(argv):
    """Lists, selects, judges and tabulates; see the module's doc for the exit status."""
    try:
        args = parse_args(argv)
        if args.table:
            print(table(read_results(args.table)))
            return EXIT_OK
    except UsageError as e:
        print(f"mutants: {e}", file=sys.stderr)
        return EXIT_USAGE
    root = run_out(["git", "rev-parse", "--show-toplevel"], os.getcwd()).strip()
    mutants = list_mutants(root)
    if args.names:
        try:
            mutants = named(mutants, args.names)
        except UsageError as e:
            print(f"mutants: {e}", file=sys.stderr)
            return EXIT_USAGE
    chosen = select(mutants, args.sample, args.seed, args.shard)
    if args.list:
        print("\n".join(m["name"] for m in chosen))
        return EXIT_OK
    out = os.path.abspath(args.out)
    results_path = os.path.join(out, "results.jsonl")
    print(f"{len(chosen)} of {len(mutants)} mutants of node/ selected"
          + (f" (sample {args.sample}, seed {args.seed})" if args.sample else "")
          + (f" (shard {args.shard[0]}/{args.shard[1]})" if args.shard else ""), flush=True)
    lab = Lab(out)
    copy_tree(root, lab.tree)
    judges = judges_for(args)
    if not baseline(lab, judges):
        print("mutants: the unmutated tree fails a judge: fix that false alarm before scoring", file=sys.stderr)
        return EXIT_BASELINE
    config = config_key(lab)
    # Results are only ever appended: a campaign under another config (more runs, say) adds its
    # lines beside the earlier ones, and each table reads the lines of its own config.
    resumable = args.resume and os.path.exists(results_path)
    done = {r["name"] for r in read_results([results_path]) if r.get("config") == config} if resumable else set()
    todo = [m for m in chosen if m["name"] not in done]
    print(f"judging {len(todo)} ({len(chosen) - len(todo)} judged before under the same config)", flush=True)
    for i, mutant in enumerate(todo, 1):
        result = judge_mutant(lab, mutant, judges)
        result["config"] = config
        with open(results_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")
        print(f"[{i}/{len(todo)}] {result[FUZZ]:9} {result['seconds']:6.0f} s  {mutant['name']}", flush=True)
    names = {m["name"] for m in chosen}
    print()
    print(table([r for r in read_results([results_path]) if r["name"] in names and r.get("config") == config]))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
