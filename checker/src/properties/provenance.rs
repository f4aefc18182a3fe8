//! `provenance` (`versioned`): a replica reports a key's copy gone (`None`) only if it held a
//! copy of the key since it last started, or a delete of the key had been invoked.
//!
//! Why the correct protocol satisfies it: a versioned replica reports a change of its copy
//! whenever its vote moves between "nothing written" and a written state (version above 0).
//! A report of `None` is therefore either a written copy going away (a hand-off or a drop,
//! after the report of that copy, since a restart empties the store without a report) or a
//! tombstone arriving, and a tombstone is only ever made by a client's delete. A replica that
//! reports a key gone that it never held and nobody deleted has taken an unwritten state (the
//! empty state a read of a missing key agrees on) for a stored one: its stored copies no
//! longer say what it acknowledged.

use super::{Class, Violation};
use crate::record::{KvInput, NodeId, ProcessEvent, RunRecord, Stamp};
use std::collections::BTreeMap;

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let mut first_delete: BTreeMap<&str, Stamp> = BTreeMap::new();
    for op in &record.history {
        if let KvInput::Delete { key } = &op.input {
            let first = first_delete.entry(key).or_insert(op.invoke);
            *first = (*first).min(op.invoke);
        }
    }
    let restarted_between = |node: NodeId, from: Stamp, to: Stamp| {
        record.process_events.iter().any(|e| {
            matches!(e, ProcessEvent::Restart { at, node: n } if *n == node && from < *at && *at < to)
        })
    };
    let mut last_copy: BTreeMap<(NodeId, &str), Stamp> = BTreeMap::new();
    let mut violations = Vec::new();
    for event in &record.stored {
        let key = event.key.as_str();
        if event.value.is_some() {
            last_copy.insert((event.node, key), event.at);
            continue;
        }
        let deleted = first_delete.get(key).is_some_and(|d| *d < event.at);
        let held = last_copy
            .get(&(event.node, key))
            .is_some_and(|&copy| !restarted_between(event.node, copy, event.at));
        if deleted || held {
            continue;
        }
        let message = format!(
            "n{} reported {key:?} gone at tick {} without holding a copy of it since it \
             started, and no delete of it had been invoked",
            event.node, event.at.tick
        );
        violations.push(
            Violation::new(Class::UnheldCopyDropped, message)
                .on_key(key)
                .with_nodes([event.node]),
        );
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::{ProcessEvent, RunRecord, StoreEvent};

    fn gone(tick: u64, node: u8, key: &str) -> StoreEvent {
        StoreEvent {
            at: at(tick, 900),
            node,
            key: key.into(),
            value: None,
        }
    }

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::Provenance)
    }

    #[test]
    fn copies_dropped_after_a_delete_or_after_being_held_hold() {
        // The fixture deletes "k3" and drops it on its replicas; "k1" was stored on node 2.
        let mut record = fixture::healthy();
        assert!(violations(&record).is_empty());
        let holder = fixture::replicas_of("k1")[0];
        record.stored.push(gone(300, holder, "k1"));
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn a_key_reported_gone_that_was_never_held_nor_deleted_is_caught() {
        // The bug: a replica takes the empty state a read of a missing key agreed on for a
        // stored one and reports it.
        let mut record = fixture::healthy();
        record.stored.push(gone(5, 4, "k9"));
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::UnheldCopyDropped);
        assert_eq!(
            found[0].signature(),
            "provenance: replica reported a copy gone it never held and nobody deleted"
        );
        // A copy held before a restart does not count after it.
        let mut record = fixture::healthy();
        let holder = fixture::replicas_of("k1")[0];
        record.process_events.push(ProcessEvent::Restart {
            at: at(250, 0),
            node: holder,
        });
        record.stored.push(gone(300, holder, "k1"));
        assert_eq!(violations(&record).len(), 1);
    }
}
