//! `durability`: no acknowledged write is lost and no deleted key comes back, unless every node
//! that stored the write crashed (or restarted empty) since.
//!
//! For each key written in the history, the writes that may have been the last are: every `ok`
//! write that no other `ok` write was invoked after (in real time), and every write of unknown
//! outcome ([`super::writes`]). At the end, the values held by live nodes must include what one
//! of them wrote, or be empty if one of them is a delete. If not:
//! - when all of them are deletes (one acknowledged), the key came back;
//! - otherwise the acknowledged ones among them were lost, unless every node that stored the
//!   value has crashed since.

use super::timeline::Timeline;
use super::writes::last_writes;
use super::{Class, Violation};
use crate::record::{Operation, Outcome, RunRecord};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let mut held: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for node in record.final_nodes.iter().filter(|n| n.live) {
        for copy in &node.store {
            if let Some(value) = &copy.value {
                held.entry(&copy.key).or_default().insert(value);
            }
        }
    }
    let no_values = BTreeSet::new();
    let mut violations = Vec::new();
    for (key, last) in &last_writes(record) {
        let values = held.get(key).unwrap_or(&no_values);
        let explains = |op: &&Operation| match op.input.written_value() {
            Some(value) => values.contains(value),
            None => values.is_empty(),
        };
        if last.iter().any(explains) {
            continue;
        }
        let held_text = format!("{:?}", values.iter().collect::<Vec<_>>());
        if last.iter().all(|op| op.input.written_value().is_none()) {
            let Some(delete) = last.iter().find(|op| op.outcome == Outcome::Ok) else {
                continue;
            };
            let message = format!(
                "key {key:?} was deleted by op {} (ok at tick {}) and not written after, but \
                 live nodes hold {held_text}",
                delete.id,
                delete.complete.map_or(0, |c| c.tick)
            );
            violations.push(
                Violation::new(Class::DeletedKeyCameBack, message)
                    .on_key(key)
                    .with_ops([delete.id]),
            );
            continue;
        }
        for op in last.iter().filter(|op| op.outcome == Outcome::Ok) {
            let Some(value) = op.input.written_value() else {
                continue;
            };
            let storers: Vec<_> = record
                .stored
                .iter()
                .filter(|s| s.key == *key && s.value.as_deref() == Some(value))
                .collect();
            let all_crashed = !storers.is_empty()
                && storers
                    .iter()
                    .all(|s| timeline.lost_store_after(s.node, s.at));
            if all_crashed {
                continue;
            }
            let mut nodes: Vec<_> = storers.iter().map(|s| s.node).collect();
            nodes.sort_unstable();
            nodes.dedup();
            let message = format!(
                "key {key:?}: op {} wrote {value:?} (ok at tick {}) and nothing was acknowledged \
                 after it, but live nodes hold {held_text}; it was stored on nodes {nodes:?}, \
                 not all of which crashed",
                op.id,
                op.complete.map_or(0, |c| c.tick)
            );
            violations.push(
                Violation::new(Class::WriteLost, message)
                    .on_key(key)
                    .with_ops([op.id])
                    .with_nodes(nodes),
            );
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at, create, delete, update};
    use super::super::{Property, Violation};
    use crate::record::{Outcome, ProcessEvent, Reason, RunRecord, StoredKey};

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::Durability)
    }

    fn stores_of_key<'a>(record: &'a mut RunRecord, key: &str) -> Vec<&'a mut StoredKey> {
        record
            .final_nodes
            .iter_mut()
            .flat_map(|n| n.store.iter_mut())
            .filter(|c| c.key == key)
            .collect()
    }

    #[test]
    fn the_last_acknowledged_writes_survive() {
        let mut record = fixture::healthy();
        // An update of unknown outcome may or may not have taken effect: both ends are fine.
        record.history.push(fixture::failed(
            9,
            update("k1", "v7"),
            170,
            180,
            Outcome::Unknown,
            Reason::Timeout,
        ));
        assert!(violations(&record).is_empty());
        for copy in stores_of_key(&mut record, "k1") {
            copy.value = Some("v7".into());
        }
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn a_write_overwritten_by_an_older_value_is_caught() {
        // The bug: replicas overwrite the newer value with an older one during stabilization,
        // so the acknowledged update is gone from every live node.
        let mut record = fixture::healthy();
        for copy in stores_of_key(&mut record, "k1") {
            copy.value = Some("v1".into());
        }
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].signature(), "durability: acknowledged write lost");
        assert!(
            found[0].message.contains("op 4 wrote \"v2\""),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_write_whose_every_holder_crashed_is_excused() {
        let mut record = fixture::healthy();
        for copy in stores_of_key(&mut record, "k1") {
            copy.value = None;
        }
        for node in fixture::replicas_of("k1") {
            record.process_events.push(ProcessEvent::Crash {
                at: at(200, u64::from(node)),
                node,
            });
        }
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn a_deleted_key_that_comes_back_is_caught() {
        // The bug: a replica that missed the delete hands the old value over to a new replica.
        let mut record = fixture::healthy();
        record.final_nodes[0].store.push(StoredKey {
            key: "k3".into(),
            value: Some("v3".into()),
            version: 0,
        });
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].signature(), "durability: deleted key came back");
        assert!(found[0].message.contains("op 5"), "{}", found[0].message);
    }

    #[test]
    fn a_create_after_a_delete_is_the_newest_write() {
        let mut record = fixture::healthy();
        record
            .history
            .push(fixture::ok(9, create("k3", "v8"), 190, 193, None));
        record.final_nodes[0].store.push(StoredKey {
            key: "k3".into(),
            value: Some("v8".into()),
            version: 0,
        });
        assert!(violations(&record).is_empty());
        record
            .history
            .push(fixture::ok(10, delete("k3"), 200, 203, None));
        assert_eq!(violations(&record).len(), 1);
    }
}
