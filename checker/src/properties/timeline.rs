//! What each node was and saw over a run: liveness from crashes and restarts, and membership
//! views replayed from the view changes its observations recorded.

use crate::record::{NodeId, ProcessEvent, RunRecord, Stamp, Tick, ViewChange};
use std::collections::{BTreeMap, BTreeSet};

/// Per-node indexes over a record.
pub(super) struct Timeline<'a> {
    /// Per node: its crashes (`false`) and restarts (`true`), in order.
    process: BTreeMap<NodeId, Vec<(Stamp, bool)>>,
    views: BTreeMap<NodeId, Vec<&'a ViewChange>>,
    /// The latest tick the record mentions: the run lasted at least until then.
    pub last_tick: Tick,
}

impl<'a> Timeline<'a> {
    pub fn new(record: &'a RunRecord) -> Timeline<'a> {
        let mut process: BTreeMap<NodeId, Vec<(Stamp, bool)>> = BTreeMap::new();
        for event in &record.process_events {
            let (at, node, restart) = match *event {
                ProcessEvent::Crash { at, node } => (at, node, false),
                ProcessEvent::Restart { at, node } => (at, node, true),
            };
            process.entry(node).or_default().push((at, restart));
        }
        for events in process.values_mut() {
            events.sort_by_key(|&(at, _)| at);
        }
        let mut views: BTreeMap<NodeId, Vec<&ViewChange>> = BTreeMap::new();
        for change in &record.views {
            views.entry(change.node).or_default().push(change);
        }
        for changes in views.values_mut() {
            changes.sort_by_key(|c| c.at);
        }
        let ticks = record
            .history
            .iter()
            .flat_map(|op| std::iter::once(op.invoke).chain(op.complete))
            .chain(record.views.iter().map(|v| v.at))
            .chain(record.stored.iter().map(|s| s.at))
            .chain(process.values().flatten().map(|&(at, _)| at))
            .map(|at| at.tick);
        let last_tick = ticks
            .chain(record.converged_at)
            .max()
            .unwrap_or(0)
            .max(record.quiet_from);
        Timeline {
            process,
            views,
            last_tick,
        }
    }

    fn process_events(&self, node: NodeId) -> &[(Stamp, bool)] {
        self.process.get(&node).map_or(&[], Vec::as_slice)
    }

    /// The stamp of the node's last (re)start at or before `at`; `None` if it was down then.
    /// A node with no process event before `at` has run since the beginning.
    pub fn started(&self, node: NodeId, at: Stamp) -> Option<Stamp> {
        match self
            .process_events(node)
            .iter()
            .take_while(|&&(when, _)| when <= at)
            .last()
        {
            None => Some(Stamp { tick: 0, seq: 0 }),
            Some(&(when, true)) => Some(when),
            Some(&(_, false)) => None,
        }
    }

    /// Whether the node was running at `at`.
    pub fn up_at(&self, node: NodeId, at: Stamp) -> bool {
        self.started(node, at).is_some()
    }

    /// Whether the node ran through ticks `from..=to` without crashing or restarting.
    pub fn up_throughout(&self, node: NodeId, from: Tick, to: Tick) -> bool {
        self.up_at(node, Stamp { tick: from, seq: 0 })
            && !self
                .process_events(node)
                .iter()
                .any(|&(when, _)| from <= when.tick && when.tick <= to)
    }

    /// When the node joined: its first membership observation (a node records the members it
    /// learns of as soon as it starts, so a node that joined late shows up late); `None` if it
    /// never observed any.
    pub fn joined(&self, node: NodeId) -> Option<Stamp> {
        self.views
            .get(&node)
            .and_then(|changes| changes.first())
            .map(|c| c.at)
    }

    /// When the node next restarted after `at`, if it did.
    pub fn next_restart(&self, node: NodeId, at: Stamp) -> Option<Stamp> {
        self.process_events(node)
            .iter()
            .find(|&&(when, restart)| restart && when > at)
            .map(|&(when, _)| when)
    }

    /// Whether the node crashed or restarted (losing its store) after `at`.
    pub fn lost_store_after(&self, node: NodeId, at: Stamp) -> bool {
        self.process_events(node).iter().any(|&(when, _)| when > at)
    }

    /// The node's membership view at `at`: itself, and the members its observations added and
    /// did not remove since it last (re)started. Empty if it was down.
    pub fn view_at(&self, node: NodeId, at: Stamp) -> Vec<NodeId> {
        let Some(since) = self.started(node, at) else {
            return Vec::new();
        };
        let mut view = BTreeSet::from([node]);
        for change in self.views.get(&node).map_or(&[][..], Vec::as_slice) {
            if change.at > at {
                break;
            }
            if change.at < since {
                continue;
            }
            if change.added {
                view.insert(change.member);
            } else if change.member != node {
                view.remove(&change.member);
            }
        }
        view.into_iter().collect()
    }
}
