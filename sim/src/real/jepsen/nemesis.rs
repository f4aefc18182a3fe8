//! The nemesis: faults within the budget the `default` profile keeps, one node at a time, each
//! repaired (views equal, hand-overs done) before the next begins.
//!
//! It cycles through the enabled kinds in order (so a short test still sees each), with the
//! target node, how long the fault holds and the gap after the repair drawn from the seed's
//! `Faults` stream. Every wait is bounded.

use super::history::History;
use super::workload::Targets;
use crate::real::launcher::{broadcast, Cluster};
use crate::real::wire::Command;
use crate::streams::{stream, Consumer};
use nix::sys::signal::Signal;
use node::random::{below, between};
use node::NodeId;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL a node, then start a new incarnation with an empty store.
    Kill,
    /// SIGSTOP a node, then SIGCONT it.
    Pause,
    /// Cut one node off from every other (each side drops the other's datagrams), then heal.
    Partition,
}

impl FaultKind {
    /// Every kind, in the order `--nemesis` lists them.
    pub const ALL: [FaultKind; 3] = [FaultKind::Kill, FaultKind::Pause, FaultKind::Partition];

    /// The name on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
        }
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long faults hold and how long repairs may take.
#[derive(Debug, Clone)]
pub struct Timing {
    /// A fault holds for a time drawn from this range (milliseconds).
    pub hold_ms: (u64, u64),
    /// After a repair, the nemesis waits a time drawn from this range (milliseconds).
    pub gap_ms: (u64, u64),
    /// The longest wait for the cluster to repair after a fault, or to converge at the end.
    pub repair_max: Duration,
}

/// What the nemesis did.
#[derive(Debug, Default)]
pub struct NemesisLog {
    /// One line per action, with its time since the test began.
    pub lines: Vec<String>,
    /// How many faults of each kind were injected.
    pub injected: BTreeMap<FaultKind, u64>,
    /// Repairs that did not finish within [`Timing::repair_max`].
    pub unrepaired: u64,
}

impl NemesisLog {
    /// Notes an action at the current time.
    pub fn note(&mut self, history: &History, what: String) {
        let us = history.now_us();
        self.lines
            .push(format!("{:>9.3}s {what}", us as f64 / 1_000_000.0));
    }
}

/// What the nemesis does.
#[derive(Debug, Clone)]
pub struct Nemesis {
    /// The kinds of fault, in the order it cycles through them (empty: none).
    pub kinds: Vec<FaultKind>,
    /// How long faults hold and repairs may take.
    pub timing: Timing,
    /// The root seed; the nemesis draws from its `Faults` stream.
    pub seed: u64,
}

/// Runs faults until `until`, then leaves the cluster healed.
pub fn run(
    nemesis: &Nemesis,
    cluster: &mut Cluster,
    until: Instant,
    targets: &Targets,
    history: &History,
    log: &mut NemesisLog,
) {
    let (kinds, timing) = (&nemesis.kinds, &nemesis.timing);
    let mut rng = stream(nemesis.seed, Consumer::Faults);
    let ids: Vec<NodeId> = cluster.file().ids().collect();
    let mut turn = 0usize;
    while !kinds.is_empty() && Instant::now() < until {
        let kind = kinds[turn % kinds.len()];
        turn += 1;
        let node = ids[below(&mut rng, ids.len() as u64) as usize];
        let hold = Duration::from_millis(between(&mut rng, timing.hold_ms.0, timing.hold_ms.1));
        *log.injected.entry(kind).or_default() += 1;
        inject(cluster, kind, node, hold, targets, history, log);
        match cluster.await_converged(timing.repair_max) {
            true => log.note(history, "repaired: views equal, hand-overs done".into()),
            false => {
                log.unrepaired += 1;
                log.note(
                    history,
                    format!("not repaired within {:?}", timing.repair_max),
                );
            }
        }
        let gap = between(&mut rng, timing.gap_ms.0, timing.gap_ms.1);
        sleep_until((Instant::now() + Duration::from_millis(gap)).min(until));
    }
}

fn inject(
    cluster: &mut Cluster,
    kind: FaultKind,
    node: NodeId,
    hold: Duration,
    targets: &Targets,
    history: &History,
    log: &mut NemesisLog,
) {
    let pid = cluster.pid(node).unwrap_or(0);
    match kind {
        FaultKind::Kill => {
            set_target(targets, node, false);
            // The crash is recorded before the kill: an answer the client takes after this
            // point is dropped from the history unless it comes from the next incarnation.
            history.crash(node);
            cluster.kill(node);
            log.note(history, format!("kill -9 n{node} (pid {pid})"));
            std::thread::sleep(hold);
            match cluster.restart(node) {
                Ok(()) => {
                    history.restart(node, cluster.incarnation(node));
                    log.note(
                        history,
                        format!(
                            "restart n{node} incarnation {} (pid {})",
                            cluster.incarnation(node),
                            cluster.pid(node).unwrap_or(0)
                        ),
                    );
                    set_target(targets, node, true);
                }
                Err(e) => log.note(history, format!("restart n{node} failed: {e}")),
            }
        }
        FaultKind::Pause => {
            cluster.signal(node, Signal::SIGSTOP);
            log.note(history, format!("pause n{node} (SIGSTOP pid {pid})"));
            std::thread::sleep(hold);
            cluster.signal(node, Signal::SIGCONT);
            log.note(history, format!("resume n{node} (SIGCONT pid {pid})"));
        }
        FaultKind::Partition => {
            let others: Vec<NodeId> = cluster.file().ids().filter(|&n| n != node).collect();
            let deaf = broadcast(cluster.file(), |id| Command::Block {
                peers: if id == node {
                    others.clone()
                } else {
                    vec![node]
                },
            });
            log.note(
                history,
                format!("partition n{node} | the rest{}", not_told(&deaf)),
            );
            std::thread::sleep(hold);
            heal(cluster, history, log);
        }
    }
}

/// Clears every partition rule.
pub fn heal(cluster: &Cluster, history: &History, log: &mut NemesisLog) {
    let deaf = broadcast(cluster.file(), |_| Command::Block { peers: Vec::new() });
    log.note(history, format!("heal{}", not_told(&deaf)));
}

fn not_told(deaf: &[NodeId]) -> String {
    if deaf.is_empty() {
        String::new()
    } else {
        format!(" (no answer from {deaf:?})")
    }
}

fn set_target(targets: &Targets, node: NodeId, up: bool) {
    let mut set = targets.lock().unwrap_or_else(|e| e.into_inner());
    if up {
        set.insert(node);
    } else {
        set.remove(&node);
    }
}

fn sleep_until(at: Instant) {
    if let Some(left) = at.checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}
