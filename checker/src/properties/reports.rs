//! `reported-copies`: at the end of a run, every live node holds exactly the copies its own
//! reports say it holds: for each key, the value of its last `ReplicaStored` since it last
//! started (nothing, if it reported none or reported the copy gone).
//!
//! Why the correct protocol satisfies it: a replica reports its copy of a key whenever the copy
//! changes: classic on every write it applies and every copy stabilization gives or drops, and
//! versioned whenever its vote moves to another written state (another value or version) or
//! between written and unwritten. A restart empties the store without a report, which is why
//! only the reports since the last start count.
//!
//! Why it matters: `durability`, `provenance` and `stabilization` judge the replicas' copies by
//! these reports. A replica whose copy changes without a report (two proposals of one version
//! with different values, taken for the same state) makes them judge a store that does not
//! exist, and a lost write or a resurrected delete can then hide in the gap.
//!
//! A run that panicked has no final state and is not judged.

use super::timeline::Timeline;
use super::{Class, Violation};
use crate::record::{RunRecord, Stamp};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let end = Stamp {
        tick: u64::MAX,
        seq: u64::MAX,
    };
    let mut violations = Vec::new();
    for node in record.final_nodes.iter().filter(|n| n.live) {
        let Some(since) = timeline.started(node.node, end) else {
            continue;
        };
        let mut reported: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        for event in record
            .stored
            .iter()
            .filter(|e| e.node == node.node && e.at >= since)
        {
            reported.insert(&event.key, event.value.as_deref());
        }
        let held: BTreeMap<&str, Option<&str>> = node
            .store
            .iter()
            .map(|k| (k.key.as_str(), k.value.as_deref()))
            .collect();
        let keys: BTreeSet<&str> = reported.keys().chain(held.keys()).copied().collect();
        for key in keys {
            let says = reported.get(key).copied().flatten();
            let holds = held.get(key).copied().flatten();
            if says == holds {
                continue;
            }
            let message = format!(
                "n{} ends holding {holds:?} for {key:?}, but its last report since it started \
                 says {says:?}",
                node.node
            );
            violations.push(
                Violation::new(Class::CopyUnreported, message)
                    .on_key(key)
                    .with_nodes([node.node]),
            );
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at, replicas_of};
    use super::super::{Class, Property, Violation};
    use crate::record::{ProcessEvent, RunRecord, StoredKey};

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::ReportedCopies)
    }

    /// The final store of `node`, mutably.
    fn store(record: &mut RunRecord, node: u8) -> &mut Vec<StoredKey> {
        let last = record.final_nodes.iter_mut().find(|n| n.node == node);
        &mut last.expect("the fixture's node").store
    }

    #[test]
    fn copies_as_reported_hold() {
        // "k1" ends as "v2" on its replicas, as they last reported; "k3" was reported gone.
        assert!(violations(&fixture::healthy()).is_empty());
        // A tombstone is no copy, as its report (`None`) says.
        let mut tombstone = fixture::healthy();
        let node = replicas_of("k3")[0];
        store(&mut tombstone, node).push(StoredKey {
            key: "k3".into(),
            value: None,
            version: 2,
        });
        assert!(violations(&tombstone).is_empty());
    }

    #[test]
    fn a_copy_changed_without_a_report_is_caught() {
        // The bug: a second proposal of the same version, with another value, taken for the
        // same state and not reported.
        let mut record = fixture::healthy();
        let node = replicas_of("k1")[0];
        store(&mut record, node)[0].value = Some("v9".into());
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::CopyUnreported);
        assert_eq!(
            found[0].signature(),
            "reported-copies: node holds a copy its reports do not say"
        );
        assert_eq!(
            found[0].message,
            format!(
                "n{node} ends holding Some(\"v9\") for \"k1\", but its last report since it \
                 started says Some(\"v2\")"
            )
        );
    }

    #[test]
    fn only_reports_since_the_last_start_count() {
        // A restart empties the store without a report: what came before it is gone.
        let mut record = fixture::healthy();
        let node = replicas_of("k1")[0];
        record.process_events = vec![
            ProcessEvent::Crash {
                at: at(125, 1),
                node,
            },
            ProcessEvent::Restart {
                at: at(130, 1),
                node,
            },
        ];
        let kept = store(&mut record, node).clone();
        store(&mut record, node).clear();
        assert!(violations(&record).is_empty());
        // Still holding the copy after the restart, with no report of it since, is caught.
        *store(&mut record, node) = kept;
        assert_eq!(violations(&record).len(), 1);
    }
}
