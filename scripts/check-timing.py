#!/usr/bin/env python3
"""`sim check` as people call it: one process per file, witness included, start-up taken off.

For each binary given, interleaved so that all see the same load: the minimum over REPS runs
of each file's whole-process wall time, minus the minimum for an empty history (etcd_095.log,
which is the process starting, reading a file and exiting). Reports the 102 non-empty etcd
files in total, and kv c50-bad and c50-ok. Minimums, because the machine is shared: noise only
ever adds time. The runs go in rounds, each round every file once with every binary, so that a
burst of load hits all files and binaries alike; the empty history runs STARTUP_RUNS times a
round, because its minimum is taken off each of the 102 files.

    PORCUPINE_DATA=/path/to/porcupine scripts/check-timing.py [--reps N] SIM [SIM...]
"""
import argparse
import os
import subprocess
import sys
import time


STARTUP_RUNS = 5


def run_ms(sim, path, fmt):
    started = time.perf_counter()
    subprocess.run([sim, "check", path, "--format", fmt],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("sims", nargs="+")
    args = parser.parse_args()
    data = os.environ.get("PORCUPINE_DATA")
    if not data:
        sys.exit("error: PORCUPINE_DATA is unset: set it to the folder of Porcupine's data")
    etcd = []
    with open(os.path.join(data, "VERDICTS.tsv")) as verdicts:
        for line in verdicts:
            name, _, ops, fmt = line.rstrip("\n").split("\t")
            if fmt == "jepsen-etcd" and ops != "0":
                etcd.append(os.path.join(data, name))
    files = [(p, "jepsen-etcd") for p in etcd] + [
        (os.path.join(data, "kv", n), "jepsen-kv") for n in ("c50-bad.txt", "c50-ok.txt")]
    empty = (os.path.join(data, "jepsen", "etcd_095.log"), "jepsen-etcd")
    best = {sim: {} for sim in args.sims}
    for _ in range(args.reps):
        for path, fmt in [empty] * STARTUP_RUNS + files:
            for sim in args.sims:
                best[sim][path] = min(best[sim].get(path, float("inf")), run_ms(sim, path, fmt))
    for sim in args.sims:
        start = best[sim][empty[0]]
        net = {p: best[sim][p] - start for p, _ in files}
        total = sum(net[p] for p in etcd)
        kv = os.path.join(data, "kv")
        print(f"{sim}: start-up {start:.2f} ms; {len(etcd)} etcd files {total:.1f} ms; "
              f"c50-bad {net[os.path.join(kv, 'c50-bad.txt')]:.2f} ms; "
              f"c50-ok {net[os.path.join(kv, 'c50-ok.txt')]:.2f} ms (min of {args.reps}, "
              f"start-up taken off)")


if __name__ == "__main__":
    main()
