//! The history of a real test, recorded in the checker's own vocabulary with monotonic
//! wall-clock times: a stamp's `tick` is microseconds since the test began (one `Instant` in
//! the tester's process, so every client and the nemesis share one clock) and its `seq` a
//! counter taken under the same lock, so real-time order is exact even inside one microsecond.

use crate::real::client::Answer;
use crate::recorder::{complete_from_reply, kv_input};
use checker::record::{
    self, Bounds, FinalNode, Operation, Outcome, ProcessEvent, RunRecord, Stamp, ViewChange,
};
use node::{NodeId, Params, Request};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Instant;

/// What the test recorded so far; shared by the client threads and the nemesis.
#[derive(Debug)]
pub struct History {
    start: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seq: u64,
    next_op: u64,
    ops: Vec<Operation>,
    open: BTreeMap<u64, usize>,
    views: Vec<ViewChange>,
    /// Per coordinator: the view its last reply carried since its last (re)start.
    last_view: BTreeMap<NodeId, BTreeSet<NodeId>>,
    /// Nodes the nemesis killed and has not restarted yet.
    down: BTreeSet<NodeId>,
    /// Per node: its incarnation (0 until a restart).
    incarnations: BTreeMap<NodeId, u32>,
    process_events: Vec<ProcessEvent>,
}

impl Inner {
    fn stamp(&mut self, start: Instant) -> Stamp {
        self.seq += 1;
        Stamp {
            tick: start.elapsed().as_micros() as u64,
            seq: self.seq,
        }
    }
}

impl History {
    /// An empty history whose clock starts now.
    pub fn new() -> History {
        History {
            start: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Microseconds since the test began.
    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A client thread that panicked holds nothing half-written: keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A client invokes `request` at `coordinator`; returns the operation's id.
    pub fn invoke(&self, client: u64, coordinator: NodeId, request: &Request) -> u64 {
        let mut inner = self.lock();
        let invoke = inner.stamp(self.start);
        inner.next_op += 1;
        let id = inner.next_op;
        let index = inner.ops.len();
        inner.open.insert(id, index);
        inner.ops.push(Operation {
            id,
            client,
            coordinator: coordinator.0,
            input: kv_input(request),
            invoke,
            complete: None,
            outcome: Outcome::Unknown,
            reason: record::Reason::Timeout,
            output: None,
            acks: Vec::new(),
        });
        id
    }

    /// The coordinator's answer to operation `id` arrived. The view it carried becomes the
    /// coordinator's recorded view just before the completion.
    ///
    /// An answer that a killed incarnation sent just before the kill but that the client took
    /// only after the nemesis recorded the crash is dropped: the operation stays open. The
    /// history then says less than the client saw (unknown instead of a definite outcome),
    /// which can hide an anomaly but never invent one, and it keeps the record's order true:
    /// nothing completes at a coordinator after the record says it crashed.
    pub fn complete(&self, id: u64, answer: &Answer) {
        let mut inner = self.lock();
        let Some(&index) = inner.open.get(&id) else {
            return;
        };
        let coordinator = NodeId(inner.ops[index].coordinator);
        let current = inner.incarnations.get(&coordinator).copied().unwrap_or(0);
        if inner.down.contains(&coordinator) || answer.incarnation != current {
            return;
        }
        inner.open.remove(&id);
        let view: BTreeSet<NodeId> = answer.view.iter().copied().collect();
        let before = inner.last_view.remove(&coordinator).unwrap_or_default();
        if before != view {
            let at = inner.stamp(self.start);
            let changes: Vec<ViewChange> = before
                .difference(&view)
                .map(|&m| (m, false))
                .chain(view.difference(&before).map(|&m| (m, true)))
                .map(|(member, added)| ViewChange {
                    at,
                    node: coordinator.0,
                    member: member.0,
                    added,
                })
                .collect();
            inner.views.extend(changes);
        }
        inner.last_view.insert(coordinator, view);
        let complete = inner.stamp(self.start);
        complete_from_reply(&mut inner.ops[index], complete, &answer.reply);
    }

    /// The nemesis killed `node`.
    pub fn crash(&self, node: NodeId) {
        let mut inner = self.lock();
        let at = inner.stamp(self.start);
        inner.last_view.remove(&node);
        inner.down.insert(node);
        inner
            .process_events
            .push(ProcessEvent::Crash { at, node: node.0 });
    }

    /// The nemesis restarted `node` with an empty store, as `incarnation`.
    pub fn restart(&self, node: NodeId, incarnation: u32) {
        let mut inner = self.lock();
        let at = inner.stamp(self.start);
        inner.down.remove(&node);
        inner.incarnations.insert(node, incarnation);
        inner
            .process_events
            .push(ProcessEvent::Restart { at, node: node.0 });
    }

    /// Everything the checker needs. Times are microseconds, so the protocol's tick bounds are
    /// scaled by the tick length.
    pub fn record(&self, ending: Ending<'_>) -> RunRecord {
        let inner = self.lock();
        let us_per_tick = ending.tick_ms * 1000;
        let params = ending.params;
        RunRecord {
            nodes: ending.nodes.iter().map(|n| n.0).collect(),
            history: inner.ops.clone(),
            views: inner.views.clone(),
            stored: Vec::new(),
            process_events: inner.process_events.clone(),
            agreement: Vec::new(),
            routes: Vec::new(),
            forwards: Vec::new(),
            log: Vec::new(),
            clean_network: Vec::new(),
            settled: Vec::new(),
            quiet_from: ending.quiet_from_us,
            converged_at: ending.converged_at_us,
            tick_cap: self.now_us(),
            final_nodes: ending.final_nodes.to_vec(),
            bounds: Bounds {
                tfail_ticks: params.tfail_ticks * us_per_tick,
                tremove_ticks: params.tremove_ticks * us_per_tick,
                detection_slack_ticks: params.tremove_ticks * us_per_tick,
                op_timeout_ticks: params.op_timeout_ticks * us_per_tick,
                response_slack_ticks: params.op_timeout_ticks * us_per_tick,
                replicas: params.replicas,
                quorum: params.quorum,
                gossip_fanout: 0,
                sweep_interval_ticks: 0,
                delay_ticks_max: 0,
            },
            fault_draws: Vec::new(),
            held_links: Vec::new(),
            seed_nodes: Vec::new(),
            join_requests: Vec::new(),
            gossip_peak: None,
            probe_peak: None,
            rejoins: Vec::new(),
            range_events: Vec::new(),
            handovers: Vec::new(),
            quick_resends: Vec::new(),
            unchanged_listed: Vec::new(),
            recoveries: Vec::new(),
            clock_rates: Vec::new(),
            panic: None,
        }
    }
}

impl Default for History {
    fn default() -> History {
        History::new()
    }
}

/// How the test ended, for [`History::record`].
#[derive(Debug, Clone, Copy)]
pub struct Ending<'a> {
    /// Every node of the cluster.
    pub nodes: &'a [NodeId],
    /// The protocol parameters the nodes ran.
    pub params: &'a Params,
    /// Wall-clock milliseconds per tick.
    pub tick_ms: u64,
    /// When the quiet phase began.
    pub quiet_from_us: u64,
    /// When every view was equal and every hand-over done, if that happened.
    pub converged_at_us: Option<u64>,
    /// Each node's final view (`live`: it answered).
    pub final_nodes: &'a [FinalNode],
}
