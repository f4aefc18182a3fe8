//! The checker's verdict on a real test, and the summary a person reads.
//!
//! The properties judged are those that mean the same outside the simulator: `linearizable`
//! (the history alone), `quorum` (the replies' acknowledgements against the replicas the
//! coordinator's own view, as its replies carried it, names) and `convergence` (every node's
//! final view). Those that need the simulator's omniscience (every replica write, a clean
//! network window, a tick cap) are not judged here.

use super::nemesis::NemesisLog;
use super::JepsenConfig;
use crate::anomaly::classify;
use crate::judge::{judge, Found};
use crate::real::wire::{Counters, Status};
use checker::properties::{CheckOptions, Property};
use checker::record::{Operation, Outcome, RunRecord};
use checker::Budget;
use node::{NodeId, Variant};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The properties a real test judges.
pub const JUDGED: [Property; 3] = [
    Property::Linearizable,
    Property::Quorum,
    Property::Convergence,
];

/// The verdict of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every judged property held.
    Holds,
    /// Some property was violated.
    Violated,
    /// Nothing was violated but the checker's budget ran out.
    Unknown,
}

impl Verdict {
    /// The exit status `sim jepsen` ends with (as `sim check`).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Holds => 0,
            Verdict::Violated => 1,
            Verdict::Unknown => 3,
        }
    }
}

/// What a test found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The verdict.
    pub verdict: Verdict,
    /// Violations, first property first.
    pub violations: Vec<Found>,
    /// Keys whose own history is not linearizable, by anomaly kind (each key is judged on its
    /// own, so one run counts every key that shows an anomaly, not only the first).
    pub anomalies: BTreeMap<String, u64>,
    /// Keys whose linearizability search ran out of budget.
    pub undecided_keys: usize,
    /// Operations by outcome: `ok`, `rejected`, `unknown` (answered), `open` (never answered).
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Operations invoked.
    pub operations: u64,
    /// Answered operations per second of workload.
    pub ops_per_second: f64,
    /// Latency of answered operations, milliseconds: p50, p99, max.
    pub latency_ms: [f64; 3],
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// Datagrams the nodes refused, summed over the nodes that answered at the end.
    pub refused: Counters,
    /// The summary in words.
    pub summary: String,
}

/// Judges a test's record and sums it up.
pub fn judge_run(
    config: &JepsenConfig,
    record: &RunRecord,
    log: &NemesisLog,
    final_statuses: &BTreeMap<NodeId, Option<Status>>,
    workload_us: u64,
) -> Report {
    let by_key = linearizable_by_key(record, config.budget_steps);
    let mut judgement = judge(
        record,
        &[Property::Quorum, Property::Convergence],
        CheckOptions::new(Budget::Steps(0)),
    );
    judgement.violations.splice(0..0, by_key.violations);
    let verdict = if !judgement.violations.is_empty() {
        Verdict::Violated
    } else if by_key.undecided_keys > 0 {
        Verdict::Unknown
    } else {
        Verdict::Holds
    };
    let outcomes = outcome_counts(&record.history);
    let mut latencies_us: Vec<u64> = record
        .history
        .iter()
        .filter_map(|op| op.complete.map(|c| c.tick.saturating_sub(op.invoke.tick)))
        .collect();
    latencies_us.sort_unstable();
    let percentile = |p: usize| {
        if latencies_us.is_empty() {
            0.0
        } else {
            latencies_us[(latencies_us.len() - 1) * p / 100] as f64 / 1000.0
        }
    };
    let latency_ms = [percentile(50), percentile(99), percentile(100)];
    let answered = latencies_us.len() as f64;
    let ops_per_second = answered / (workload_us.max(1) as f64 / 1e6);
    let faults: BTreeMap<String, u64> = log
        .injected
        .iter()
        .map(|(k, n)| (k.name().to_string(), *n))
        .collect();
    let refused = final_statuses
        .values()
        .flatten()
        .fold(Counters::default(), |mut sum, s| {
            sum.malformed += s.counters.malformed;
            sum.oversized += s.counters.oversized;
            sum.foreign += s.counters.foreign;
            sum.partitioned += s.counters.partitioned;
            sum
        });
    let mut report = Report {
        verdict,
        violations: judgement.violations,
        anomalies: by_key.anomalies,
        undecided_keys: by_key.undecided_keys,
        outcomes,
        operations: record.history.len() as u64,
        ops_per_second,
        latency_ms,
        faults,
        refused,
        summary: String::new(),
    };
    report.summary = summary(config, &report, log, workload_us);
    report
}

fn outcome_counts(history: &[Operation]) -> BTreeMap<&'static str, u64> {
    let mut counts: BTreeMap<&'static str, u64> = ["ok", "rejected", "unknown", "open"]
        .into_iter()
        .map(|k| (k, 0))
        .collect();
    for op in history {
        let class = match (op.complete, op.outcome) {
            (None, _) => "open",
            (Some(_), Outcome::Ok) => "ok",
            (Some(_), Outcome::Rejected) => "rejected",
            (Some(_), Outcome::Unknown) => "unknown",
        };
        *counts.entry(class).or_default() += 1;
    }
    counts
}

/// What judging each key on its own found.
struct ByKey {
    violations: Vec<Found>,
    anomalies: BTreeMap<String, u64>,
    undecided_keys: usize,
}

/// Judges each key's history on its own (linearizability is P-compositional, so the history
/// is linearizable exactly when every key's is), each within its own budget, and names the
/// anomaly of each key that fails: one run counts every key that shows one, not only the first.
fn linearizable_by_key(record: &RunRecord, budget_steps: u64) -> ByKey {
    let mut by_key: BTreeMap<&str, Vec<Operation>> = BTreeMap::new();
    for op in &record.history {
        by_key.entry(op.input.key()).or_default().push(op.clone());
    }
    let mut found = ByKey {
        violations: Vec::new(),
        anomalies: BTreeMap::new(),
        undecided_keys: 0,
    };
    for ops in by_key.into_values() {
        let one_key = RunRecord {
            history: ops,
            views: Vec::new(),
            final_nodes: Vec::new(),
            ..record.clone()
        };
        let judgement = judge(
            &one_key,
            &[Property::Linearizable],
            CheckOptions::new(Budget::Steps(budget_steps)),
        );
        found.undecided_keys += usize::from(judgement.unknown);
        for mut violation in judgement.violations {
            let kind = classify(&one_key.history, &violation.ops);
            *found.anomalies.entry(kind.name().to_string()).or_default() += 1;
            violation.signature = format!("linearizable: {}", kind.name());
            found.violations.push(violation);
        }
    }
    found
}

fn summary(config: &JepsenConfig, report: &Report, log: &NemesisLog, workload_us: u64) -> String {
    let mut text = String::new();
    let w = &config.workload;
    let _ = writeln!(
        text,
        "jepsen {}{}: {} nodes on 127.0.0.1, seed {}, tick {} ms, {} clients on {} keys, \
         {:.1} s of faults, {:.1} s of workload in all",
        config.variant.name(),
        if config.bug == node::PlantedBug::None {
            String::new()
        } else {
            format!(" (bug {})", config.bug.name())
        },
        config.nodes,
        config.seed,
        config.tick_ms,
        w.clients,
        w.keys,
        config.duration.as_secs_f64(),
        workload_us as f64 / 1e6
    );
    let o = &report.outcomes;
    let _ = writeln!(
        text,
        "operations: {} ({:.1} answered/s): ok {}, rejected {}, unknown {}, never answered {}",
        report.operations, report.ops_per_second, o["ok"], o["rejected"], o["unknown"], o["open"]
    );
    let [p50, p99, max] = report.latency_ms;
    let _ = writeln!(
        text,
        "latency of answered operations: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
    );
    let faults: Vec<String> = report
        .faults
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(
        text,
        "faults injected: {} (not repaired in time: {})",
        if faults.is_empty() {
            "none".to_string()
        } else {
            faults.join(", ")
        },
        log.unrepaired
    );
    let r = &report.refused;
    let _ = writeln!(
        text,
        "datagrams the nodes refused: malformed {}, oversized {}, foreign {}; dropped by \
         partitions {}",
        r.malformed, r.oversized, r.foreign, r.partitioned
    );
    for property in JUDGED {
        let mut found = report.violations.iter().filter(|v| v.property == property);
        let first = found.next();
        let count = first.map_or(0, |_| 1 + found.count());
        let undecided = if property == Property::Linearizable && report.undecided_keys > 0 {
            format!(
                " ({} key(s) undecided: search budget ran out)",
                report.undecided_keys
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "  {property}: {}{undecided}",
            match first {
                None => "holds".to_string(),
                Some(v) => format!("{count} violation(s); first: {}", v.details),
            }
        );
    }
    if !report.anomalies.is_empty() || config.variant == Variant::Classic {
        let kinds: Vec<String> = report
            .anomalies
            .iter()
            .map(|(k, n)| format!("{k} on {n} key(s)"))
            .collect();
        let _ = writeln!(
            text,
            "anomalies by key ({} keys): {}",
            w.keys,
            if kinds.is_empty() {
                "none".to_string()
            } else {
                kinds.join(", ")
            }
        );
    }
    let _ = writeln!(
        text,
        "verdict: {}",
        match report.verdict {
            Verdict::Holds => "PASS",
            Verdict::Violated => "FAIL",
            Verdict::Unknown => "UNKNOWN (checker budget ran out)",
        }
    );
    let _ = write!(
        text,
        "folder: {} (history.jsonl, nemesis.log, summary.txt, cluster.json, n*.log)",
        config.dir.display()
    );
    text
}

impl Report {
    /// Writes `history.jsonl` (native format, for `sim check`), `nemesis.log` and `summary.txt`.
    pub fn write_files(
        &self,
        config: &JepsenConfig,
        record: &RunRecord,
        log: &NemesisLog,
    ) -> Result<(), String> {
        let write = |name: &str, text: String| {
            let path = config.dir.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
        };
        write("history.jsonl", checker::write_native(&record.history))?;
        write("nemesis.log", log.lines.join("\n") + "\n")?;
        write("summary.txt", self.summary.clone() + "\n")
    }
}
