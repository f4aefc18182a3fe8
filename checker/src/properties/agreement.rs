//! `agreement` (`versioned`): every decision of a key round rests on a quorum of votes. When a
//! proposer takes its proposal for a key as chosen (and commits it to the seats that did not
//! accept it), a majority of the round's configuration must already have voted for that key
//! at that ballot.
//!
//! Why the correct protocol satisfies it, whatever the network or the faults do: a proposer
//! counts an acceptance only from a seat of its round's configuration, once per node, and only
//! for its own ballot; a seat sends that acceptance only after it has voted (the vote is
//! observed in the same step that sends it). So by the time a proposer has counted a majority,
//! a majority of the seats have voted, earlier in the run. Loss, delay or duplication can only
//! hold a decision back, never bring it forward. This is what makes a committed state safe to
//! install at a seat whatever that seat promised since (two majorities of one configuration
//! share a seat, so a later round learns the chosen state), and what the client's quorum of
//! acknowledgements cannot show: a proposer may answer its client correctly and still commit
//! too early.
//!
//! The majority is counted against the seats the proposer reports for its round, not against
//! the protocol's quorum of 2: a range's first configuration is the introducer alone.
//!
//! What a node sends seats as chosen outside its own decision rests on the same evidence: a read
//! repair, or a steward's anti-entropy commit of the newest vote a quorum of the seats answering
//! its sync holds, carries a state some proposer decided at that ballot, or one a majority of
//! the configuration's seats voted for (a vote installed by a hand-over counts: the seat's syncs
//! count it as held). The correct protocol satisfies it because a seat holds a vote only by
//! voting for it, by installing it, or by a commit, and a commit carries a state that was
//! decided or (by the same argument, earlier) voted by a majority; and a steward counts a seat
//! that did not list a key as holding its own vote only when the seat answered that very digest
//! and the steward's vote is still the one it digested. A steward that counts a seat as holding
//! a vote it does not hold commits a vote nobody chose, which a later round may never learn.
//!
//! The answer follows the decision: a proposer that decided the proposal serving a client's
//! operation answers it `unknown` for want of evidence (`no-quorum`) only once every seat of the
//! round voted at that ballot. A decision is a quorum of votes, but the client's success must
//! also show a quorum of the replicas the coordinator's own ring names; when the seats that
//! voted are not those (the ring moved and the range has not followed yet), the remaining seat's
//! vote may still supply the missing evidence, so the protocol waits for it, and says `unknown`
//! only when every seat has voted and the evidence is still short (or at its deadline, as a
//! timeout). Answering `unknown` earlier throws away a success that was one vote away: the
//! client cannot tell whether its write happened, which is what the share of unknown outcomes
//! counts against the store.

use super::{Class, Violation};
use crate::record::{AgreementEvent, Ballot, NodeId, Operation, Outcome, Reason, RunRecord, Stamp};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let mut violations = decisions_without_quorum(record);
    violations.extend(
        record
            .history
            .iter()
            .filter_map(|op| unknown_before_every_vote(record, op)),
    );
    violations
}

/// The decision of `op`'s coordinator on its key that served `op`, if any: its last one after
/// `op` was invoked and after the coordinator answered its previous operation on the key, up to
/// `op`'s answer (a coordinator drives one round per key at a time).
fn decision_serving<'a>(
    record: &'a RunRecord,
    op: &Operation,
    answer: Stamp,
) -> Option<(Stamp, Ballot, &'a [NodeId])> {
    let key = op.input.key();
    let previous_answer = record
        .history
        .iter()
        .filter(|o| o.id != op.id && o.coordinator == op.coordinator && o.input.key() == key)
        .filter_map(|o| o.complete)
        .filter(|&c| c < answer)
        .max();
    let since = previous_answer.map_or(op.invoke, |p| p.max(op.invoke));
    record
        .agreement
        .iter()
        .filter_map(|event| match event {
            AgreementEvent::Decided {
                at,
                node,
                key: k,
                ballot,
                seats,
            } if *node == op.coordinator && k == key && since < *at && *at <= answer => {
                Some((*at, *ballot, &seats[..]))
            }
            _ => None,
        })
        .max_by_key(|(at, _, _)| *at)
}

/// The violation `op` shows if its coordinator decided it and answered `unknown` (no quorum)
/// before every seat of the decided round voted.
fn unknown_before_every_vote(record: &RunRecord, op: &Operation) -> Option<Violation> {
    if op.outcome != Outcome::Unknown || op.reason != Reason::NoQuorum {
        return None;
    }
    let answer = op.complete?;
    let (decided_at, ballot, seats) = decision_serving(record, op, answer)?;
    let key = op.input.key();
    let voted: BTreeSet<NodeId> = record
        .agreement
        .iter()
        .filter_map(|event| match event {
            AgreementEvent::Voted {
                at,
                node,
                key: k,
                ballot: b,
            } if k == key && *b == ballot && *at <= answer => Some(*node),
            _ => None,
        })
        .collect();
    let silent: Vec<NodeId> = seats
        .iter()
        .copied()
        .filter(|s| !voted.contains(s))
        .collect();
    if silent.is_empty() {
        return None;
    }
    let message = format!(
        "op {} ({key:?}, coordinator {}) decided at tick {} under ballot e{}.r{} with seats \
         {seats:?}, answered unknown (no quorum) at tick {} before {silent:?} voted",
        op.id, op.coordinator, decided_at.tick, ballot.epoch, ballot.round, answer.tick
    );
    Some(Violation::by_op(Class::UnknownBeforeEveryVote, op, message).with_nodes(silent))
}

/// The nodes that voted for one key under one ballot: a bit per node id (ids are bytes), so
/// that a ballot's votes take no allocation of their own (a set per ballot was most of this
/// property's cost, which every versioned run pays).
#[derive(Debug, Default, Clone, Copy)]
struct Voters([u64; 4]);

impl Voters {
    fn insert(&mut self, node: NodeId) {
        self.0[usize::from(node >> 6)] |= 1 << (node & 63);
    }

    fn contains(&self, node: NodeId) -> bool {
        self.0[usize::from(node >> 6)] & (1 << (node & 63)) != 0
    }
}

/// The decisions without a quorum of votes, and the repairs of states nobody decided and no
/// majority voted for, in the order the run made them.
fn decisions_without_quorum(record: &RunRecord) -> Vec<Violation> {
    let mut votes: BTreeMap<(&str, Ballot), Voters> = BTreeMap::new();
    let mut decided: BTreeSet<(&str, Ballot)> = BTreeSet::new();
    let mut violations = Vec::new();
    // The seats that voted, in id order, each once.
    let voters_among =
        |votes: &BTreeMap<(&str, Ballot), Voters>, key: &str, ballot: Ballot, seats: &[NodeId]| {
            let Some(voters) = votes.get(&(key, ballot)) else {
                return Vec::new();
            };
            let mut among: Vec<NodeId> = seats
                .iter()
                .copied()
                .filter(|&seat| voters.contains(seat))
                .collect();
            among.sort_unstable();
            among.dedup();
            among
        };
    for event in &record.agreement {
        match event {
            AgreementEvent::Voted {
                node, key, ballot, ..
            } => {
                votes.entry((key, *ballot)).or_default().insert(*node);
            }
            AgreementEvent::Repaired {
                at,
                node,
                key,
                ballot,
                seats,
            } => {
                let voters = voters_among(&votes, key, *ballot, seats);
                let majority = seats.len() / 2 + 1;
                if decided.contains(&(key.as_str(), *ballot)) || voters.len() >= majority {
                    continue;
                }
                let message = format!(
                    "n{node} sent {key:?} at tick {} as chosen under ballot {}, which no \
                     proposer decided and only {voters:?} of its seats {seats:?} voted for \
                     ({majority} needed)",
                    at.tick, ballot,
                );
                violations.push(
                    Violation::new(Class::RepairedUnchosen, message)
                        .on_key(key)
                        .with_nodes([*node]),
                );
            }
            AgreementEvent::Decided {
                at,
                node,
                key,
                ballot,
                seats,
            } => {
                decided.insert((key, *ballot));
                let voters = voters_among(&votes, key, *ballot, seats);
                let majority = seats.len() / 2 + 1;
                if voters.len() >= majority {
                    continue;
                }
                let message = format!(
                    "n{node} decided {key:?} at tick {} under ballot {} with votes from \
                     {voters:?} only, {} of the {majority} its seats {seats:?} need",
                    at.tick,
                    ballot,
                    voters.len()
                );
                violations.push(
                    Violation::new(Class::DecidedWithoutQuorum, message)
                        .on_key(key)
                        .with_nodes([*node]),
                );
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::{AgreementEvent, Ballot, NodeId, Outcome, Reason, RunRecord};

    const BALLOT: Ballot = Ballot {
        epoch: 1,
        round: 3,
        node: 1,
        incarnation: 0,
    };

    /// Every id from 0 to 255 has a bit of its own: ids on word edges and the last one are
    /// told apart from their neighbours.
    #[test]
    fn voters_keep_each_id_apart() {
        let mut voters = super::Voters::default();
        for id in [0, 63, 64, 127, 128, 255] {
            voters.insert(id);
        }
        let held: Vec<NodeId> = (0..=255).filter(|&id| voters.contains(id)).collect();
        assert_eq!(held, [0, 63, 64, 127, 128, 255]);
    }

    fn voted(tick: u64, node: NodeId, ballot: Ballot) -> AgreementEvent {
        AgreementEvent::Voted {
            at: at(tick, u64::from(node)),
            node,
            key: "k1".into(),
            ballot,
        }
    }

    fn decided(tick: u64, seats: &[NodeId]) -> AgreementEvent {
        AgreementEvent::Decided {
            at: at(tick, 0),
            node: 1,
            key: "k1".into(),
            ballot: BALLOT,
            seats: seats.to_vec(),
        }
    }

    fn violations(agreement: Vec<AgreementEvent>) -> Vec<Violation> {
        let record = RunRecord {
            agreement,
            ..fixture::healthy()
        };
        fixture::violations(&record, Property::Agreement)
    }

    #[test]
    fn a_decision_after_two_of_three_votes_holds() {
        let events = vec![
            voted(10, 2, BALLOT),
            voted(11, 3, BALLOT),
            decided(12, &[2, 3, 4]),
        ];
        assert!(violations(events).is_empty());
        // The introducer alone is a range's first configuration: its own vote is a majority.
        assert!(violations(vec![voted(3, 1, BALLOT), decided(4, &[1])]).is_empty());
    }

    #[test]
    fn a_decision_on_the_first_vote_is_caught() {
        // The bug: the proposer commits on its first acceptance; the second seat votes later.
        let events = vec![
            voted(10, 2, BALLOT),
            decided(11, &[2, 3, 4]),
            voted(12, 3, BALLOT),
        ];
        let found = violations(events);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::DecidedWithoutQuorum);
        assert_eq!(
            found[0].signature(),
            "agreement: key proposal decided without a quorum of votes at its ballot"
        );
        assert!(
            found[0].message.contains("[2] only, 1 of the 2"),
            "{}",
            found[0].message
        );
        assert_eq!(
            (found[0].key.as_deref(), &found[0].nodes[..]),
            (Some("k1"), &[1][..])
        );
    }

    /// The healthy run with the update of "k1" (op 4, coordinator 1, 120-123) answered unknown
    /// for want of evidence, after a decision at tick 122 on the votes of seats `voters` of 2,
    /// 3 and 4.
    fn unknown_after_decision(voters: &[NodeId]) -> RunRecord {
        let mut record = fixture::healthy();
        record.agreement = voters.iter().map(|&n| voted(121, n, BALLOT)).collect();
        record.agreement.push(decided(122, &[2, 3, 4]));
        let op = &mut record.history[3];
        op.outcome = Outcome::Unknown;
        op.reason = Reason::NoQuorum;
        op.acks.clear();
        record
    }

    #[test]
    fn unknown_once_every_seat_voted_holds() {
        let record = unknown_after_decision(&[2, 3, 4]);
        assert!(fixture::violations(&record, Property::Agreement).is_empty());
    }

    #[test]
    fn unknown_before_every_seat_voted_is_caught() {
        // The bug: the proposer answers "no quorum" as soon as the first quorum of votes lacks
        // its ring's evidence, instead of waiting for the seat that could supply it.
        let found = fixture::violations(&unknown_after_decision(&[2, 3]), Property::Agreement);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::UnknownBeforeEveryVote);
        assert_eq!(found[0].nodes, vec![4]);
        assert!(
            found[0].message.contains(" with seats [") && !found[0].message.contains("  "),
            "{}",
            found[0].message
        );
        // A decision before the operation, or another coordinator's, is not its decision.
        let mut before = unknown_after_decision(&[2, 3]);
        if let Some(AgreementEvent::Decided { at: when, .. }) = before.agreement.last_mut() {
            *when = at(119, 0);
        }
        assert!(fixture::violations(&before, Property::Agreement).is_empty());
    }

    #[test]
    fn votes_at_another_ballot_or_from_outside_the_seats_do_not_count() {
        let older = Ballot { round: 2, ..BALLOT };
        let events = vec![
            voted(10, 2, BALLOT),
            voted(10, 3, older),
            voted(11, 5, BALLOT),
            decided(12, &[2, 3, 4]),
        ];
        assert_eq!(violations(events).len(), 1);
    }

    fn repaired(tick: u64, node: NodeId, seats: &[NodeId]) -> AgreementEvent {
        AgreementEvent::Repaired {
            at: at(tick, 0),
            node,
            key: "k1".into(),
            ballot: BALLOT,
            seats: seats.to_vec(),
        }
    }

    #[test]
    fn a_repair_of_a_decided_or_majority_vote_holds() {
        // A proposer's read repair follows its decision.
        let decided_first = vec![
            voted(10, 2, BALLOT),
            voted(10, 3, BALLOT),
            decided(11, &[2, 3, 4]),
            repaired(11, 1, &[2, 3, 4]),
        ];
        assert!(violations(decided_first).is_empty());
        // A steward's anti-entropy commit of a vote a majority of its seats cast (an installed
        // vote counts), whose proposer never decided.
        let voted_by_majority = vec![
            voted(10, 2, BALLOT),
            voted(12, 4, BALLOT),
            repaired(20, 2, &[2, 3, 4]),
        ];
        assert!(violations(voted_by_majority).is_empty());
    }

    #[test]
    fn a_repair_of_a_vote_nobody_chose_is_caught() {
        // The bug: a steward took the seats that did not list the key as holding its own vote,
        // cast after its digest, and committed that vote to the seat behind.
        let found = violations(vec![voted(10, 2, BALLOT), repaired(11, 2, &[2, 3, 4])]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::RepairedUnchosen);
        assert!(
            found[0].message.contains("only [2] of its seats [2, 3, 4]"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].nodes, vec![2]);
        // A majority's votes that come after the repair do not make it chosen at the time.
        let late = vec![
            voted(10, 2, BALLOT),
            repaired(11, 2, &[2, 3, 4]),
            voted(12, 3, BALLOT),
        ];
        assert_eq!(violations(late).len(), 1);
        // Votes from outside the seats do not count.
        let outside = vec![
            voted(10, 2, BALLOT),
            voted(10, 5, BALLOT),
            repaired(11, 2, &[2, 3, 4]),
        ];
        assert_eq!(violations(outside).len(), 1);
    }
}
