//! Bad input gets exit 2 and one line naming the file, line and field: one test per class of
//! field (ids, probabilities, quorum and replicas, tick counts), the flags that cannot work,
//! and what must still be accepted (every drawn scenario, the README's table).

use node::{PlantedBug, Variant};
use sim::profile::{resolve_checked, Profile};
use sim::validate::{markdown_table, RUN_TICKS_MAX};
use std::path::{Path, PathBuf};

mod common;
use common::sim;

const FIXTURE: &str = "tests/fixtures/crash-and-restart.yaml";

/// The fixture with line `line` (1-based) edited, written to its own temporary file.
fn edited(name: &str, line: usize, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))
        .expect("fixture");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(
        lines[line - 1].contains(from),
        "line {line} of {FIXTURE} is {:?}, not {from:?}",
        lines[line - 1]
    );
    lines[line - 1] = lines[line - 1].replacen(from, to, 1);
    let dir = std::env::temp_dir().join(format!("sim-validation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// `sim replay` of the fixture with one edit: exit 2, nothing on stdout, and exactly
/// `error: <file>:<line>: <message>` on stderr.
fn assert_refused(name: &str, line: usize, from: &str, to: &str, message: &str) {
    assert_refused_at(name, line, from, to, line, message);
}

/// [`assert_refused`] for an edit of line `line` that the error names as line `reported` (an
/// edit that adds a line).
fn assert_refused_at(
    name: &str,
    line: usize,
    from: &str,
    to: &str,
    reported: usize,
    message: &str,
) {
    let path = edited(name, line, from, to);
    let shown = path.display().to_string();
    let (code, stdout, stderr) = sim(&["replay", &shown]);
    assert_eq!(code, 2, "{name}: {stderr}");
    assert!(stdout.is_empty(), "{name} printed {stdout}");
    assert_eq!(
        stderr,
        format!("error: {shown}:{reported}: {message}\n"),
        "{name}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_node_id_outside_the_cluster_is_refused_where_it_is() {
    assert_refused(
        "fault-node",
        36,
        "node: 3",
        "node: 9",
        "scenario.faults[1].node: found 9; allowed: 1..=nodes, here 1..=5",
    );
    assert_refused(
        "seed-node",
        14,
        "4, 5]",
        "4, 7]",
        "scenario.params.seed_nodes[4]: found 7; allowed: 1..=nodes, here 1..=5",
    );
    assert_refused(
        "introducer",
        13,
        "introducer: 1",
        "introducer: 0",
        "scenario.params.introducer: found 0; allowed: 1..=nodes, here 1..=5",
    );
}

#[test]
fn a_probability_above_a_million_ppm_is_refused() {
    assert_refused(
        "loss",
        31,
        "loss_ppm: 0",
        "loss_ppm: 1000001",
        "scenario.network.loss_ppm: found 1000001; allowed: 0..=1000000",
    );
    assert_refused(
        "duplicate",
        32,
        "duplicate_ppm: 0",
        "duplicate_ppm: 4294967296",
        "scenario.network.duplicate_ppm: found integer `4294967296`; allowed: 0..=1000000",
    );
}

#[test]
fn a_quorum_above_the_replicas_is_refused() {
    assert_refused(
        "quorum",
        22,
        "quorum: 2",
        "quorum: 4",
        "scenario.params.quorum: found 4; allowed: 1..=params.replicas, here 1..=3",
    );
}

#[test]
fn a_gossip_interval_of_zero_or_beyond_the_failure_timeout_is_refused_on_its_line() {
    // The fixture leaves the interval out (the original protocol, 1); an added line names it.
    for interval in [0, 6] {
        assert_refused_at(
            &format!("gossip-interval-{interval}"),
            17,
            "gossip_fanout: 2",
            &format!("gossip_fanout: 2\n    gossip_interval_ticks: {interval}"),
            18,
            &format!(
                "scenario.params.gossip_interval_ticks: found {interval}; allowed: \
                 1..=params.tfail_ticks, here 1..=5"
            ),
        );
    }
}

#[test]
fn a_key_prefix_with_a_space_or_none_at_all_is_refused_on_its_line() {
    for (name, prefix) in [
        ("key-prefix-space", "\"a b\""),
        ("key-prefix-empty", "\"\""),
    ] {
        assert_refused_at(
            name,
            39,
            "keys: 2",
            &format!("keys: 2\n    key_prefix: {prefix}"),
            40,
            &format!(
                "scenario.workload.key_prefix: found {prefix}; allowed: 1 to 32 of the ASCII \
                 letters, digits and - _ / : ."
            ),
        );
    }
}

#[test]
fn zero_replicas_or_more_replicas_than_nodes_are_refused() {
    assert_refused(
        "replicas-0",
        21,
        "replicas: 3",
        "replicas: 0",
        "scenario.params.replicas: found 0; allowed: 1..=nodes, here 1..=5",
    );
    assert_refused(
        "replicas-6",
        21,
        "replicas: 3",
        "replicas: 6",
        "scenario.params.replicas: found 6; allowed: 1..=nodes, here 1..=5",
    );
}

#[test]
fn huge_tick_values_are_refused_instead_of_wrapping_the_cap() {
    assert_refused(
        "fault-phase",
        44,
        "fault_phase_ticks: 90",
        "fault_phase_ticks: 18446744073709551615",
        "scenario.fault_phase_ticks: found 18446744073709551615; allowed: 1..=10000",
    );
    assert_refused(
        "quiet",
        45,
        "quiet_ticks_max: 200",
        "quiet_ticks_max: 18446744073709551616",
        "scenario.quiet_ticks_max: found integer `18446744073709551616` as u128; allowed: 1..=10000",
    );
    assert_refused(
        "timeout",
        23,
        "op_timeout_ticks: 12",
        "op_timeout_ticks: 9223372036854775808",
        "scenario.params.op_timeout_ticks: found 9223372036854775808; allowed: 1..=10000",
    );
    assert_refused(
        "fault-at",
        35,
        "at: 25",
        "at: 90",
        "scenario.faults[0].at: found 90; allowed: 0..=fault_phase_ticks - 1, here 0..=89",
    );
}

#[test]
fn wrong_types_and_unknown_names_name_the_field_and_the_allowed_values() {
    assert_refused(
        "float",
        15,
        "tfail_ticks: 5",
        "tfail_ticks: 1.5",
        "scenario.params.tfail_ticks: found floating point `1.5`; allowed: 1..=10000",
    );
    assert_refused(
        "negative",
        11,
        "nodes: 5",
        "nodes: -1",
        "scenario.nodes: found integer `-1`; allowed: 1..=16",
    );
    assert_refused(
        "variant",
        5,
        "variant: classic",
        "variant: paxos",
        "variant: found `paxos`; allowed: `classic` or `versioned`",
    );
    assert_refused(
        "mismatch",
        24,
        "variant: classic",
        "variant: versioned",
        "scenario.params.variant: found versioned; allowed: classic (the file's `variant`)",
    );
    assert_refused(
        "missing",
        7,
        "expect: pass",
        "expect: fail",
        "property: found nothing; allowed: the violated property (`expect: fail` needs it)",
    );
}

fn assert_flag_refused(args: &[&str], mentions: &[&str]) {
    let (code, stdout, stderr) = sim(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{args:?} printed {stdout}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    for m in mentions {
        assert!(
            stderr.contains(m),
            "{args:?}: {stderr} does not mention {m}"
        );
    }
}

#[test]
fn flags_that_cannot_work_give_exit_2_and_one_line() {
    let out = std::env::temp_dir().join(format!("sim-validation-out-{}", std::process::id()));
    let out = out.to_str().unwrap();
    let fuzz = |extra: &[&'static str]| {
        let mut args = vec!["fuzz", "--out", out];
        args.extend_from_slice(extra);
        args
    };
    assert_flag_refused(&fuzz(&["--runs", "0"]), &["--runs", "found 0", "1 or more"]);
    assert_flag_refused(
        &fuzz(&["--runs", "5", "--shard", "0/4"]),
        &["--shard", "0/4"],
    );
    assert_flag_refused(
        &fuzz(&["--runs", "5", "--shard", "5/4"]),
        &["--shard", "5/4"],
    );
    assert_flag_refused(
        &fuzz(&["--runs", "5", "--jobs", "0"]),
        &["--jobs", "1..=1024"],
    );
    assert_flag_refused(&fuzz(&["--runs", "5", "--duration", "0"]), &["--duration"]);
    assert_flag_refused(&["hunt", "--all", "--runs", "0"], &["--runs"]);
    assert_flag_refused(&["shrink", FIXTURE, "--max-runs", "0"], &["--max-runs"]);
    assert_flag_refused(
        &fuzz(&["--runs", "5", "--profile", "wild"]),
        &["wild", "calm, default or hostile"],
    );
    assert_flag_refused(
        &fuzz(&["--runs", "5", "--variant", "paxos"]),
        &["paxos", "classic, versioned"],
    );
    assert_flag_refused(
        &fuzz(&["--runs", "5", "--bug", "typo"]),
        &["typo", "none, one-reply-quorum", "ring-no-wrap"],
    );
    assert_flag_refused(
        &fuzz(&["--runs", "5", "--check", "speed"]),
        &["speed", "quorum", "linearizable", "progress"],
    );
    assert_flag_refused(
        &["replay", "--seed", "1", "--until", "99999999"],
        &["--until", "found 99999999", "tick cap"],
    );
    assert_flag_refused(
        &["replay", FIXTURE, "--until", "291"],
        &["--until: found 291; allowed: 0..=290 (the run's tick cap)"],
    );
    assert!(
        !Path::new(out).exists() || std::fs::read_dir(out).unwrap().next().is_none(),
        "a refused campaign wrote seeds"
    );
}

#[test]
fn every_drawn_scenario_is_inside_the_ranges() {
    for profile in Profile::ALL {
        for variant in Variant::ALL {
            for seed in 0..3000 {
                let s = resolve_checked(profile, variant, PlantedBug::None, seed)
                    .unwrap_or_else(|drift| panic!("{drift}"));
                assert!(s.tick_cap() <= RUN_TICKS_MAX);
            }
        }
    }
}

#[test]
fn the_readme_lists_every_field_with_the_range_the_validation_uses() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let table = readme
        .split("<!-- fields:begin -->\n")
        .nth(1)
        .and_then(|rest| rest.split("<!-- fields:end -->").next())
        .expect("README.md has a <!-- fields:begin --> ... <!-- fields:end --> table");
    assert_eq!(
        table,
        markdown_table(),
        "the README's field table must be `sim::validate::markdown_table()` (the right side)"
    );
}
