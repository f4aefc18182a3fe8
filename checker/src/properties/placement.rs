//! `write-placement` (`classic`): a coordinator sends every client write (create, update,
//! delete) to every replica of the key that its own membership view names, according to the
//! checker's ring.
//!
//! Why the correct protocol satisfies it, whatever the network or the faults do: a classic
//! coordinator rebuilds its ring from its current view before it routes a client request, and
//! sends the request to each of the key's replicas on that ring. What is judged is the *send*,
//! not the delivery: a lost or partitioned message is the network's doing and stabilization's
//! to repair, but a replica the coordinator never asked misses the write on a clean network
//! too, and with one of the two others down the write then rests on a single copy. The quorum
//! of acknowledgements cannot show it: two replicas still answer.

use super::timeline::Timeline;
use super::{Class, Violation};
use crate::record::RunRecord;
use crate::ring::replicas;

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let mut violations = Vec::new();
    for route in &record.routes {
        let view = timeline.view_at(route.node, route.at);
        let named = replicas(&route.key, &view, record.bounds.replicas);
        let missed: Vec<_> = named.iter().filter(|r| !route.to.contains(r)).collect();
        if missed.is_empty() {
            continue;
        }
        let message = format!(
            "n{} sent a write of {:?} at tick {} to {:?}, missing {missed:?} of the replicas \
             {named:?} its view {view:?} names",
            route.node, route.key, route.at.tick, route.to
        );
        violations.push(
            Violation::new(Class::WriteMissedReplica, message)
                .on_key(&route.key)
                .with_nodes([route.node]),
        );
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::{RunRecord, WriteRoute};

    fn violations(to: Vec<u8>) -> Vec<Violation> {
        let route = WriteRoute {
            at: at(120, 0),
            node: 1,
            key: "k1".into(),
            to,
            txn: 0,
        };
        let record = RunRecord {
            routes: vec![route],
            ..fixture::healthy()
        };
        fixture::violations(&record, Property::WritePlacement)
    }

    #[test]
    fn a_write_sent_to_the_three_replicas_holds() {
        assert!(violations(fixture::replicas_of("k1")).is_empty());
    }

    #[test]
    fn a_write_that_skips_a_replica_is_caught() {
        // The bug: the coordinator leaves the key's third replica out of the write.
        let replicas = fixture::replicas_of("k1");
        let found = violations(replicas[..2].to_vec());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::WriteMissedReplica);
        assert_eq!(
            found[0].signature(),
            "write-placement: write not sent to a replica its coordinator's view names"
        );
        assert!(
            found[0]
                .message
                .contains(&format!("missing [{}]", replicas[2])),
            "{}",
            found[0].message
        );
        assert_eq!(
            (found[0].key.as_deref(), &found[0].nodes[..]),
            (Some("k1"), &[1][..])
        );
    }
}
