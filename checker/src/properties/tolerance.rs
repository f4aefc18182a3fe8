//! `fault-tolerance`: the store tolerates one failure while it happens, not only once it has
//! been repaired (the original grader's second and third tests, made general). An operation
//! with no other operation's round on its key (see [`no_round_left_on_its_key`]) is answered `ok` or refused for a semantic reason
//! when, from the last moment the cluster was *settled* before its invocation to its answer:
//!
//! - the cluster was *settled* at that moment: the simulator saw every live node's view equal the
//!   set of live nodes and every hand-over done (the record's `settled` windows);
//! - *membership stood still* since: no view change on any node, no restart and no late join, so
//!   the coordinator still computes the key's replicas from that settled view;
//! - *at most one replica down*: of the 3 replicas the checker's ring oracle names for that view,
//!   at most one crashed since; the coordinator is up (it answered);
//! - *clean links*: the whole span lies in a window where the network was loss-free, undelayed
//!   (one constant delay) and unpartitioned, so no message the operation needs is lost.
//!
//! Why the correct protocols satisfy it: with 3 replicas, quorum 2 and one of them down, the two
//! live replicas both receive the coordinator's messages and both answer (clean links), and
//! nothing changes the replica set or the key's agreement configuration meanwhile (membership
//! stood still, hand-overs were done). Classic decides on the first 2 agreeing replies; with no
//! concurrent operation both live replicas hold the same value. Versioned needs 2 of its 3 seats
//! in each phase: the 2 live seats promise and accept, and its resend and timeout are sized for
//! two round trips at the delay bound. The timeout (plus slack) itself is `bounded-response`'s
//! business; this property judges the answer's reason. With two replicas down nothing can be
//! promised but safety, which `linearizable` judges whatever happens.
//!
//! Classic promises this only on runs without message faults and without fresh replicas (a
//! restarted empty replica or a late joiner makes reads disagree), like `availability`.

use super::availability::unavailable;
use super::timeline::Timeline;
use super::{Class, OpKind, Violation};
use crate::record::{AgreementEvent, NodeId, Operation, ProcessEvent, RunRecord, Stamp, Tick};
use crate::ring::replicas;

/// The last tick at or before `tick` at which the cluster was settled.
fn settled_at_or_before(record: &RunRecord, tick: Tick) -> Option<Tick> {
    record
        .settled
        .iter()
        .filter(|w| w.from <= tick)
        .map(|w| tick.min(w.to.saturating_sub(1)))
        .max()
}

/// Why an operation's span `(from, to]` is not judged, or the nodes that crashed in it.
fn crashes_while_membership_stood_still(
    record: &RunRecord,
    from: Tick,
    to: Tick,
) -> Option<Vec<NodeId>> {
    let inside = |at: Stamp| from < at.tick && at.tick <= to;
    if record.views.iter().any(|v| inside(v.at)) {
        return None;
    }
    let mut crashed = Vec::new();
    for event in &record.process_events {
        match *event {
            ProcessEvent::Restart { at, .. } if inside(at) => return None,
            ProcessEvent::Crash { at, node } if inside(at) => crashed.push(node),
            _ => {}
        }
    }
    Some(crashed)
}

/// Whether no other operation on `op`'s key ran, or may still have had a round out, while `op`
/// ran. A versioned coordinator's round (the client's, or the repair it starts as it answers)
/// lives until its deadline, `op_timeout_ticks` on its own clock after it began, and its last
/// messages arrive within the delay bound: both inside `response_slack_ticks` (which covers the
/// slowest clock's stretch and two delays). So another operation counts from its invocation to
/// its answer plus a timeout and the slack (to the end of the run if never answered): a ballot
/// it left behind would make `op` race it, which can cost `op` more round trips than its
/// timeout allows.
///
/// Rounds no client asked for race it the same way: a versioned steward repairs a key on its
/// own (read repair after anti-entropy finds its replicas apart). Those show as votes on the
/// key at another proposer's ballot while `op` ran, and leave `op` unjudged too.
///
/// One kind of other operation is no race: one its own coordinator took earlier on the key and
/// answered by the tick after `op`'s invocation ([`waited_its_turn`]).
fn no_round_left_on_its_key(record: &RunRecord, op: &Operation) -> bool {
    let linger = record
        .bounds
        .op_timeout_ticks
        .saturating_add(record.bounds.response_slack_ticks);
    let done = op.complete.map_or(Tick::MAX, |c| c.tick);
    let raced_by_another_proposer = record.agreement.iter().any(|event| match event {
        AgreementEvent::Voted {
            at, key, ballot, ..
        } => {
            key == op.input.key()
                && ballot.node != op.coordinator
                && op.invoke.tick <= at.tick
                && at.tick <= done
        }
        AgreementEvent::Decided { .. } | AgreementEvent::Repaired { .. } => false,
    });
    !raced_by_another_proposer
        && !record.history.iter().any(|other| {
            let other_end = other
                .complete
                .map_or(Tick::MAX, |c| c.tick.saturating_add(linger));
            other.id != op.id
                && other.input.key() == op.input.key()
                && other.invoke.tick <= done
                && op.invoke.tick <= other_end
                && !waited_its_turn(op, other)
        })
}

/// Whether `other` only made `op` wait its turn: the same coordinator took it earlier on the same
/// key and answered it at most [`TURN_TICKS_MAX`] after `op`'s invocation.
///
/// A coordinator's own operations on one key do not race each other. A versioned coordinator
/// drives one round per key at a time: an operation that arrives while one runs waits in a queue
/// and starts when that one is answered (the round ends with its answer, and the next one's
/// ballot outbids every ballot the coordinator used before). A classic coordinator waits for
/// nothing, and an operation answered before `op`'s requests reach any replica (with clean links
/// every request of one operation arrives at every replica in the same tick) is over for them.
/// So `op` still has its timeout less the wait, and the timeout is sized for two round trips at
/// the worst delay with two ticks to spare (the generator draws `op_timeout_ticks` at least
/// `4 * delay + 2`), which an uncontended operation needs on clean links: a wait of one tick
/// leaves a tick to spare. (A longer wait may leave too little; such an operation is not judged.)
fn waited_its_turn(op: &Operation, other: &Operation) -> bool {
    other.coordinator == op.coordinator
        && other.invoke < op.invoke
        && other
            .complete
            .is_some_and(|c| c.tick <= op.invoke.tick.saturating_add(TURN_TICKS_MAX))
}

/// The longest wait for its turn behind its coordinator's earlier operation on the key that
/// leaves an operation judged: one of the two ticks the timeout keeps to spare.
const TURN_TICKS_MAX: Tick = 1;

fn clean_throughout(record: &RunRecord, from: Tick, to: Tick) -> bool {
    record
        .clean_network
        .iter()
        .any(|w| w.contains(from) && w.contains(to))
}

/// The violation `op` shows, if it is judged and was refused for a non-semantic reason.
fn judge(record: &RunRecord, timeline: &Timeline<'_>, op: &Operation) -> Option<Violation> {
    let refusal = unavailable(op)?;
    let done = op.complete?.tick;
    let since = settled_at_or_before(record, op.invoke.tick)?;
    if !clean_throughout(record, since, done) || !no_round_left_on_its_key(record, op) {
        return None;
    }
    let crashed = crashes_while_membership_stood_still(record, since, done)?;
    let view = timeline.view_at(
        op.coordinator,
        Stamp {
            tick: since,
            seq: u64::MAX,
        },
    );
    let key = op.input.key();
    let replicas = replicas(key, &view, record.bounds.replicas);
    let down: Vec<NodeId> = replicas
        .iter()
        .copied()
        .filter(|r| crashed.contains(r))
        .collect();
    if replicas.is_empty() || down.len() > 1 || crashed.contains(&op.coordinator) {
        return None;
    }
    let kind = OpKind::of(&op.input);
    let message = format!(
        "op {} ({kind} {key:?}, coordinator {}) invoked at tick {}, settled since tick {since}, \
         replicas {replicas:?} with {} down ({down:?}), clean links, no other round on the key: \
         answered {}",
        op.id,
        op.coordinator,
        op.invoke.tick,
        down.len(),
        refusal.name()
    );
    Some(Violation::by_op(Class::NotTolerated(kind, refusal), op, message).with_nodes(down))
}

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    record
        .history
        .iter()
        .filter_map(|op| judge(record, timeline, op))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at, read, replicas_of};
    use super::super::{Property, Violation};
    use crate::record::{
        AgreementEvent, Ballot, Outcome, ProcessEvent, Reason, RunRecord, ViewChange, Window,
    };

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::FaultTolerance)
    }

    /// The healthy run, with the cluster settled until tick 155, then `crashed` of the replicas
    /// of "k1" (not its coordinator, node 1) crashed at tick 156, and the read of "k1" at 160
    /// timed out (with no operation on "k1" in the 15 ticks before it).
    fn timed_out_after_crashes(crashed: usize) -> RunRecord {
        let mut record = fixture::healthy();
        record.settled = vec![Window { from: 0, to: 156 }];
        let others = replicas_of("k1").into_iter().filter(|&n| n != 1);
        for node in others.take(crashed) {
            record.process_events.push(ProcessEvent::Crash {
                at: at(156, u64::from(node)),
                node,
            });
        }
        // Drop the create of "k1" at 150-152: its round could linger into the read.
        record.history.remove(6);
        let op = &mut record.history[6];
        assert_eq!(op.input, read("k1"));
        op.outcome = Outcome::Unknown;
        op.reason = Reason::Timeout;
        op.output = None;
        op.acks.clear();
        record
    }

    #[test]
    fn success_with_one_down_and_refusals_with_two_down_hold() {
        let mut record = fixture::healthy();
        record.settled = vec![Window { from: 0, to: 1000 }];
        assert!(violations(&record).is_empty());
        assert!(violations(&timed_out_after_crashes(2)).is_empty());
    }

    #[test]
    fn a_timeout_with_one_replica_down_is_caught() {
        // The bug: a versioned round waits for all three accepts, so one crashed replica stalls
        // every operation on its keys until membership removes it.
        let found = violations(&timed_out_after_crashes(1));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "fault-tolerance: read refused with timeout with at most one replica down"
        );
        assert!(
            found[0].message.starts_with("op 8 "),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn spans_without_settling_or_with_membership_moving_or_dirty_links_are_not_judged() {
        let mut unsettled = timed_out_after_crashes(1);
        unsettled.settled.clear();
        assert!(violations(&unsettled).is_empty());
        let mut moving = timed_out_after_crashes(1);
        moving.views.push(ViewChange {
            at: at(158, 0),
            node: 2,
            member: replicas_of("k1")[0],
            added: false,
        });
        assert!(violations(&moving).is_empty());
        let mut raced = timed_out_after_crashes(1);
        raced.history[3].complete = Some(at(150, 0)); // the update of "k1"
        raced.history[3].coordinator = 2; // (its own coordinator's would only queue the read)
        assert!(
            violations(&raced).is_empty(),
            "a round may linger after tick 150"
        );
        let mut dirty = timed_out_after_crashes(1);
        dirty.clean_network = vec![Window { from: 0, to: 150 }];
        assert!(violations(&dirty).is_empty());
    }

    /// The healthy run, settled throughout, with a read of "k1" at the same coordinator (node 1)
    /// invoked at tick 161, while the read of "k1" at 160-162 still ran (it waits its turn in
    /// the coordinator's queue), answered `answer` at tick `done`.
    fn queued_read(done: u64, outcome: Outcome, reason: Reason) -> RunRecord {
        let mut record = fixture::healthy();
        record.settled = vec![Window { from: 0, to: 1000 }];
        let mut op = fixture::failed(9, read("k1"), 161, done, outcome, reason);
        op.coordinator = record.history[7].coordinator;
        record.history.push(op);
        record
    }

    #[test]
    fn an_operation_that_waited_its_turn_and_was_answered_holds() {
        let record = queued_read(166, Outcome::Ok, Reason::Ok);
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn an_operation_that_waited_its_turn_and_timed_out_is_caught() {
        // The bug: the coordinator answers an operation and forgets the one queued behind it on
        // the key, which sits in the queue until its deadline.
        let found = violations(&queued_read(171, Outcome::Rejected, Reason::Timeout));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.starts_with("op 9 "),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_longer_wait_or_another_coordinator_leaves_the_operation_unjudged() {
        let mut long_wait = queued_read(171, Outcome::Rejected, Reason::Timeout);
        long_wait.history[7].complete = Some(at(163, 8)); // two ticks after op 9's invocation
        assert!(violations(&long_wait).is_empty());
        let mut elsewhere = queued_read(171, Outcome::Rejected, Reason::Timeout);
        elsewhere.history[8].coordinator = 2;
        assert!(violations(&elsewhere).is_empty());
    }

    #[test]
    fn a_repair_round_another_node_drives_on_the_key_leaves_the_operation_unjudged() {
        // Calm versioned seed 8,649: a steward's read repair on the key won the ballot while
        // the client's operation ran, and the operation timed out one tick before its retry
        // was accepted.
        let repair_ballot = |node| Ballot {
            epoch: 1,
            round: 91,
            node,
            incarnation: 0,
        };
        let voted_at = |node| AgreementEvent::Voted {
            at: at(161, 900),
            node: replicas_of("k1")[0],
            key: "k1".into(),
            ballot: repair_ballot(node),
        };
        let mut raced = timed_out_after_crashes(1);
        raced.agreement.push(voted_at(4));
        assert!(violations(&raced).is_empty());
        // The coordinator's own ballot is no race.
        let mut own = timed_out_after_crashes(1);
        own.agreement.push(voted_at(1));
        assert_eq!(violations(&own).len(), 1);
    }
}
