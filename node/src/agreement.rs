//! The vocabulary of the `versioned` store's agreement protocol, shared by its messages and its
//! state: replica seats, ranges and their configurations, ballots, versioned states and votes.
//!
//! The protocol itself (and the argument for why it is safe) lives in
//! [`crate::store::versioned`] and the README.

use crate::client::{OpKind, TxnId};
use crate::ids::{Incarnation, NodeId};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// One seat in a replica set: a node in one incarnation.
///
/// A restarted node has lost its votes, so it must never answer for the seat its previous
/// incarnation held: naming seats by (node, incarnation) makes an amnesiac node a new replica
/// that has to be handed the state before it votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Replica {
    /// The node.
    pub id: NodeId,
    /// Its incarnation.
    pub incarnation: Incarnation,
}

/// A range of the key space: the keys between two successive nodes of the ring built from
/// [`crate::Params::seed_nodes`], named by the index (in ring order) of the node that ends it.
///
/// Every ring built from a subset of the seed nodes gives all keys of one range the same
/// replicas, so a range is the unit whose replica set changes, and readiness (which epoch of a
/// range a node has recovered) is tracked per range, which is what lets a node tell "never
/// written" from "not handed over yet" for keys it has never seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RangeId(pub u16);

/// A range's replica set in one epoch. Epoch 0 is the introducer alone, in incarnation 0; every
/// later epoch is chosen by a seal round at a quorum of the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Config {
    /// The range.
    pub range: RangeId,
    /// The epoch, one more than the configuration it replaced.
    pub epoch: u64,
    /// The replicas, in ring order.
    pub members: Vec<Replica>,
}

impl Config {
    /// Whether the seat is in this configuration.
    pub fn has(&self, replica: Replica) -> bool {
        self.members.contains(&replica)
    }

    /// Whether some incarnation of the node holds a seat.
    pub fn has_node(&self, id: NodeId) -> bool {
        self.members.iter().any(|m| m.id == id)
    }

    /// How many seats make a quorum: a majority, so that any two quorums share a seat.
    pub fn quorum(&self) -> usize {
        self.members.len() / 2 + 1
    }

    /// Whether the seats are exactly these (in any order).
    pub fn same_seats(&self, seats: &[Replica]) -> bool {
        self.members.len() == seats.len() && seats.iter().all(|s| self.has(*s))
    }

    /// The seats' nodes, in ring order (for observations that name a round's seats).
    pub fn seat_nodes(&self) -> Rc<[NodeId]> {
        self.members.iter().map(|m| m.id).collect()
    }
}

/// A proposal number. Ordered by epoch first, so that every ballot of an epoch beats every
/// ballot of the epochs before it; the node and its incarnation make ballots unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// The range epoch the ballot belongs to.
    pub epoch: u64,
    /// The proposer's round counter (0 only for [`Ballot::install`]).
    pub round: u64,
    /// The proposer.
    pub node: NodeId,
    /// The proposer's incarnation (a restarted proposer starts its counter again).
    pub incarnation: Incarnation,
}

impl Ballot {
    /// The ballot below every real one: "nothing accepted yet".
    pub const ZERO: Ballot = Ballot::install(0);

    /// The ballot at which a handover installs state in a new epoch: below every ballot a
    /// proposer of that epoch can use.
    pub const fn install(epoch: u64) -> Ballot {
        Ballot {
            epoch,
            round: 0,
            node: NodeId(0),
            incarnation: 0,
        }
    }
}

/// Which client write produced a state, so that a coordinator that retries after losing a
/// ballot race can tell whether its own write already got in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WriteId {
    /// The coordinator.
    pub node: NodeId,
    /// The coordinator's incarnation.
    pub incarnation: Incarnation,
    /// Its transaction id.
    pub txn: TxnId,
}

/// How many of its latest writes a state remembers (see [`Versioned::writers`]).
pub const LINEAGE_WRITES: usize = 8;

/// The state of one key: a value or a tombstone, with the number of writes that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Versioned {
    /// The value; `None` for a key never written or deleted (a tombstone once `version > 0`).
    pub value: Option<Rc<str>>,
    /// How many writes (creates, updates, deletes) led to this state.
    pub version: u64,
    /// The writes that produced the latest (up to [`LINEAGE_WRITES`]) versions, oldest first:
    /// a coordinator whose earlier attempt lost a race learns from it whether that attempt's
    /// write is in the chain of states that leads here, so it neither applies a write twice
    /// nor gives up on one it could still apply.
    pub writers: Rc<[WriteId]>,
}

impl Versioned {
    /// The state after a write: `value` (`None`: deleted), one version later.
    pub fn next(&self, value: Option<Rc<str>>, writer: WriteId) -> Versioned {
        let keep = self.writers.len().saturating_sub(LINEAGE_WRITES - 1);
        Versioned {
            value,
            version: self.version + 1,
            writers: self.writers[keep..]
                .iter()
                .copied()
                .chain(std::iter::once(writer))
                .collect(),
        }
    }

    /// Whether `write` produced one of the versions this state remembers.
    pub fn written_by(&self, write: WriteId) -> bool {
        self.writers.contains(&write)
    }
}

/// What an acceptor accepted for one key: the ballot and the state proposed under it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Vote {
    /// The ballot.
    pub ballot: Ballot,
    /// The proposed state.
    pub state: Versioned,
}

/// What an acceptor accepted in a range's seal round: the configuration proposed to follow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SealVote {
    /// The ballot.
    pub ballot: Ballot,
    /// The next configuration.
    pub next: Rc<Config>,
}

/// The votes of one range, handed from a configuration to the next one.
pub type Handover = Rc<[(Rc<str>, Vote)]>;

/// Why an acceptor would not promise or accept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Refusal {
    /// It promised a higher ballot of the same epoch: another proposer is at work.
    Promised(Ballot),
    /// The range moved on to this configuration: the proposal was made under an older epoch.
    Moved(Rc<Config>),
    /// It does not vote in that epoch: it has not recovered the range yet (a new replica, a
    /// restarted node), or it sealed the range for a handover.
    NotReady,
}

/// How a seat stands in an epoch of its range, as it tells the range's steward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Standing {
    /// It votes on the range's keys in that epoch.
    Voter,
    /// It accepted a seal in that epoch and stopped voting, waiting for the handover.
    Sealed,
    /// It holds no seat in that epoch (never installed, or moved on).
    Absent,
}

/// The client operation a proposal serves, for the replicas' log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpRef {
    /// The kind of operation.
    pub kind: OpKind,
    /// The coordinator's transaction id.
    pub txn: TxnId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_epoch_then_round_and_install_is_lowest_of_its_epoch() {
        let b = |epoch, round, node| Ballot {
            epoch,
            round,
            node: NodeId(node),
            incarnation: 0,
        };
        assert!(b(1, 1, 1) > b(0, 99, 9));
        assert!(b(0, 2, 1) > b(0, 1, 9));
        assert!(Ballot::install(1) < b(1, 1, 0));
        assert!(Ballot::install(1) > b(0, 99, 9));
        assert_eq!(Ballot::ZERO, Ballot::install(0));
    }

    #[test]
    fn a_state_remembers_its_latest_writers() {
        let w = |txn| WriteId {
            node: NodeId(1),
            incarnation: 0,
            txn,
        };
        let mut s = Versioned::default();
        for txn in 0..20 {
            s = s.next(Some("v".into()), w(txn));
        }
        assert_eq!(s.version, 20);
        assert_eq!(s.writers.len(), LINEAGE_WRITES);
        assert!(s.written_by(w(19)) && s.written_by(w(12)) && !s.written_by(w(11)));
    }

    #[test]
    fn seats_compare_as_sets_and_name_incarnations() {
        let r = |id, incarnation| Replica {
            id: NodeId(id),
            incarnation,
        };
        let c = Config {
            range: RangeId(0),
            epoch: 3,
            members: vec![r(1, 0), r(2, 0), r(3, 1)],
        };
        assert!(c.same_seats(&[r(3, 1), r(1, 0), r(2, 0)]));
        assert!(
            !c.same_seats(&[r(3, 0), r(1, 0), r(2, 0)]),
            "a restart is a new seat"
        );
        assert!(c.has_node(NodeId(3)) && !c.has(r(3, 0)));
    }
}
