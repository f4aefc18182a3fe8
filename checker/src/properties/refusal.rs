//! `quorum-refusal` (`classic`): a coordinator refuses an operation for want of a quorum in the
//! step that invokes it exactly when its own view names fewer replicas of the key than the
//! quorum, according to the checker's ring.
//!
//! Why the correct protocol satisfies it, whatever the network or the faults do: a classic
//! coordinator rebuilds its ring from its current view when a client request arrives and looks up
//! the key's replicas on it. With fewer than a quorum of them no answer could ever make a quorum,
//! so it refuses at once (`no-quorum`); otherwise it sends the request and decides on the replies,
//! which come a tick later at the earliest, so any other refusal comes later too.
//!
//! Why it matters: a ring with fewer nodes than the replica count names no replicas at all (the
//! course's rule), which happens while a cluster forms and at a node that has just restarted. A
//! coordinator that takes a request there sends it to nobody and holds the client until the
//! timeout for an answer it knew; one that refuses at once with the replicas in reach refuses
//! work the cluster could do. No other property judges answers before the cluster converged.
//!
//! Operations invoked at a coordinator that was down are not judged.

use super::timeline::Timeline;
use super::{Class, Violation};
use crate::record::{Operation, Reason, RunRecord};
use crate::ring::replicas;

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let quorum = record.bounds.quorum;
    let mut violations = Vec::new();
    for op in &record.history {
        if !timeline.up_at(op.coordinator, op.invoke) {
            continue;
        }
        let view = timeline.view_at(op.coordinator, op.invoke);
        let named = replicas(op.input.key(), &view, record.bounds.replicas);
        let refused_at_once = refused_at_once(op);
        let class = match (named.len() < quorum, refused_at_once) {
            (true, false) => Class::TookOpWithoutQuorum,
            (false, true) => Class::RefusedWithQuorum,
            _ => continue,
        };
        let answer = if refused_at_once {
            "refused it for want of a quorum in the same tick".to_string()
        } else {
            match op.complete {
                Some(at) => format!("answered it {:?} at tick {}", op.reason, at.tick),
                None => "never answered it".to_string(),
            }
        };
        let (id, key, node, tick) = (op.id, op.input.key(), op.coordinator, op.invoke.tick);
        let message = format!(
            "op {id} ({key:?}) invoked at n{node} at tick {tick}: its view {view:?} names the \
             replicas {named:?} (the quorum is {quorum}), and it {answer}"
        );
        violations.push(Violation::by_op(class, op, message));
    }
    violations
}

/// Whether the coordinator refused the operation for want of a quorum in the tick it was invoked.
fn refused_at_once(op: &Operation) -> bool {
    op.reason == Reason::NoQuorum && op.complete.is_some_and(|at| at.tick == op.invoke.tick)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::{Outcome, Reason, RunRecord, ViewChange};

    /// The violations about op 1 (a create of "k1" at node 1, invoked at tick 100).
    fn violations(record: &RunRecord) -> Vec<Violation> {
        let mut found = fixture::violations(record, Property::QuorumRefusal);
        found.retain(|v| v.ops == [1]);
        found
    }

    /// The healthy run, with op 1 refused at once.
    fn refused_at_once() -> RunRecord {
        let mut record = fixture::healthy();
        let op = &mut record.history[0];
        op.complete = Some(at(100, 999));
        op.outcome = Outcome::Rejected;
        op.reason = Reason::NoQuorum;
        record
    }

    /// Node 1's view loses every member but `kept` before tick 100.
    fn shrink_view(record: &mut RunRecord, kept: &[u8]) {
        let gone: Vec<u8> = [2, 3, 4, 5]
            .into_iter()
            .filter(|m| !kept.contains(m))
            .collect();
        for member in gone {
            record.views.push(ViewChange {
                at: at(50, u64::from(member)),
                node: 1,
                member,
                added: false,
            });
        }
    }

    #[test]
    fn answers_that_follow_the_ring_hold() {
        assert!(fixture::violations(&fixture::healthy(), Property::QuorumRefusal).is_empty());
        // With two nodes in its view, node 1's ring names no replicas: it refuses at once.
        let mut small = refused_at_once();
        shrink_view(&mut small, &[2]);
        assert!(violations(&small).is_empty());
        // A refusal for want of a quorum after the replies came is not at once.
        let mut later = refused_at_once();
        later.history[0].complete = Some(at(103, 1));
        assert!(violations(&later).is_empty());
    }

    #[test]
    fn a_refusal_with_the_replicas_in_reach_is_caught() {
        let found = violations(&refused_at_once());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::RefusedWithQuorum);
        assert_eq!(
            found[0].signature(),
            "quorum-refusal: coordinator refused at once with a quorum of replicas in its view"
        );
        assert!(
            found[0].message.contains(
                "(the quorum is 2), and it refused it for want of a quorum in the same tick"
            ),
            "{found:?}"
        );
    }

    #[test]
    fn an_operation_taken_without_replicas_is_caught() {
        // The bug: on a ring too small to name replicas, the coordinator takes the create (sends
        // it to nobody) instead of refusing it, and the client waits for the timeout.
        let mut small = fixture::healthy();
        shrink_view(&mut small, &[2]);
        let found = violations(&small);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::TookOpWithoutQuorum);
        assert!(found[0].message.contains(
            "op 1 (\"k1\") invoked at n1 at tick 100: its view [1, 2] names the replicas [] \
             (the quorum is 2), and it answered it Ok at tick 103"
        ));
    }
}
