//! `rejoin`: a restarted node asks to be let back in as it starts.
//!
//! A node restarts empty, with a fresh incarnation and only itself in its view. Its peers may
//! have removed its old incarnation long ago and no longer gossip to it, so the protocol has it
//! send a join request at once to another seed node (the introducer only on a node's very first
//! start); the answer carries the group's table. Without that request the node waits, alone and
//! unable to coordinate anything, until some peer's periodic probe of seeds outside its view
//! happens to reach it: every other property still holds, only slower, which is why the rule is
//! judged on its own. It is judged on sends, not deliveries, so loss and partitions cannot trip
//! it: the node must ask, not succeed. A restart of a node that is the only seed node asks no
//! one, and a record whose driver did not watch join requests (no seed list) is not judged.

use super::{Class, Violation};
use crate::record::{ProcessEvent, RunRecord};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let mut violations = Vec::new();
    for event in &record.process_events {
        let ProcessEvent::Restart { at, node } = *event else {
            continue;
        };
        let others: Vec<_> = record
            .seed_nodes
            .iter()
            .copied()
            .filter(|&s| s != node)
            .collect();
        if others.is_empty() {
            continue;
        }
        // The request goes out in the step that starts the node: same tick, after the restart.
        let asked = record.join_requests.iter().any(|r| {
            r.node == node && r.at.tick == at.tick && r.at.seq > at.seq && others.contains(&r.to)
        });
        if !asked {
            let message = format!(
                "n{node} restarted at tick {} and sent no join request to any of the seed \
                 nodes {others:?}",
                at.tick
            );
            violations
                .push(Violation::new(Class::RestartWithoutJoinRequest, message).with_nodes([node]));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::{JoinRequest, ProcessEvent, RunRecord};

    fn violations(seed_nodes: Vec<u8>, join_requests: Vec<JoinRequest>) -> Vec<Violation> {
        let record = RunRecord {
            process_events: vec![
                ProcessEvent::Crash {
                    at: at(50, 1),
                    node: 2,
                },
                ProcessEvent::Restart {
                    at: at(90, 7),
                    node: 2,
                },
            ],
            seed_nodes,
            join_requests,
            ..fixture::healthy()
        };
        fixture::violations(&record, Property::Rejoin)
    }

    fn request(tick: u64, seq: u64, node: u8, to: u8) -> JoinRequest {
        JoinRequest {
            at: at(tick, seq),
            node,
            to,
        }
    }

    #[test]
    fn a_restart_that_asks_a_seed_at_once_holds() {
        assert!(violations(vec![1, 2, 3], vec![request(90, 8, 2, 3)]).is_empty());
    }

    #[test]
    fn a_restart_that_asks_nobody_or_too_late_fails() {
        let found = violations(vec![1, 2, 3], vec![]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].class, Class::RestartWithoutJoinRequest);
        assert_eq!(found[0].nodes, [2]);
        // Asking later (a retry) or asking itself is not asking at once.
        assert_eq!(
            violations(vec![1, 2, 3], vec![request(95, 1, 2, 1)]).len(),
            1
        );
        assert_eq!(
            violations(vec![1, 2, 3], vec![request(90, 8, 2, 2)]).len(),
            1
        );
        // Another node's request does not count for it.
        assert_eq!(
            violations(vec![1, 2, 3], vec![request(90, 8, 3, 1)]).len(),
            1
        );
    }

    #[test]
    fn a_lone_seed_and_an_unwatched_record_are_not_judged() {
        assert!(violations(vec![2], vec![]).is_empty());
        assert!(violations(vec![], vec![]).is_empty());
    }
}
