//! What nodes say to each other, what clients ask, and what a node reports about itself.

use crate::agreement::{
    Ballot, Config, Handover, OpRef, RangeId, Refusal, SealVote, Standing, Versioned, Vote,
};
use crate::ids::{Incarnation, NodeId, OpId};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// One entry of a heartbeat table as it travels in gossip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest {
    /// The member.
    pub id: NodeId,
    /// Its incarnation (bumped at every restart).
    pub incarnation: Incarnation,
    /// Its heartbeat counter within that incarnation.
    pub heartbeat: u64,
}

/// Bytes one digest takes on the wire (id 1, incarnation 4, heartbeat 8).
const DIGEST_WIRE_BYTES: usize = 13;
/// Bytes of a message header on the wire (type tag and lengths).
const HEADER_WIRE_BYTES: usize = 8;
/// Bytes of a ballot on the wire (epoch 8, round 8, node 1, incarnation 4).
const BALLOT_WIRE_BYTES: usize = 21;
/// Bytes of a range id on the wire.
const RANGE_WIRE_BYTES: usize = 2;
/// Bytes of one replica seat on the wire (node 1, incarnation 4).
const REPLICA_WIRE_BYTES: usize = 5;

/// A client request, and the same request as a coordinator forwards it to a replica.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Request {
    /// Create the key with the value; refused if the key exists.
    Create {
        /// The key.
        key: Rc<str>,
        /// The value.
        value: Rc<str>,
    },
    /// Read the key.
    Read {
        /// The key.
        key: Rc<str>,
    },
    /// Update the key to the value; refused if the key is missing.
    Update {
        /// The key.
        key: Rc<str>,
        /// The value.
        value: Rc<str>,
    },
    /// Delete the key; refused if the key is missing.
    Delete {
        /// The key.
        key: Rc<str>,
    },
}

/// The four operation kinds, for logs and observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OpKind {
    /// Create.
    Create,
    /// Read.
    Read,
    /// Update.
    Update,
    /// Delete.
    Delete,
}

impl OpKind {
    /// The lower-case name the original log uses.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Read => "read",
            OpKind::Update => "update",
            OpKind::Delete => "delete",
        }
    }
}

impl Request {
    /// The key the request touches.
    pub fn key(&self) -> &Rc<str> {
        match self {
            Request::Create { key, .. }
            | Request::Read { key }
            | Request::Update { key, .. }
            | Request::Delete { key } => key,
        }
    }

    /// The value written, for create and update.
    pub fn value(&self) -> Option<&Rc<str>> {
        match self {
            Request::Create { value, .. } | Request::Update { value, .. } => Some(value),
            Request::Read { .. } | Request::Delete { .. } => None,
        }
    }

    /// Which kind of operation this is.
    pub fn kind(&self) -> OpKind {
        match self {
            Request::Create { .. } => OpKind::Create,
            Request::Read { .. } => OpKind::Read,
            Request::Update { .. } => OpKind::Update,
            Request::Delete { .. } => OpKind::Delete,
        }
    }
}

/// Why a replica or a coordinator answered as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reason {
    /// Success.
    Ok,
    /// Create of an existing key.
    Exists,
    /// Read, update or delete of a missing key.
    NotFound,
    /// Not enough agreeing replies (or fewer replicas than a quorum).
    NoQuorum,
    /// The coordinator's timeout passed first.
    Timeout,
}

/// A transaction id, fresh per coordinated operation on one coordinator.
pub type TxnId = u32;

/// A message between nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Message {
    /// A node asks to join (or rejoin) the group.
    JoinRequest {
        /// The joiner's own entry.
        member: Digest,
    },
    /// The answer to a join: the answering node's heartbeat table.
    JoinReply {
        /// Every member the answering node does not suspect, itself included.
        members: Rc<[Digest]>,
    },
    /// Periodic heartbeat gossip.
    Gossip {
        /// Every member the sender does not suspect, itself included.
        members: Rc<[Digest]>,
    },
    /// A coordinator forwards a client request to a replica.
    KvRequest {
        /// The coordinator's transaction id.
        txn: TxnId,
        /// The request.
        request: Request,
        /// The replicas the coordinator sent it to (its ring's view of the key).
        targets: Rc<[NodeId]>,
    },
    /// A replica answers a coordinator.
    KvReply {
        /// The transaction id of the request.
        txn: TxnId,
        /// Whether the replica applied (or, for a read, found) it.
        success: bool,
        /// Why.
        reason: Reason,
        /// For a read that found the key: its value.
        value: Option<Rc<str>>,
    },
    /// A replica passes a write it applied on to a replica its own ring names but the
    /// coordinator's did not (the rings differed while views changed): set the key's state.
    Forward {
        /// The key.
        key: Rc<str>,
        /// The new value; `None`: the key was deleted.
        value: Option<Rc<str>>,
    },
    /// Stabilization: store this key if you do not hold it (never logged as a client operation).
    Replicate {
        /// The key.
        key: Rc<str>,
        /// Its value.
        value: Rc<str>,
    },
    /// `versioned`, phase 1: promise not to accept lower ballots for the key, and say what you
    /// accepted.
    Prepare {
        /// The key.
        key: Rc<str>,
        /// The proposer's ballot (its epoch names the range configuration it uses).
        ballot: Ballot,
    },
    /// `versioned`: the answer to [`Message::Prepare`].
    Promise {
        /// The key.
        key: Rc<str>,
        /// The ballot promised.
        ballot: Ballot,
        /// What the acceptor accepted last in that epoch, if anything.
        vote: Option<Vote>,
    },
    /// `versioned`, phase 2: accept this state under the ballot.
    Accept {
        /// The key.
        key: Rc<str>,
        /// The ballot.
        ballot: Ballot,
        /// The proposed state, computed from the newest state phase 1 found.
        state: Versioned,
        /// The client operation it serves (for the replica's log line); `None` for repair.
        op: Option<OpRef>,
    },
    /// `versioned`: the acceptor accepted the state proposed under the ballot.
    Accepted {
        /// The key.
        key: Rc<str>,
        /// The ballot.
        ballot: Ballot,
    },
    /// `versioned`: the acceptor would not promise or accept for the key.
    Refuse {
        /// The key.
        key: Rc<str>,
        /// The ballot refused.
        ballot: Ballot,
        /// Why.
        why: Refusal,
    },
    /// `versioned`: this state was chosen for the key (a quorum accepted it); replicas behind it
    /// adopt it (read repair, anti-entropy).
    Commit {
        /// The key.
        key: Rc<str>,
        /// The chosen ballot and state.
        vote: Vote,
    },
    /// `versioned`, handover phase 1: promise not to accept lower seal ballots for the range.
    SealPrepare {
        /// The range.
        range: RangeId,
        /// The ballot (in the epoch being sealed).
        ballot: Ballot,
    },
    /// `versioned`: the answer to [`Message::SealPrepare`].
    SealPromise {
        /// The range.
        range: RangeId,
        /// The ballot promised.
        ballot: Ballot,
        /// The next configuration the acceptor accepted, if any.
        vote: Option<SealVote>,
    },
    /// `versioned`, handover phase 2: accept `next` as the range's next configuration, and stop
    /// voting on the range's keys in this epoch.
    SealAccept {
        /// The range.
        range: RangeId,
        /// The ballot.
        ballot: Ballot,
        /// The next configuration (one epoch later).
        next: Rc<Config>,
    },
    /// `versioned`: the acceptor accepted the seal and froze the range; these are its votes.
    SealAccepted {
        /// The range.
        range: RangeId,
        /// The ballot.
        ballot: Ballot,
        /// Every key vote it holds for the range, as of freezing.
        votes: Handover,
    },
    /// `versioned`: the acceptor would not promise or accept the seal.
    SealRefuse {
        /// The range.
        range: RangeId,
        /// The ballot refused.
        ballot: Ballot,
        /// Why.
        why: Refusal,
    },
    /// `versioned`: become a voter of the range in `config`, starting from these votes (the
    /// newest votes of a frozen quorum of the previous configuration, or a copy of a voter's).
    Install {
        /// The configuration the receiver is a member of.
        config: Rc<Config>,
        /// The range's key votes.
        votes: Handover,
        /// Whether the sender knows a quorum of `config` installed it.
        established: bool,
    },
    /// `versioned`: the sender is a voter of the range in this epoch.
    Installed {
        /// The range.
        range: RangeId,
        /// The epoch.
        epoch: u64,
    },
    /// `versioned`: a quorum of `config` installed the range, so the handover is complete:
    /// members may vouch for it, and nodes outside it drop the range.
    Established {
        /// The configuration.
        config: Rc<Config>,
    },
    /// `versioned`, anti-entropy: the range steward's ballot for every key it holds.
    Sync {
        /// The range.
        range: RangeId,
        /// The steward's epoch.
        epoch: u64,
        /// Each key with the ballot of the steward's vote (`None`: promised, nothing accepted).
        digest: Rc<[(Rc<str>, Option<Ballot>)]>,
    },
    /// `versioned`: the answer to [`Message::Sync`].
    SyncReply {
        /// The range.
        range: RangeId,
        /// The epoch the steward asked about.
        epoch: u64,
        /// How the sender stands in that epoch.
        standing: Standing,
        /// Keys whose votes differ from the digest, with the sender's vote on each.
        stale: Rc<[(Rc<str>, Option<Vote>)]>,
    },
    /// `versioned`: a node that should recover the range, or that holds it and must learn
    /// whether it may drop it, asks the nodes its ring names.
    Query {
        /// The range.
        range: RangeId,
    },
}

impl Message {
    /// The size of the message on the original wire format, for EmulNet's 4000-byte limit.
    pub fn wire_bytes(&self) -> usize {
        HEADER_WIRE_BYTES
            + match self {
                Message::JoinRequest { .. } => DIGEST_WIRE_BYTES,
                Message::JoinReply { members } | Message::Gossip { members } => {
                    members.len() * DIGEST_WIRE_BYTES
                }
                Message::KvRequest { request, .. } => {
                    4 + 1 + request.key().len() + request.value().map_or(0, |v| v.len())
                }
                Message::KvReply { value, .. } => 4 + 2 + value.as_ref().map_or(0, |v| v.len()),
                Message::Replicate { key, value } => key.len() + value.len(),
                Message::Prepare { key, .. } | Message::Accepted { key, .. } => {
                    key.len() + BALLOT_WIRE_BYTES
                }
                Message::Promise { key, vote, .. } => {
                    key.len() + BALLOT_WIRE_BYTES + 1 + vote.as_ref().map_or(0, vote_wire_bytes)
                }
                Message::Accept { key, state, .. } => {
                    key.len() + BALLOT_WIRE_BYTES + state_wire_bytes(state) + 6
                }
                Message::Refuse { key, why, .. } => {
                    key.len() + BALLOT_WIRE_BYTES + refusal_wire_bytes(why)
                }
                Message::Commit { key, vote } => key.len() + vote_wire_bytes(vote),
                Message::SealPrepare { .. } => RANGE_WIRE_BYTES + BALLOT_WIRE_BYTES,
                Message::SealPromise { vote, .. } => {
                    RANGE_WIRE_BYTES
                        + BALLOT_WIRE_BYTES
                        + 1
                        + vote
                            .as_ref()
                            .map_or(0, |v| BALLOT_WIRE_BYTES + config_wire_bytes(&v.next))
                }
                Message::SealAccept { next, .. } => {
                    RANGE_WIRE_BYTES + BALLOT_WIRE_BYTES + config_wire_bytes(next)
                }
                Message::SealAccepted { votes, .. } => {
                    RANGE_WIRE_BYTES + BALLOT_WIRE_BYTES + handover_wire_bytes(votes)
                }
                Message::SealRefuse { why, .. } => {
                    RANGE_WIRE_BYTES + BALLOT_WIRE_BYTES + refusal_wire_bytes(why)
                }
                Message::Install { config, votes, .. } => {
                    config_wire_bytes(config) + handover_wire_bytes(votes) + 1
                }
                Message::Installed { .. } => RANGE_WIRE_BYTES + 8,
                Message::Established { config } => config_wire_bytes(config),
                Message::Sync { digest, .. } => {
                    RANGE_WIRE_BYTES
                        + 8
                        + digest
                            .iter()
                            .map(|(k, _)| k.len() + 1 + BALLOT_WIRE_BYTES)
                            .sum::<usize>()
                }
                Message::SyncReply { stale, .. } => {
                    RANGE_WIRE_BYTES
                        + 9
                        + stale
                            .iter()
                            .map(|(k, v)| k.len() + 1 + v.as_ref().map_or(0, vote_wire_bytes))
                            .sum::<usize>()
                }
                Message::Query { .. } => RANGE_WIRE_BYTES,
                Message::Forward { key, value } => {
                    key.len() + 1 + value.as_ref().map_or(0, |v| v.len())
                }
            }
    }

    /// A short name of the message type, for traces.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::JoinRequest { .. } => "join-req",
            Message::JoinReply { .. } => "join-reply",
            Message::Gossip { .. } => "gossip",
            Message::KvRequest { .. } => "kv-req",
            Message::KvReply { .. } => "kv-reply",
            Message::Replicate { .. } => "replicate",
            Message::Prepare { .. } => "prepare",
            Message::Promise { .. } => "promise",
            Message::Accept { .. } => "accept",
            Message::Accepted { .. } => "accepted",
            Message::Refuse { .. } => "refuse",
            Message::Commit { .. } => "commit",
            Message::SealPrepare { .. } => "seal-prepare",
            Message::SealPromise { .. } => "seal-promise",
            Message::SealAccept { .. } => "seal-accept",
            Message::SealAccepted { .. } => "seal-accepted",
            Message::SealRefuse { .. } => "seal-refuse",
            Message::Install { .. } => "install",
            Message::Installed { .. } => "installed",
            Message::Established { .. } => "established",
            Message::Sync { .. } => "sync",
            Message::SyncReply { .. } => "sync-reply",
            Message::Query { .. } => "query",
            Message::Forward { .. } => "forward",
        }
    }
}

fn state_wire_bytes(state: &Versioned) -> usize {
    // value length and bytes, version, writers (count; node, incarnation, txn each)
    2 + state.value.as_ref().map_or(0, |v| v.len()) + 8 + 1 + 9 * state.writers.len()
}

fn vote_wire_bytes(vote: &Vote) -> usize {
    BALLOT_WIRE_BYTES + state_wire_bytes(&vote.state)
}

fn config_wire_bytes(config: &Config) -> usize {
    RANGE_WIRE_BYTES + 8 + 1 + config.members.len() * REPLICA_WIRE_BYTES
}

fn refusal_wire_bytes(why: &Refusal) -> usize {
    1 + match why {
        Refusal::Promised(_) => BALLOT_WIRE_BYTES,
        Refusal::Moved(config) => config_wire_bytes(config),
        Refusal::NotReady => 0,
    }
}

fn handover_wire_bytes(votes: &Handover) -> usize {
    2 + votes
        .iter()
        .map(|(k, v)| 1 + k.len() + vote_wire_bytes(v))
        .sum::<usize>()
}

/// One replica's positive reply that a coordinator counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ack {
    /// The replica.
    pub from: NodeId,
    /// For a read: the value it returned.
    pub value: Option<Rc<str>>,
}

/// The coordinator's answer to a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientReply {
    /// The operation answered.
    pub op: OpId,
    /// Whether the operation succeeded.
    pub success: bool,
    /// For a failure: whether the coordinator knows the operation had no effect (a definite
    /// rejection, such as a create refused by agreement on an existing key). Classic failures are
    /// never definite: a failed classic write may still have reached one replica.
    pub rejected: bool,
    /// Why it answered so.
    pub reason: Reason,
    /// For a successful read: the value read.
    pub value: Option<Rc<str>>,
    /// The positive replies it counted (the evidence for `quorum`).
    pub acks: Vec<Ack>,
}

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
    /// the ones behind (a read repair, or anti-entropy after a steward's sync).
    ReadRepair {
        /// The key.
        key: Rc<str>,
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
            Observation::BallotConflict { .. } => "ballot-conflict",
            Observation::ReadRepair { .. } => "read-repair",
            Observation::EpochRefused { .. } => "epoch-refused",
            Observation::NotRecovered { .. } => "not-recovered",
            Observation::RangeRecovered { .. } => "range-recovered",
            Observation::HandoverDone { .. } => "handover-done",
        }
    }
}

/// What a step produced. The caller owns it and drains it after every step.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Messages to send, in order.
    pub sends: Vec<(NodeId, Message)>,
    /// Answers to clients, in order.
    pub replies: Vec<ClientReply>,
    /// Observations, in order.
    pub observations: Vec<Observation>,
}

/// One input to a node's step function.
#[derive(Debug, Clone)]
pub enum Input {
    /// The node starts (first start or restart with an empty store).
    Start,
    /// One tick of the node's own clock passed.
    Tick,
    /// A message arrived.
    Deliver {
        /// The sender.
        from: NodeId,
        /// The message.
        message: Message,
    },
    /// A client asks this node to coordinate an operation.
    Client {
        /// The operation's id, echoed in the reply.
        op: OpId,
        /// What it asks.
        request: Request,
    },
}
