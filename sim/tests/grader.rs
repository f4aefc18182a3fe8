//! The original graders, reproduced: full marks over a sample of seeds, the logs' formats, and
//! determinism of the runs behind them.

use sim::grader::{report, run_selection, Scenario, Selection};
use sim::trace::TraceLevel;

/// A sample of the 1..=500 sweep that `just grader-sweep` runs in full.
const SAMPLE_SEEDS: std::ops::RangeInclusive<u64> = 1..=50;

#[test]
fn membership_grader_scores_full_marks_on_a_sample_of_seeds() {
    for seed in SAMPLE_SEEDS {
        let runs = run_selection(Selection::Mp1, seed);
        let text = report(Selection::Mp1, seed, &runs);
        assert!(
            text.ends_with("membership total: 90/90\n"),
            "seed {seed}:\n{text}"
        );
    }
}

#[test]
fn key_value_grader_scores_full_marks_on_a_sample_of_seeds() {
    for seed in SAMPLE_SEEDS {
        let runs = run_selection(Selection::Kv, seed);
        let text = report(Selection::Kv, seed, &runs);
        assert!(
            text.ends_with("key-value total: 90/90\n"),
            "seed {seed}:\n{text}"
        );
    }
}

#[test]
fn same_seed_same_trace_hash_and_different_seeds_differ() {
    for scenario in Scenario::MP1.into_iter().chain(Scenario::KV) {
        let a = scenario.run(7, TraceLevel::HashOnly);
        let b = scenario.run(7, TraceLevel::HashOnly);
        assert_eq!(a.trace_hash, b.trace_hash, "{}", scenario.name());
        assert_eq!(a.log, b.log, "{}", scenario.name());
        let c = scenario.run(8, TraceLevel::HashOnly);
        assert_ne!(a.trace_hash, c.trace_hash, "{}", scenario.name());
    }
}

#[test]
fn keeping_trace_lines_does_not_change_the_hash() {
    let quiet = Scenario::Read.run(3, TraceLevel::HashOnly);
    let full = Scenario::Read.run(3, TraceLevel::Full);
    assert_eq!(quiet.trace_hash, full.trace_hash);
}

/// The report carries every scenario's trace hash, so this snapshot also pins the hashes across
/// build profiles: `cargo test` (debug) and `cargo test --release` must both match it.
#[test]
fn membership_report_snapshot() {
    let runs = run_selection(Selection::Mp1, 1);
    insta::assert_snapshot!(report(Selection::Mp1, 1, &runs));
}

#[test]
fn key_value_report_snapshot() {
    let runs = run_selection(Selection::Kv, 1);
    insta::assert_snapshot!(report(Selection::Kv, 1, &runs));
}

#[test]
fn membership_log_first_40_lines_snapshot() {
    let run = Scenario::Mp1Single.run(1, TraceLevel::HashOnly);
    insta::assert_snapshot!(run.log[..40].join("\n"));
}

#[test]
fn read_log_first_60_lines_snapshot() {
    let run = Scenario::Read.run(1, TraceLevel::HashOnly);
    insta::assert_snapshot!(run.log[..60].join("\n"));
}

/// The lines the read test's scoring reads, around the failures, in the original formats.
#[test]
fn read_log_grader_lines_snapshot() {
    let run = Scenario::Read.run(1, TraceLevel::HashOnly);
    let graded: Vec<&str> = run
        .log
        .iter()
        .map(String::as_str)
        .filter(|l| l.contains("OPERATION") || l.contains("Node failed") || l.contains("read "))
        .collect();
    insta::assert_snapshot!(graded.join("\n"));
}

#[test]
fn a_broken_log_loses_points() {
    // Scoring reads the text: drop every coordinator line and the create test must fail.
    let mut run = Scenario::Create.run(1, TraceLevel::HashOnly);
    run.log
        .retain(|l| !l.contains("coordinator: create success"));
    let parts = sim::grader::kv::score(sim::grader::kv::KvTest::Create, &run.log);
    assert_eq!(parts.iter().map(|p| p.got).sum::<u32>(), 0);
    // And a removal of a live node costs the membership accuracy points.
    let mut run = Scenario::Mp1Single.run(1, TraceLevel::HashOnly);
    run.log
        .push(" 2.0.0.0:0 [600] Node 3.0.0.0:0 removed at time 600".to_string());
    run.log
        .push(" 2.0.0.0:0 [600] Node 4.0.0.0:0 removed at time 600".to_string());
    let parts = sim::grader::membership::score(sim::grader::membership::Mp1::Single, &run.log);
    let accuracy = parts.iter().find(|p| p.name == "accuracy").unwrap();
    assert_eq!(accuracy.got, 0);
}

#[test]
fn a_log_written_over_a_longer_file_is_exactly_the_log() {
    // The log is written in place and cut to its length: whatever the file held before, and
    // however much longer it was, only the log is left.
    let dir = std::env::temp_dir().join(format!("sim-grader-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dbg.log");
    let run = Scenario::Mp1Multi.run(1, TraceLevel::HashOnly);
    let text = run.log_text();
    std::fs::write(&path, "x".repeat(3 * text.len())).unwrap();
    run.write_log(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    std::fs::remove_file(&path).unwrap();
    run.write_log(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "a new file");
    let _ = std::fs::remove_dir_all(&dir);
}
