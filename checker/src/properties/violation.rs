//! A violation as data: the class of failure (which names its property), the key, operations
//! and nodes it is about, and the facts for a person. The signature is rendered from the class,
//! so code that groups or narrows violations reads the class, never a string.

use super::Property;
use crate::record::{DrawnFault, KvInput, NodeId, Operation};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a client operation, as violations name it. (Like `node`'s `OpKind` on
/// purpose: the checker does not depend on `node`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    /// A create.
    Create,
    /// A read.
    Read,
    /// An update.
    Update,
    /// A delete.
    Delete,
}

impl OpKind {
    /// The kind of `input`.
    pub fn of(input: &KvInput) -> OpKind {
        match input {
            KvInput::Create { .. } => OpKind::Create,
            KvInput::Read { .. } => OpKind::Read,
            KvInput::Update { .. } => OpKind::Update,
            KvInput::Delete { .. } => OpKind::Delete,
        }
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Read => "read",
            OpKind::Update => "update",
            OpKind::Delete => "delete",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an operation after convergence was not answered for a semantic reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unavailable {
    /// The coordinator's timeout passed.
    Timeout,
    /// Too few agreeing replicas answered.
    NoQuorum,
}

impl Unavailable {
    /// The name replies use.
    pub fn name(self) -> &'static str {
        match self {
            Unavailable::Timeout => "timeout",
            Unavailable::NoQuorum => "no-quorum",
        }
    }
}

/// How a key's copies at the end of a run break `stabilization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Misplacement {
    /// A key the history left present is held by no live node.
    HeldByNoLiveNode,
    /// A replica does not hold a live key.
    MissingOnReplica,
    /// A replica holds another state than the newest.
    StaleReplica,
    /// A node outside the key's replicas holds a value for it (placement).
    CopyOutsideReplicas,
    /// A node holds a state no operation of the history wrote: a value no create or update
    /// wrote, or a tombstone of a key never deleted (placement: no such copy may be anywhere).
    PhantomState,
}

impl Misplacement {
    /// Whether this is a placement failure (a copy where none may be) rather than a failure of
    /// the replicas to agree on the newest state: what [`StabilizationScope::Placement`] keeps.
    pub fn is_placement(self) -> bool {
        matches!(
            self,
            Misplacement::CopyOutsideReplicas | Misplacement::PhantomState
        )
    }

    fn text(self) -> &'static str {
        match self {
            Misplacement::HeldByNoLiveNode => "live key held by no live node",
            Misplacement::MissingOnReplica => "live key missing on a replica",
            Misplacement::StaleReplica => "replica holds a stale state",
            Misplacement::CopyOutsideReplicas => "copy on a node that is not a replica",
            Misplacement::PhantomState => "copy of a state no operation wrote",
        }
    }
}

/// How much `stabilization` asks of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StabilizationScope {
    /// Placement only: no node outside a key's replicas holds a value for it. For stores that
    /// cannot reconcile fresh replicas (classic with restarts or late joiners).
    Placement,
    /// Placement, and no replica rolled back: every live key is held by exactly its replicas,
    /// each with a state that some write which may have been the key's last one wrote (an
    /// acknowledged write no acknowledged write was invoked after, or a write of unknown
    /// outcome). For stores that cannot reconcile a replica made fresh by a crash's ring change
    /// (classic: a new replica may take a create the old ones refuse), yet must never bring back
    /// a state that a later acknowledged write superseded.
    NoRollback,
    /// Placement and value agreement: every live key is held by exactly its replicas, all with
    /// its newest state.
    #[default]
    PlacementAndAgreement,
}

/// The kind of failure a violation shows: its property and the stable part of its signature
/// (no ids, keys or ticks), so seeds with equal classes show the same bug.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// `quorum`: an ok operation decided with no replica set in its coordinator's view.
    NoReplicaSet(OpKind),
    /// `quorum`: an ok operation acknowledged by fewer than a quorum of replicas.
    UnderQuorum(OpKind),
    /// `bounded-response`: answered after its timeout plus the slack.
    AnsweredLate(OpKind),
    /// `bounded-response`: never answered by a coordinator that stayed up.
    NeverAnswered(OpKind),
    /// `availability`: refused for a non-semantic reason after convergence.
    Refused(OpKind, Unavailable),
    /// `stabilization`.
    Stabilization(Misplacement),
    /// `durability`: a deleted key came back.
    DeletedKeyCameBack,
    /// `durability`: an acknowledged write was lost.
    WriteLost,
    /// `membership-completeness`: a crashed node stayed in a live node's view.
    CrashedStillInView,
    /// `membership-completeness`: a crashed node came back into a live node's view.
    CrashedAddedBack,
    /// `membership-accuracy`: a live node was removed on a clean network.
    LiveNodeRemoved,
    /// `convergence`: a final view misses a live node.
    ViewMissesLiveNode,
    /// `convergence`: a final view keeps a node that is down.
    ViewKeepsDownNode,
    /// `linearizable`: no order of the witness's operations, named by kind and outcome class
    /// (sorted, e.g. `read ok`).
    NoOrder(Vec<String>),
    /// `progress`: the run did not converge by its tick cap.
    NotConverged,
    /// `agreement`: a proposer decided a key proposal before a majority of its seats voted
    /// for it at its ballot.
    DecidedWithoutQuorum,
    /// `agreement`: a proposer answered its decided operation unknown (no quorum) before every
    /// seat of the round voted.
    UnknownBeforeEveryVote,
    /// `agreement`: a node sent seats a key state as chosen (a read repair or an anti-entropy
    /// commit) that no proposer had decided and no majority of its seats had voted for.
    RepairedUnchosen,
    /// `write-placement`: a coordinator did not send a write to a replica its view names.
    WriteMissedReplica,
    /// `provenance`: a replica reported a copy gone that it never held, of a key nobody deleted.
    UnheldCopyDropped,
    /// `faults-realized`: the link model asked for this fault often enough and it never happened.
    FaultNeverRealized(DrawnFault),
    /// `fault-tolerance`: refused for a non-semantic reason with at most one replica down.
    NotTolerated(OpKind, Unavailable),
    /// `no-panic`: the run stopped at a panic with this message.
    Panicked(String),
    /// `rejoin`: a restarted node did not ask another seed node to let it back in.
    RestartWithoutJoinRequest,
    /// `logged-quorum`: a coordinator logged a success fewer than a quorum of replicas logged.
    SuccessNotVouched,
    /// `write-forwarding`: a replica passed on a request no write was routed under.
    ForwardedNoWrite,
    /// `write-forwarding`: a replica passed a write on to a replica its coordinator sent it to.
    ForwardedToAskedReplica,
    /// `gossip-fanout`: a node gossiped to more members of its view in one tick than its
    /// fanout.
    GossipBeyondFanout,
    /// `gossip-fanout`: a node gossiped to more than one node outside its view in one tick.
    ProbedBeyondOne,
    /// `sweep-cadence`: a steward synced a range off its sweep ticks, with no reason to.
    SyncOffCadence,
    /// `query-budget`: a node queried a range in more sweeps of a settled window than it needs.
    QueriedBeyondBudget,
    /// `quorum-refusal`: a coordinator refused at once although its view named a quorum of the
    /// key's replicas.
    RefusedWithQuorum,
    /// `quorum-refusal`: a coordinator took an operation its view named too few replicas for.
    TookOpWithoutQuorum,
    /// `reported-copies`: a node's final copy of a key is not what its last report said.
    CopyUnreported,
    /// `handover-reported`: a hand-over's written keys and its sender's reports of them differ.
    HandoverUnreported,
    /// `resend-pacing`: a proposer sent a phase message to a node again within a tick.
    ResentTooSoon,
    /// `sync-listing`: a seat listed a key whose vote the digest it answered already shows.
    ListedUnchanged,
    /// `recovery-reports`: a node reported an epoch it had installed as not recovered.
    RecoveredReportedMissing,
}

impl Class {
    /// The property this class of failure violates.
    pub fn property(&self) -> Property {
        match self {
            Class::NoReplicaSet(_) | Class::UnderQuorum(_) => Property::Quorum,
            Class::AnsweredLate(_) | Class::NeverAnswered(_) => Property::BoundedResponse,
            Class::Refused(..) => Property::Availability,
            Class::Stabilization(_) => Property::Stabilization,
            Class::DeletedKeyCameBack | Class::WriteLost => Property::Durability,
            Class::CrashedStillInView | Class::CrashedAddedBack => Property::MembershipCompleteness,
            Class::LiveNodeRemoved => Property::MembershipAccuracy,
            Class::ViewMissesLiveNode | Class::ViewKeepsDownNode => Property::Convergence,
            Class::NoOrder(_) => Property::Linearizable,
            Class::NotConverged => Property::Progress,
            Class::DecidedWithoutQuorum
            | Class::UnknownBeforeEveryVote
            | Class::RepairedUnchosen => Property::Agreement,
            Class::WriteMissedReplica => Property::WritePlacement,
            Class::UnheldCopyDropped => Property::Provenance,
            Class::FaultNeverRealized(_) => Property::FaultsRealized,
            Class::NotTolerated(..) => Property::FaultTolerance,
            Class::Panicked(_) => Property::NoPanic,
            Class::RestartWithoutJoinRequest => Property::Rejoin,
            Class::SuccessNotVouched => Property::LoggedQuorum,
            Class::ForwardedNoWrite | Class::ForwardedToAskedReplica => Property::WriteForwarding,
            Class::GossipBeyondFanout | Class::ProbedBeyondOne => Property::GossipFanout,
            Class::SyncOffCadence => Property::SweepCadence,
            Class::QueriedBeyondBudget => Property::QueryBudget,
            Class::RefusedWithQuorum | Class::TookOpWithoutQuorum => Property::QuorumRefusal,
            Class::CopyUnreported => Property::ReportedCopies,
            Class::HandoverUnreported => Property::HandoverReported,
            Class::ResentTooSoon => Property::ResendPacing,
            Class::ListedUnchanged => Property::SyncListing,
            Class::RecoveredReportedMissing => Property::RecoveryReports,
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Class::NoReplicaSet(kind) => {
                write!(
                    f,
                    "ok {kind} decided with no replica set in the coordinator's view"
                )
            }
            Class::UnderQuorum(kind) => {
                write!(
                    f,
                    "ok {kind} acknowledged by fewer than a quorum of replicas"
                )
            }
            Class::AnsweredLate(kind) => write!(f, "{kind} answered after the timeout"),
            Class::NeverAnswered(kind) => write!(f, "{kind} never answered"),
            Class::Refused(kind, why) => {
                write!(f, "{kind} refused with {} after convergence", why.name())
            }
            Class::Stabilization(how) => f.write_str(how.text()),
            Class::DeletedKeyCameBack => f.write_str("deleted key came back"),
            Class::WriteLost => f.write_str("acknowledged write lost"),
            Class::CrashedStillInView => f.write_str("crashed node still in a live node's view"),
            Class::CrashedAddedBack => f.write_str("crashed node added back to a live node's view"),
            Class::LiveNodeRemoved => f.write_str("live node removed on a clean network"),
            Class::ViewMissesLiveNode => f.write_str("view misses a live node"),
            Class::ViewKeepsDownNode => f.write_str("view keeps a node that is down"),
            Class::NoOrder(shape) => write!(f, "no order of {}", shape.join(", ")),
            Class::NotConverged => f.write_str("not converged by the tick cap"),
            Class::DecidedWithoutQuorum => {
                f.write_str("key proposal decided without a quorum of votes at its ballot")
            }
            Class::UnknownBeforeEveryVote => {
                f.write_str("decided operation answered unknown before every seat voted")
            }
            Class::RepairedUnchosen => f.write_str("state sent to seats as chosen that was not"),
            Class::WriteMissedReplica => {
                f.write_str("write not sent to a replica its coordinator's view names")
            }
            Class::UnheldCopyDropped => {
                f.write_str("replica reported a copy gone it never held and nobody deleted")
            }
            Class::NotTolerated(kind, why) => {
                write!(
                    f,
                    "{kind} refused with {} with at most one replica down",
                    why.name()
                )
            }
            Class::SuccessNotVouched => {
                f.write_str("coordinator logged a success fewer than a quorum of replicas logged")
            }
            Class::ForwardedNoWrite => {
                f.write_str("request passed on that no write was routed under")
            }
            Class::ForwardedToAskedReplica => {
                f.write_str("write passed on to a replica its coordinator sent it to")
            }
            Class::FaultNeverRealized(fault) => {
                write!(f, "{} asked for but never realized", fault.name())
            }
            Class::Panicked(message) => write!(f, "panicked: {message}"),
            Class::RestartWithoutJoinRequest => {
                f.write_str("restarted node did not ask a seed node to join")
            }
            Class::GossipBeyondFanout => f.write_str("node gossiped beyond its fanout in a tick"),
            Class::ProbedBeyondOne => {
                f.write_str("node gossiped to more than one node outside its view in a tick")
            }
            Class::SyncOffCadence => f.write_str("steward synced a range off its sweep ticks"),
            Class::QueriedBeyondBudget => {
                f.write_str("node queried a range beyond its budget while settled")
            }
            Class::RefusedWithQuorum => {
                f.write_str("coordinator refused at once with a quorum of replicas in its view")
            }
            Class::TookOpWithoutQuorum => {
                f.write_str("coordinator took an operation its view has too few replicas for")
            }
            Class::CopyUnreported => f.write_str("node holds a copy its reports do not say"),
            Class::HandoverUnreported => f.write_str("hand-over and its sender's report differ"),
            Class::ResentTooSoon => f.write_str("phase message resent within a tick"),
            Class::ListedUnchanged => f.write_str("seat listed a key its vote on agrees with"),
            Class::RecoveredReportedMissing => {
                f.write_str("node reported an epoch it had installed as not recovered")
            }
        }
    }
}

/// One violation of a property, with its evidence as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The kind of failure (and with it, the property).
    pub class: Class,
    /// The key it is about, if it is about one.
    pub key: Option<String>,
    /// The operations it is about, by id (for `linearizable`: the witness's, in its order).
    pub ops: Vec<u64>,
    /// The nodes it is about (the crashed node and its observer, a node whose view differs).
    pub nodes: Vec<NodeId>,
    /// One line with the facts that prove it (operations, nodes, keys, ticks), for a person.
    pub message: String,
    /// Longer evidence, such as a witness timeline; may be empty.
    pub evidence: String,
}

impl Violation {
    /// A violation of `class` with its one-line facts and nothing else yet.
    pub(super) fn new(class: Class, message: String) -> Violation {
        Violation {
            class,
            key: None,
            ops: Vec::new(),
            nodes: Vec::new(),
            message,
            evidence: String::new(),
        }
    }

    /// A violation by one client operation: about its key, itself and its coordinator.
    pub(super) fn by_op(class: Class, op: &Operation, message: String) -> Violation {
        Violation::new(class, message)
            .on_key(op.input.key())
            .with_ops([op.id])
            .with_nodes([op.coordinator])
    }

    /// The same, about `key`.
    pub(super) fn on_key(mut self, key: &str) -> Violation {
        self.key = Some(key.to_string());
        self
    }

    /// The same, about operations `ops`.
    pub(super) fn with_ops(mut self, ops: impl IntoIterator<Item = u64>) -> Violation {
        self.ops = ops.into_iter().collect();
        self
    }

    /// The same, about nodes `nodes`.
    pub(super) fn with_nodes(mut self, nodes: impl IntoIterator<Item = NodeId>) -> Violation {
        self.nodes = nodes.into_iter().collect();
        self
    }

    /// The property violated.
    pub fn property(&self) -> Property {
        self.class.property()
    }

    /// The property and the kind of failure, stable across runs: seeds with equal signatures
    /// show the same bug (`stabilization: replica holds a stale state`).
    pub fn signature(&self) -> String {
        format!("{}: {}", self.property(), self.class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_render_the_class_under_its_property() {
        let cases = [
            (
                Class::Refused(OpKind::Read, Unavailable::NoQuorum),
                "availability: read refused with no-quorum after convergence",
            ),
            (
                Class::Stabilization(Misplacement::CopyOutsideReplicas),
                "stabilization: copy on a node that is not a replica",
            ),
            (
                Class::NoOrder(vec!["create ok".into(), "read ok".into()]),
                "linearizable: no order of create ok, read ok",
            ),
            (
                Class::CrashedStillInView,
                "membership-completeness: crashed node still in a live node's view",
            ),
        ];
        for (class, signature) in cases {
            assert_eq!(Violation::new(class, String::new()).signature(), signature);
        }
    }

    #[test]
    fn only_copies_where_none_may_be_are_placement() {
        let placement: Vec<Misplacement> = [
            Misplacement::HeldByNoLiveNode,
            Misplacement::MissingOnReplica,
            Misplacement::StaleReplica,
            Misplacement::CopyOutsideReplicas,
            Misplacement::PhantomState,
        ]
        .into_iter()
        .filter(|m| m.is_placement())
        .collect();
        assert_eq!(
            placement,
            [
                Misplacement::CopyOutsideReplicas,
                Misplacement::PhantomState
            ]
        );
    }
}
