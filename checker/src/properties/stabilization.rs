//! `stabilization`: after the quiet phase every live key is held by exactly the nodes the ring
//! of live nodes names as its replicas, all with its newest state, and by no other node.
//!
//! The newest state of a key is the copy, among live nodes, with the highest version; among
//! equal versions (the classic store keeps none), the one its holder stored last. A key whose
//! newest state is a tombstone is not live: no live node may still hold a value for it. A key
//! the history certainly left present (its possibly-last writes are all acknowledged creates or
//! updates, [`super::writes`]) is live even if no live node holds it any more. Runs that never
//! converged are left to `progress`. In every scope, no live node may hold a state that no
//! operation of the history wrote (a phantom: a value no create or update wrote, a tombstone of a
//! key never deleted).
//!
//! With [`StabilizationScope::Placement`] only copies outside a key's replicas count. With
//! [`StabilizationScope::NoRollback`] a replica's state (a value, or none) need not be the newest
//! copy, only one that a possibly-last write of the key ([`last_writes`]) wrote: none for a
//! delete.

use super::writes::{certainly_present, last_writes};
use super::{Class, Misplacement, StabilizationScope, Violation};
use crate::record::{KvInput, NodeId, RunRecord, Stamp, StoredKey};
use crate::ring::replicas;
use std::collections::BTreeMap;

fn shown(copy: &StoredKey) -> String {
    match &copy.value {
        Some(value) => format!("{value:?} (version {})", copy.version),
        None => format!("a tombstone (version {})", copy.version),
    }
}

pub(super) fn check(record: &RunRecord, scope: StabilizationScope) -> Vec<Violation> {
    if record.converged_at.is_none() {
        return Vec::new();
    }
    let live: Vec<NodeId> = record
        .final_nodes
        .iter()
        .filter(|n| n.live)
        .map(|n| n.node)
        .collect();
    // When each (node, key, value) was last stored.
    let mut stored_at: BTreeMap<(NodeId, &str, Option<&str>), Stamp> = BTreeMap::new();
    for event in &record.stored {
        let slot = stored_at
            .entry((event.node, &event.key, event.value.as_deref()))
            .or_insert(event.at);
        *slot = (*slot).max(event.at);
    }
    let mut holders: BTreeMap<&str, Vec<(NodeId, &StoredKey)>> = BTreeMap::new();
    for node in record.final_nodes.iter().filter(|n| n.live) {
        for copy in &node.store {
            holders
                .entry(&copy.key)
                .or_default()
                .push((node.node, copy));
        }
    }
    let agreement = scope != StabilizationScope::Placement;
    let last_of_key = last_writes(record);
    // Whether a replica's state (a value, or none: no copy or a tombstone) is one that a
    // possibly-last write of the key wrote (none: a delete).
    let maybe_last = |key: &str, value: Option<&str>| {
        last_of_key
            .get(key)
            .is_some_and(|last| last.iter().any(|op| op.input.written_value() == value))
    };
    let no_rollback = scope == StabilizationScope::NoRollback;
    // Whether some operation of the history wrote the state `copy` holds (a tombstone: a delete
    // of the key), whatever its outcome: a state nothing wrote is a phantom.
    let written = |key: &str, copy: &StoredKey| {
        record.history.iter().any(|op| {
            op.input.key() == key
                && !matches!(op.input, KvInput::Read { .. })
                && op.input.written_value() == copy.value.as_deref()
        })
    };
    let mut violations = Vec::new();
    for (key, last) in last_of_key.iter().filter(|_| agreement) {
        let replica_set = replicas(key, &live, record.bounds.replicas);
        if !holders.contains_key(key) && !replica_set.is_empty() && certainly_present(last) {
            let ids: Vec<u64> = last.iter().map(|op| op.id).collect();
            let message = format!(
                "key {key:?} (replicas {replica_set:?} among live nodes {live:?}) was last written \
                 by ops {ids:?}, but no live node holds it"
            );
            violations.push(
                Violation::new(
                    Class::Stabilization(Misplacement::HeldByNoLiveNode),
                    message,
                )
                .on_key(key)
                .with_ops(ids),
            );
        }
    }
    for (key, copies) in &holders {
        let replica_set = replicas(key, &live, record.bounds.replicas);
        if replica_set.is_empty() {
            continue;
        }
        let newest = copies
            .iter()
            .max_by_key(|(node, copy)| {
                let when = stored_at.get(&(*node, *key, copy.value.as_deref()));
                (copy.version, when.copied(), std::cmp::Reverse(*node))
            })
            .map(|(_, copy)| *copy)
            .expect("a key in `holders` has a copy");
        let held_by = |node: NodeId| copies.iter().find(|(n, _)| *n == node).map(|(_, c)| *c);
        let mut report = |how: Misplacement, node: NodeId, fact: String| {
            if agreement || how.is_placement() {
                let message = format!(
                    "key {key:?} (replicas {replica_set:?} among live nodes {live:?}, newest state \
                     {}): {fact}",
                    shown(newest)
                );
                let violation = Violation::new(Class::Stabilization(how), message);
                violations.push(violation.on_key(key).with_nodes([node]));
            }
        };
        for &replica in &replica_set {
            let held = held_by(replica);
            if no_rollback && maybe_last(key, held.and_then(|c| c.value.as_deref())) {
                continue;
            }
            match held {
                None if newest.value.is_some() => {
                    report(
                        Misplacement::MissingOnReplica,
                        replica,
                        format!("replica {replica} does not hold it"),
                    );
                }
                Some(copy)
                    if (copy.value.is_some() || newest.value.is_some())
                        && (no_rollback
                            || copy.value != newest.value
                            || copy.version != newest.version) =>
                {
                    report(
                        Misplacement::StaleReplica,
                        replica,
                        format!("replica {replica} holds {}", shown(copy)),
                    );
                }
                _ => {}
            }
        }
        for (node, copy) in copies.iter().filter(|(_, c)| !written(key, c)) {
            report(
                Misplacement::PhantomState,
                *node,
                format!(
                    "node {node} holds {}, which no operation wrote",
                    shown(copy)
                ),
            );
        }
        for (node, copy) in copies {
            if !replica_set.contains(node) && copy.value.is_some() {
                report(
                    Misplacement::CopyOutsideReplicas,
                    *node,
                    format!("node {node} holds {}", shown(copy)),
                );
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{
        check_record, CheckOptions, Class, Misplacement, Property, StabilizationScope, Violation,
    };
    use crate::record::{Outcome, Reason, RunRecord, StoreEvent, StoredKey};
    use crate::Budget;

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::Stabilization)
    }

    fn store_of(record: &mut RunRecord, node: u8) -> &mut Vec<StoredKey> {
        &mut record
            .final_nodes
            .iter_mut()
            .find(|n| n.node == node)
            .unwrap()
            .store
    }

    #[test]
    fn keys_held_by_exactly_their_replicas_hold() {
        assert!(violations(&fixture::healthy()).is_empty());
    }

    #[test]
    fn a_replica_never_handed_the_key_is_caught() {
        // The bug: a node crashes, and stabilization does not re-create its keys on the node
        // that takes its place among the replicas.
        let mut record = fixture::healthy();
        let replicas = fixture::replicas_of("k1");
        let lost = replicas[0];
        record
            .final_nodes
            .iter_mut()
            .find(|n| n.node == lost)
            .unwrap()
            .live = false;
        store_of(&mut record, lost).clear();
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "stabilization: live key missing on a replica"
        );
        assert!(
            found[0].message.contains("does not hold it"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_key_no_live_node_holds_any_more_is_caught() {
        // The bug: keys are handed over to a node that is down, and the old replicas drop
        // their copies.
        let mut record = fixture::healthy();
        for node in &mut record.final_nodes {
            node.store.clear();
        }
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "stabilization: live key held by no live node"
        );
        assert!(
            found[0].message.starts_with("key \"k1\""),
            "{}",
            found[0].message
        );
    }

    /// A stale replica (`replicas[2]`) and a leftover copy on a node outside the replicas,
    /// which the function returns.
    fn stale_and_leftover(record: &mut RunRecord) -> u8 {
        let replicas = fixture::replicas_of("k1");
        store_of(record, replicas[2])[0].value = Some("v1".into());
        let outsider = fixture::NODES
            .into_iter()
            .find(|n| !replicas.contains(n))
            .unwrap();
        store_of(record, outsider).push(StoredKey {
            key: "k1".into(),
            value: Some("v2".into()),
            version: 0,
        });
        outsider
    }

    #[test]
    fn stale_replicas_and_leftover_copies_are_caught() {
        // The bugs: a replica missed the last update and nobody repaired it; and a node that
        // stopped being a replica kept its copy.
        let mut record = fixture::healthy();
        stale_and_leftover(&mut record);
        let mut signatures: Vec<String> = violations(&record)
            .into_iter()
            .map(|v| v.signature())
            .collect();
        signatures.sort();
        assert_eq!(
            signatures,
            vec![
                "stabilization: copy on a node that is not a replica",
                "stabilization: replica holds a stale state",
            ]
        );
    }

    #[test]
    fn placement_scope_keeps_only_the_copy_outside_the_replicas_with_its_facts() {
        let mut record = fixture::healthy();
        let outsider = stale_and_leftover(&mut record);
        let options = CheckOptions {
            budget: Budget::Steps(1),
            stabilization: StabilizationScope::Placement,
        };
        let found = check_record(&record, &[Property::Stabilization], options).remove(0);
        assert_eq!(found.violations.len(), 1, "{found:?}");
        let violation = &found.violations[0];
        assert_eq!(
            violation.class,
            Class::Stabilization(Misplacement::CopyOutsideReplicas)
        );
        assert_eq!(violation.key.as_deref(), Some("k1"));
        assert_eq!(violation.nodes, [outsider]);
    }

    #[test]
    fn the_newest_version_wins_over_the_latest_store() {
        // Versioned store: a replica holding a lower version is stale even if it stored last.
        let mut record = fixture::healthy();
        let replicas = fixture::replicas_of("k1");
        for &replica in &replicas {
            store_of(&mut record, replica)[0].version = 2;
        }
        store_of(&mut record, replicas[1])[0] = StoredKey {
            key: "k1".into(),
            value: Some("v1".into()),
            version: 1,
        };
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("\"v1\" (version 1)"),
            "{}",
            found[0].message
        );
    }

    fn no_rollback(record: &RunRecord) -> Vec<Violation> {
        let options = CheckOptions {
            budget: Budget::Steps(1),
            stabilization: StabilizationScope::NoRollback,
        };
        check_record(record, &[Property::Stabilization], options)
            .remove(0)
            .violations
    }

    /// "k1" as classic leaves it after a crash's ring change: a create the old replicas refused
    /// (an unknown outcome: classic failures may have taken effect) was taken by the fresh
    /// replica `replicas[0]`, which stored it last.
    fn fresh_replica_took_a_refused_create() -> RunRecord {
        let mut record = fixture::healthy();
        let fresh = fixture::replicas_of("k1")[0];
        record.history.push(fixture::failed(
            9,
            fixture::create("k1", "v9"),
            170,
            172,
            Outcome::Unknown,
            Reason::Exists,
        ));
        store_of(&mut record, fresh)[0].value = Some("v9".into());
        record.stored.push(StoreEvent {
            at: fixture::at(171, 900),
            node: fresh,
            key: "k1".into(),
            value: Some("v9".into()),
        });
        record
    }

    #[test]
    fn no_rollback_accepts_replicas_holding_states_that_may_each_be_the_last() {
        let record = fresh_replica_took_a_refused_create();
        // Full agreement calls the two replicas holding the acknowledged "v2" stale ...
        assert_eq!(violations(&record).len(), 2);
        // ... while neither rolled back: "v2" and "v9" may each have been the last write.
        assert_eq!(no_rollback(&record), []);
    }

    #[test]
    fn no_rollback_catches_a_replica_holding_a_superseded_acknowledged_state() {
        // The bug (classic `stabilize-overwrites`): a hand-over brings back "v1", which the
        // acknowledged update to "v2" superseded.
        let mut record = fresh_replica_took_a_refused_create();
        let rolled_back = fixture::replicas_of("k1")[2];
        store_of(&mut record, rolled_back)[0].value = Some("v1".into());
        let found = no_rollback(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].class,
            Class::Stabilization(Misplacement::StaleReplica)
        );
        assert_eq!(found[0].nodes, [rolled_back]);
    }

    #[test]
    fn a_state_no_operation_wrote_is_a_phantom_in_every_scope() {
        // The bugs: a store reports a vote it never wrote (version 0) as a stored tombstone,
        // or invents a value.
        let mut record = fixture::healthy();
        let replicas = fixture::replicas_of("k1");
        store_of(&mut record, replicas[0])[0].value = None;
        store_of(&mut record, replicas[1])[0].value = Some("v7".into());
        for scope in [
            StabilizationScope::Placement,
            StabilizationScope::NoRollback,
            StabilizationScope::PlacementAndAgreement,
        ] {
            let options = CheckOptions {
                budget: Budget::Steps(1),
                stabilization: scope,
            };
            let found = check_record(&record, &[Property::Stabilization], options).remove(0);
            let mut phantoms: Vec<u8> = found
                .violations
                .iter()
                .filter(|v| v.class == Class::Stabilization(Misplacement::PhantomState))
                .flat_map(|v| v.nodes.clone())
                .collect();
            phantoms.sort();
            let mut expected = vec![replicas[0], replicas[1]];
            expected.sort();
            assert_eq!(phantoms, expected, "{scope:?}: {found:?}");
        }
    }
}
