//! Delta debugging of a failing scenario: fewer faults, shorter partitions, fewer clients and
//! operations, fewer ticks, fewer nodes, a gentler network, while the same property still fails.

use crate::judge::{run_checked, Checked, Found, RunKey};
use crate::run::RunOptions;
use crate::scenario::{Fault, Scenario};
use checker::properties::Property;

/// What shrinking did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShrinkReport {
    /// Runs spent.
    pub runs: u64,
    /// Each accepted reduction, in words.
    pub steps: Vec<String>,
}

/// What a shrunk scenario must still show: the same property violated, and where given, the
/// same violation signature (so a counterexample of one anomaly kind stays of that kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The violated property.
    pub property: Property,
    /// The violation signature, if it must be kept too.
    pub signature: Option<String>,
}

impl Target {
    /// Any violation of `property`.
    pub fn property(property: Property) -> Target {
        Target {
            property,
            signature: None,
        }
    }

    /// Whether a violation is one this target asks for.
    pub fn matches(&self, found: &Found) -> bool {
        found.property == self.property
            && self
                .signature
                .as_ref()
                .is_none_or(|s| *s == found.signature)
    }
}

/// The run of `scenario` if it still shows `target`.
fn failing_run(
    scenario: &Scenario,
    key: &RunKey,
    target: &Target,
    report: &mut ShrinkReport,
) -> Option<Checked> {
    if scenario.validate().is_err() {
        return None;
    }
    report.runs += 1;
    let checked = run_checked(scenario, key, RunOptions::default());
    checked
        .judgement
        .violations
        .iter()
        .any(|v| target.matches(v))
        .then_some(checked)
}

/// Candidate reductions of a scenario, biggest first.
fn candidates(s: &Scenario) -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    let mut push = |what: String, f: &dyn Fn(&mut Scenario)| {
        let mut c = s.clone();
        f(&mut c);
        if &c != s {
            out.push((what, c));
        }
    };
    // Faults: halves first, then one at a time.
    let n = s.faults.len();
    if n > 1 {
        push(format!("dropped faults {}..{}", 0, n / 2), &|c| {
            c.faults.drain(..n / 2);
        });
        push(format!("dropped faults {}..{}", n / 2, n), &|c| {
            c.faults.truncate(n / 2);
        });
    }
    for i in 0..n {
        push(format!("dropped fault {}", describe(&s.faults[i])), &|c| {
            c.faults.remove(i);
        });
    }
    for i in 0..n {
        push(
            format!("halved {}", describe(&s.faults[i])),
            &|c| match &mut c.faults[i] {
                Fault::Partition { at, heal_at, .. } => *heal_at = *at + (*heal_at - *at) / 2,
                Fault::Clog { at, until, .. } => *until = *at + (*until - *at) / 2,
                _ => {}
            },
        );
    }
    let w = &s.workload;
    if w.clients > 1 {
        push(
            format!("clients {} -> {}", w.clients, w.clients - 1),
            &|c| c.workload.clients -= 1,
        );
    }
    let n = w.ops_per_client;
    // Halve, then drop a quarter, then one: big steps first, small ones when those fail.
    let mut smaller_counts: Vec<u32> = vec![n / 2, n - n / 4, n.saturating_sub(1)];
    smaller_counts.dedup();
    for fewer in smaller_counts.into_iter().filter(|&m| m < n) {
        push(format!("ops per client {n} -> {fewer}"), &|c| {
            c.workload.ops_per_client = fewer
        });
    }
    if w.keys > 1 {
        push(format!("keys {} -> {}", w.keys, w.keys - 1), &|c| {
            c.workload.keys -= 1
        });
    }
    if w.fresh_node_ticks > 0 {
        push("random routing".to_string(), &|c| {
            c.workload.fresh_node_ticks = 0
        });
    }
    if w.think_ticks_max > 0 {
        push("no think time".to_string(), &|c| {
            c.workload.think_ticks_max = 0
        });
    }
    let last_fault = s.faults.iter().map(Fault::at).max().unwrap_or(0);
    let shorter = (s.fault_phase_ticks / 2)
        .max(last_fault + 1)
        .max(s.workload.start_tick + 1);
    push(
        format!("fault phase {} -> {shorter} ticks", s.fault_phase_ticks),
        &|c| c.fault_phase_ticks = shorter,
    );
    if s.nodes > 4 {
        let gone = s.nodes;
        push(format!("nodes {} -> {}", s.nodes, s.nodes - 1), &|c| {
            c.nodes -= 1;
            c.params.seed_nodes.retain(|n| n.0 != gone);
            c.faults.retain(|f| !mentions(f, gone));
            for f in &mut c.faults {
                if let Fault::Partition { from, to, .. } = f {
                    from.retain(|&n| n != gone);
                    to.retain(|&n| n != gone);
                }
            }
        });
    }
    let net = &s.network;
    if net.loss_ppm > 0 {
        push("no message loss".to_string(), &|c| c.network.loss_ppm = 0);
    }
    if net.duplicate_ppm > 0 {
        push("no duplication".to_string(), &|c| {
            c.network.duplicate_ppm = 0
        });
    }
    if net.tail_ppm > 0 {
        push("no long-tail delays".to_string(), &|c| {
            c.network.tail_ppm = 0
        });
    }
    if net.delay_ticks_max > net.delay_ticks_min {
        push("constant delay".to_string(), &|c| {
            c.network.delay_ticks_max = c.network.delay_ticks_min
        });
    }
    out
}

fn mentions(fault: &Fault, node: u8) -> bool {
    match fault {
        Fault::Crash { node: n, .. }
        | Fault::Restart { node: n, .. }
        | Fault::Skew { node: n, .. }
        | Fault::Join { node: n, .. } => *n == node,
        Fault::Clog { from, to, .. } => *from == node || *to == node,
        Fault::Partition { from, to, .. } => {
            from.iter().all(|&n| n == node) || to.iter().all(|&n| n == node)
        }
    }
}

fn describe(fault: &Fault) -> String {
    format!("{}@{}", fault.kind_name(), fault.at())
}

/// A shrunk scenario, with its run: the verification the callers report from, so nobody runs
/// the result again.
#[derive(Debug)]
pub struct Shrunk {
    /// The smallest scenario found that still shows the target (the original if none).
    pub scenario: Scenario,
    /// The run of `scenario`.
    pub run: Checked,
    /// What was tried and removed.
    pub report: ShrinkReport,
}

/// Shrinks `scenario` while it still shows `target`, within `max_runs` runs.
pub fn shrink(scenario: &Scenario, key: &RunKey, target: &Target, max_runs: u64) -> Shrunk {
    let mut report = ShrinkReport::default();
    let mut current = scenario.clone();
    let mut run = None;
    'progress: loop {
        for (what, candidate) in candidates(&current) {
            if report.runs >= max_runs {
                break 'progress;
            }
            if let Some(checked) = failing_run(&candidate, key, target, &mut report) {
                report.steps.push(what);
                current = candidate;
                run = Some(checked);
                continue 'progress;
            }
        }
        break;
    }
    // Nothing could be removed: the run of the original is the verification.
    let run = run.unwrap_or_else(|| run_checked(&current, key, RunOptions::default()));
    Shrunk {
        scenario: current,
        run,
        report,
    }
}
