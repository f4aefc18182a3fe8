//! What a node reports about itself: structured events for the trace, the logs and the checker.

use crate::agreement::{Ballot, RangeId};
use crate::client::{OpKind, TxnId};
use crate::ids::{Incarnation, NodeId};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// Which side of an operation a store observation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A replica applying a forwarded request.
    Server,
    /// The coordinator deciding the client's operation.
    Coordinator,
}

impl Role {
    /// The name the original log uses.
    pub fn name(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Coordinator => "coordinator",
        }
    }
}

/// A structured event a node reports about itself, for the trace, the logs and the checker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Observation {
    /// The member entered this node's view (the node itself included, at start).
    MemberAdded {
        /// The member.
        member: NodeId,
    },
    /// The member left this node's view.
    MemberRemoved {
        /// The member.
        member: NodeId,
    },
    /// The member's heartbeat is overdue; it is no longer gossiped.
    MemberSuspected {
        /// The member.
        member: NodeId,
    },
    /// A suspected member's heartbeat advanced again: the suspicion was wrong.
    SuspicionRefuted {
        /// The member.
        member: NodeId,
    },
    /// The member restarted: its incarnation in this node's view went up.
    MemberRejoined {
        /// The member.
        member: NodeId,
        /// Its new incarnation.
        incarnation: Incarnation,
    },
    /// A replica or coordinator succeeded or failed at an operation (the original log's lines).
    StoreOp {
        /// Replica or coordinator.
        role: Role,
        /// The operation.
        kind: OpKind,
        /// The transaction id.
        txn: TxnId,
        /// The key.
        key: Rc<str>,
        /// The value the log line shows (written value, or value read), if any.
        value: Option<Rc<str>>,
        /// Success or failure.
        success: bool,
    },
    /// This replica's copy of a key changed (`None`: removed), by a client write or stabilization.
    ReplicaStored {
        /// The key.
        key: Rc<str>,
        /// The new value.
        value: Option<Rc<str>>,
    },
    /// A replica passed a write on to a replica the coordinator's ring did not name.
    WriteForwarded {
        /// The key.
        key: Rc<str>,
        /// The replica it went to.
        to: NodeId,
        /// The coordinator of the write passed on.
        coordinator: NodeId,
        /// The coordinator's transaction id of the write passed on.
        txn: TxnId,
    },
    /// `classic`: a coordinator sent a client write (create, update or delete) to these nodes.
    /// The checker's `write-placement` compares them with the replicas its view names.
    WriteRouted {
        /// The key.
        key: Rc<str>,
        /// The nodes the request went to.
        to: Rc<[NodeId]>,
        /// The transaction id the request carries.
        txn: TxnId,
    },
    /// Stabilization sent a key to a node that the new ring names as a replica.
    HandedOver {
        /// The key.
        key: Rc<str>,
        /// The new replica.
        to: NodeId,
    },
    /// `versioned`: a proposer was refused because another proposer holds a higher ballot for
    /// the key; it backs off for a random time before it tries again.
    BallotConflict {
        /// The key.
        key: Rc<str>,
    },
    /// `versioned`: a decided round found replicas that disagreed and sent the chosen state to
    /// the ones behind (a read repair, or anti-entropy after a steward's sync). The checker's
    /// `agreement` asks that what it sent was chosen: decided, or voted by a majority of `seats`.
    ReadRepair {
        /// The key.
        key: Rc<str>,
        /// The ballot of the state sent.
        ballot: Ballot,
        /// The nodes of the configuration the repair counted holders in.
        seats: Rc<[NodeId]>,
    },
    /// `versioned`: an acceptor refused a proposal made under an older epoch of the range and
    /// sent the proposer the newer configuration.
    EpochRefused {
        /// The range.
        range: RangeId,
        /// The epoch of the refused proposal.
        epoch: u64,
    },
    /// `versioned`: an acceptor refused to vote because it has not recovered the range in that
    /// epoch (a new replica before its handover, or a restarted node).
    NotRecovered {
        /// The range.
        range: RangeId,
        /// The epoch it was asked to vote in.
        epoch: u64,
    },
    /// `versioned`: this node became a voter of the range: it installed the range's votes in a
    /// new epoch (a handover, or a new or restarted replica catching up).
    RangeRecovered {
        /// The range.
        range: RangeId,
        /// The epoch.
        epoch: u64,
    },
    /// `versioned`: a handover completed: a quorum of the range's new replica set installed it.
    HandoverDone {
        /// The range.
        range: RangeId,
        /// The new epoch.
        epoch: u64,
    },
    /// `versioned`: this seat accepted a key proposal, or installed a handed-over vote on it: its
    /// vote on the key is now the proposed state at `ballot`. The checker's `agreement` counts
    /// these votes behind every decision.
    Voted {
        /// The key.
        key: Rc<str>,
        /// The proposal's ballot.
        ballot: Ballot,
    },
    /// `versioned`: a proposer took its key proposal as chosen and sent the commit to the
    /// seats that had not accepted it.
    Decided {
        /// The key.
        key: Rc<str>,
        /// The proposal's ballot.
        ballot: Ballot,
        /// The nodes of the round's configuration, whose majority must have voted.
        seats: Rc<[NodeId]>,
    },
}

impl Observation {
    /// A stable short name of the kind of observation, for coverage counts in fuzz summaries.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Observation::MemberAdded { .. } => "member-added",
            Observation::MemberRemoved { .. } => "member-removed",
            Observation::MemberSuspected { .. } => "member-suspected",
            Observation::SuspicionRefuted { .. } => "suspicion-refuted",
            Observation::MemberRejoined { .. } => "member-rejoined",
            Observation::StoreOp { .. } => "store-op",
            Observation::ReplicaStored { .. } => "replica-stored",
            Observation::HandedOver { .. } => "handed-over",
            Observation::WriteForwarded { .. } => "write-forwarded",
            Observation::WriteRouted { .. } => "write-routed",
            Observation::BallotConflict { .. } => "ballot-conflict",
            Observation::ReadRepair { .. } => "read-repair",
            Observation::EpochRefused { .. } => "epoch-refused",
            Observation::NotRecovered { .. } => "not-recovered",
            Observation::RangeRecovered { .. } => "range-recovered",
            Observation::HandoverDone { .. } => "handover-done",
            Observation::Voted { .. } => "voted",
            Observation::Decided { .. } => "decided",
        }
    }
}
