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

use super::{Class, Violation};
use crate::record::{AgreementEvent, Ballot, NodeId, RunRecord};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let mut votes: BTreeMap<(&str, Ballot), BTreeSet<NodeId>> = BTreeMap::new();
    let mut violations = Vec::new();
    for event in &record.agreement {
        match event {
            AgreementEvent::Voted {
                node, key, ballot, ..
            } => {
                votes.entry((key, *ballot)).or_default().insert(*node);
            }
            AgreementEvent::Decided {
                at,
                node,
                key,
                ballot,
                seats,
            } => {
                let voters: Vec<NodeId> = votes
                    .get(&(key.as_str(), *ballot))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|voter| seats.contains(voter))
                    .collect();
                let majority = seats.len() / 2 + 1;
                if voters.len() >= majority {
                    continue;
                }
                let message = format!(
                    "n{node} decided {key:?} at tick {} under ballot e{}.r{}.n{}.i{} with votes \
                     from {voters:?} only, {} of the {majority} its seats {seats:?} need",
                    at.tick,
                    ballot.epoch,
                    ballot.round,
                    ballot.node,
                    ballot.incarnation,
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
    use crate::record::{AgreementEvent, Ballot, NodeId, RunRecord};

    const BALLOT: Ballot = Ballot {
        epoch: 1,
        round: 3,
        node: 1,
        incarnation: 0,
    };

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
}
