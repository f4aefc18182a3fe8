"""Tests of the mutation-testing driver's own logic: selection, applying a diff, the table, flags.

Run with `python3 -m unittest discover -s scripts` (CI does). They need neither cargo-mutants
nor a build: the judging itself is measured by `just mutants`, not tested here.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr

sys.path.insert(0, os.path.dirname(__file__))
import mutant_judge  # noqa: E402
import mutants  # noqa: E402

NAMES = [f"node/src/ring.rs:{line}:5: replace > with < in Ring::new" for line in range(1, 41)]
MUTANTS = [{"name": n, "file": "node/src/ring.rs", "diff": ""} for n in NAMES]


class Selection(unittest.TestCase):
    def test_a_sample_has_its_size_and_depends_on_its_seed(self):
        a = mutants.select(MUTANTS, sample=10, seed=7)
        self.assertEqual(len(a), 10)
        self.assertEqual(len({m["name"] for m in a}), 10)
        self.assertEqual(a, mutants.select(MUTANTS, sample=10, seed=7))
        self.assertNotEqual(a, mutants.select(MUTANTS, sample=10, seed=8))

    def test_a_mutant_stays_in_its_sample_when_others_are_added(self):
        before = mutants.select(MUTANTS, sample=10, seed=7)
        extra = [{"name": f"node/src/lib.rs:{i}:1: new mutant", "file": "", "diff": ""} for i in range(40)]
        after = mutants.select(MUTANTS + extra, sample=20, seed=7)
        self.assertTrue(all(m in after for m in before))

    def test_a_sample_stopped_early_is_the_smaller_sample_of_the_same_seed(self):
        self.assertEqual(mutants.select(MUTANTS, sample=30, seed=7)[:10], mutants.select(MUTANTS, sample=10, seed=7))

    def test_names_from_a_file_select_those_mutants_as_the_table_quotes_them(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(f"- `{NAMES[3]}` (unit: killed, regress: survived)\n{NAMES[5]}\n\nnode/src/gone.rs:1:1: x\n")
        try:
            self.assertEqual([m["name"] for m in mutants.named(MUTANTS, f.name)], [NAMES[3], NAMES[5]])
        finally:
            os.remove(f.name)

    def test_shards_partition_the_selection(self):
        shards = [mutants.select(MUTANTS, sample=25, seed=3, shard=(k, 4)) for k in range(1, 5)]
        joined = sorted((m["name"] for s in shards for m in s))
        self.assertEqual(joined, sorted(m["name"] for m in mutants.select(MUTANTS, sample=25, seed=3)))
        self.assertEqual(len(set(joined)), 25)


class ApplyingADiff(unittest.TestCase):
    def test_a_diff_applies_to_its_file_and_the_file_comes_back(self):
        with tempfile.TemporaryDirectory() as tree:
            os.makedirs(os.path.join(tree, "src"))
            path = os.path.join(tree, "src", "lib.rs")
            original = "fn f(a: u8) -> bool {\n    a > 3\n}\n"
            with open(path, "w") as f:
                f.write(original)
            diff = ("--- src/lib.rs\n+++ replace > with < in f\n@@ -1,3 +1,3 @@\n"
                    " fn f(a: u8) -> bool {\n-    a > 3\n+    a < 3\n }\n")
            mutant = {"name": "src/lib.rs:2:7: replace > with < in f", "file": "src/lib.rs", "diff": diff}
            before = mutants.apply_diff(tree, mutant)
            self.assertEqual(before, original)
            with open(path) as f:
                self.assertEqual(f.read(), "fn f(a: u8) -> bool {\n    a < 3\n}\n")
            mutants.restore(tree, mutant, before)
            with open(path) as f:
                self.assertEqual(f.read(), original)

    def test_a_diff_that_does_not_apply_is_an_error_and_leaves_the_file(self):
        with tempfile.TemporaryDirectory() as tree:
            path = os.path.join(tree, "lib.rs")
            with open(path, "w") as f:
                f.write("fn g() {}\n")
            diff = "--- lib.rs\n+++ x\n@@ -1,1 +1,1 @@\n-fn f() {}\n+fn f() { loop {} }\n"
            with self.assertRaises(RuntimeError):
                mutants.apply_diff(tree, {"name": "lib.rs:1:1: x", "file": "lib.rs", "diff": diff})
            with open(path) as f:
                self.assertEqual(f.read(), "fn g() {}\n")
            self.assertEqual(os.listdir(tree), ["lib.rs"])


class Table(unittest.TestCase):
    def test_the_table_counts_each_judge_and_names_every_survivor(self):
        results = [
            {"name": "a.rs:1:1: killed one", "fuzz": "killed", "unit": "survived", "regress": "killed"},
            {"name": "a.rs:2:1: survivor", "fuzz": "survived", "unit": "killed", "regress": "survived"},
            {"name": "a.rs:3:1: hangs", "fuzz": "timed out", "unit": "survived", "regress": "survived"},
            {"name": "a.rs:4:1: does not compile", "fuzz": "unviable", "unit": "unviable", "regress": "unviable"},
        ]
        text = mutants.table(results)
        self.assertIn("| fresh fuzzing (the score) | 1 | 1 | 1 | 1 | 33.3% |", text)
        self.assertIn("| unit tests (`cargo test -p node`) | 1 | 2 | 0 | 1 | 33.3% |", text)
        self.assertIn("| seed corpus (`sim regress`) | 1 | 2 | 0 | 1 | 33.3% |", text)
        self.assertIn("- `a.rs:2:1: survivor` (unit: killed, regress: survived)", text)
        self.assertIn("- `a.rs:3:1: hangs` (timed out) (unit: survived, regress: survived)", text)
        self.assertNotIn("killed one`", text)

    def test_results_files_merge_with_the_last_line_of_a_mutant_winning(self):
        with tempfile.TemporaryDirectory() as d:
            first, second = os.path.join(d, "1.jsonl"), os.path.join(d, "2.jsonl")
            with open(first, "w") as f:
                f.write(json.dumps({"name": "m", "fuzz": "survived"}) + "\n")
                f.write(json.dumps({"name": "n", "fuzz": "killed"}) + "\n")
            with open(second, "w") as f:
                f.write(json.dumps({"name": "m", "fuzz": "killed"}) + "\n")
            rows = mutants.read_results([first, second])
            self.assertEqual(sorted((r["name"], r["fuzz"]) for r in rows), [("m", "killed"), ("n", "killed")])


class SkippedSeeds(unittest.TestCase):
    def test_segments_cover_the_range_but_the_skipped_seeds(self):
        pieces = mutant_judge.segments(100, 10, [103, 104, 109, 250, 99])
        seeds = [s for first, runs in pieces for s in range(first, first + runs)]
        self.assertEqual(seeds, [100, 101, 102, 105, 106, 107, 108])
        self.assertEqual(mutant_judge.segments(100, 10, []), [(100, 10)])

    def test_skip_seeds_parse_per_variant(self):
        skips = mutant_judge.parse_skips("classic:50006630 versioned:7 classic:3")
        self.assertEqual(skips, {"classic": [50006630, 3], "versioned": [7]})


class Flags(unittest.TestCase):
    def run_main(self, argv):
        err = io.StringIO()
        with redirect_stderr(err):
            status = mutants.main(argv)
        return status, err.getvalue()

    def test_bad_flags_exit_2_with_one_line_naming_the_flag(self):
        for argv, flag in ((["--sample", "0", "--seed", "1"], "--sample"),
                           (["--shard", "3/2"], "--shard"),
                           (["--shard", "x"], "--shard"),
                           (["--sample", "5"], "--seed"),
                           (["--frobnicate"], "--frobnicate")):
            status, err = self.run_main(argv)
            self.assertEqual(status, 2, argv)
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertIn(flag, err)

    def test_a_results_file_that_is_not_one_names_its_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write(json.dumps({"name": "m", "fuzz": "killed"}) + "\n{oops\n")
        try:
            status, err = self.run_main(["--table", f.name])
        finally:
            os.remove(f.name)
        self.assertEqual(status, 2)
        self.assertEqual(err.strip(), f"mutants: {f.name}:2: not a result line (JSON with a name)")

    def test_the_judge_rejects_a_bad_run_count_in_one_line(self):
        judge = os.path.join(os.path.dirname(__file__), "mutant_judge.py")
        done = subprocess.run([sys.executable, judge], env=dict(os.environ, MUTANTS_RUNS="many"),
                              capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stderr.strip(), "mutant-judge: MUTANTS_RUNS='many': not a positive integer")


if __name__ == "__main__":
    unittest.main()
