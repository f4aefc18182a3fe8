//! The main job end to end: fuzz finds a planted bug, the seed file replays bit for bit, shrinks,
//! and the shrunk file fails the same property; shards partition a campaign; seed files are
//! read strictly; replay traces of small fixed scenarios stay as reviewed.

use node::{PlantedBug, Variant};
use sim::fuzz::{fuzz, FuzzOptions, Progress};
use sim::judge::run_checked;
use sim::profile::Profile;
use sim::run::RunOptions;
use sim::seedfile::SeedFile;
use sim::shrink::{shrink, Target};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

mod common;
use common::sim;

struct Quiet;

impl Progress for Quiet {
    fn seed_done(&self, _failures: u64) {}
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-pipeline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options(out: &Path, bug: PlantedBug, runs: u64, jobs: usize) -> FuzzOptions {
    FuzzOptions {
        seed: 1,
        runs,
        jobs,
        profile: Profile::Default,
        variant: Variant::Classic,
        bug,
        extra: Vec::new(),
        shard: None,
        out: out.to_path_buf(),
        stop_on_failure: false,
        duration: None,
        shrink: false,
    }
}

#[test]
fn a_planted_bug_is_found_replayed_bit_for_bit_and_shrunk() {
    let out = temp_dir("found");
    let summary = fuzz(
        &options(&out, PlantedBug::OneReplyQuorum, 20, 2),
        &Arc::new(AtomicBool::new(false)),
        &Quiet,
    )
    .unwrap();
    assert!(summary.failures > 0, "{summary:?}");
    let kept = &summary.failing_seeds[0];
    let file = SeedFile::load(&kept.file).unwrap();
    assert_eq!(file.property, Some(kept.property));
    assert_eq!(file.bug, PlantedBug::OneReplyQuorum);

    // Replaying the file gives the same trace hash and the same violation.
    let key = file.run_key();
    let replayed = run_checked(&file.scenario, &key, RunOptions::default());
    assert_eq!(format!("{:016x}", replayed.trace_hash()), file.trace_hash);
    assert_eq!(
        replayed.judgement.first().map(|v| v.property),
        file.property
    );

    // Shrinking keeps the property failing and makes the scenario smaller.
    let property = file.property.unwrap();
    let shrunk = shrink(&file.scenario, &key, &Target::property(property), 300);
    let (small, report) = (shrunk.scenario, shrunk.report);
    assert!(!report.steps.is_empty(), "nothing was removed");
    let shrunk = run_checked(&small, &key, RunOptions::default());
    assert!(shrunk
        .judgement
        .violations
        .iter()
        .any(|v| v.property == property));
    assert!(shrunk.execution.record.history.len() < replayed.execution.record.history.len());

    // The shrunk file on disk replays as a failure of the same property, through the binary.
    let shrunk_path = out.join("shrunk.yaml");
    SeedFile {
        scenario: small,
        ..file
    }
    .save(&shrunk_path)
    .unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_sim"))
        .arg("replay")
        .arg(&shrunk_path)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stdout)
        .contains(&format!("verdict: FAIL {}", property.name())));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn campaigns_do_not_depend_on_the_number_of_threads() {
    let (a, b) = (temp_dir("jobs1"), temp_dir("jobs2"));
    let stop = Arc::new(AtomicBool::new(false));
    let one = fuzz(
        &options(&a, PlantedBug::DeleteSkipsReplica, 24, 1),
        &stop,
        &Quiet,
    )
    .unwrap();
    let two = fuzz(
        &options(&b, PlantedBug::DeleteSkipsReplica, 24, 2),
        &stop,
        &Quiet,
    )
    .unwrap();
    assert_eq!(
        (one.runs, one.failures, one.ticks, one.outcomes),
        (two.runs, two.failures, two.ticks, two.outcomes)
    );
    let seeds = |s: &sim::fuzz::FuzzSummary| {
        s.failing_seeds
            .iter()
            .map(|f| (f.seed, f.signature.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(seeds(&one), seeds(&two));
    assert!(one.nondeterministic.is_empty() && two.nondeterministic.is_empty());
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn four_shards_run_exactly_the_seeds_of_the_unsharded_campaign() {
    let out = temp_dir("shards");
    let stop = Arc::new(AtomicBool::new(false));
    let mut calm = options(&out, PlantedBug::None, 13, 2);
    calm.profile = Profile::Calm;
    let whole = fuzz(&calm, &stop, &Quiet).unwrap();
    let mut ran: Vec<u64> = Vec::new();
    let mut ticks = 0;
    for k in 1..=4 {
        let shard = fuzz(
            &FuzzOptions {
                shard: Some((k, 4)),
                ..calm.clone()
            },
            &stop,
            &Quiet,
        )
        .unwrap();
        ran.extend(shard.ran.iter().flat_map(|&(a, b)| a..=b));
        ticks += shard.ticks;
    }
    ran.sort_unstable();
    let all: Vec<u64> = whole.ran.iter().flat_map(|&(a, b)| a..=b).collect();
    assert_eq!(ran, all);
    assert_eq!(ticks, whole.ticks, "the same seeds, run the same way");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_seed_corpus_behaves_as_it_expects() {
    let (code, stdout, stderr) = sim(&["regress", "../seeds"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    let files = std::fs::read_dir("../seeds").unwrap().count();
    assert!(files > 0, "the corpus is not empty");
}

#[test]
fn malformed_seed_files_give_status_2_and_one_line_naming_file_line_and_field() {
    let dir = temp_dir("malformed");
    let good = std::fs::read_to_string("tests/fixtures/calm-five-nodes.yaml").unwrap();
    let cases = [
        (
            "type.yaml",
            good.replace("  nodes: 5", "  nodes: five"),
            "nodes",
        ),
        (
            "unknown.yaml",
            good.replace("  nodes: 5", "  nodes: 5\n  node_count: 5"),
            "node_count",
        ),
        (
            "range.yaml",
            good.replace(
                "  faults: []",
                "  faults:\n  - { kind: crash, at: 500, node: 2 }",
            ),
            "faults[0].at",
        ),
        ("missing.yaml", good.replace("seed: 11\n", ""), "seed"),
    ];
    for (name, text, field) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        for command in ["replay", "shrink"] {
            let (code, stdout, stderr) = sim(&[command, path.to_str().unwrap()]);
            assert_eq!(code, 2, "{command} {name}: {stdout}{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{command} {name}: {stderr}");
            assert!(
                stderr.contains(&format!("{name}:")) && stderr.contains(field),
                "{command} {name}: {stderr}"
            );
        }
    }
    // A line number is given where the parser knows it.
    let line = good.lines().position(|l| l == "  nodes: 5").unwrap() + 1;
    let (_, _, stderr) = sim(&["replay", dir.join("type.yaml").to_str().unwrap()]);
    assert!(
        stderr.contains(&format!("type.yaml:{line}: scenario.nodes")),
        "{stderr}"
    );
    let (code, _, stderr) = sim(&["regress", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The short traces of three small fixed scenarios. They carry the trace hash, so they also pin
/// determinism across build profiles (`cargo test` and `cargo test --release` share them).
#[test]
fn replay_traces_of_small_fixed_scenarios() {
    for name in ["calm-five-nodes", "crash-and-restart", "one-way-partition"] {
        let (code, stdout, stderr) = sim(&["replay", &format!("tests/fixtures/{name}.yaml")]);
        assert_eq!(code, 0, "{name}: {stderr}");
        insta::assert_snapshot!(name, stdout);
    }
}
