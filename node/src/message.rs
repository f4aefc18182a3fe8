//! What nodes say to each other on the wire, and what one step of a node takes and gives.

use crate::agreement::{
    Ballot, Config, Handover, OpRef, RangeId, Refusal, SealVote, Standing, Versioned, Vote,
};
use crate::client::{ClientReply, Reason, Request, TxnId};
use crate::ids::{Incarnation, NodeId, OpId};
use crate::observation::Observation;
use crate::table::Table;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// A steward's digest of a range, as [`Message::Sync`] carries it: each key, in key order, with
/// the ballot of its vote (`None`: promised, nothing accepted).
pub type SyncDigest = Rc<[(Rc<str>, Option<Ballot>)]>;

/// A seat's answer to a digest, as [`Message::SyncReply`] carries it: each key whose vote differs
/// from the digest, with the seat's vote on it.
pub type SyncStale = Rc<[(Rc<str>, Option<Vote>)]>;

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
        members: Table,
    },
    /// Periodic heartbeat gossip.
    Gossip {
        /// Every member the sender does not suspect, itself included.
        members: Table,
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
        /// What the acceptor accepted last in that epoch, if anything (boxed, like the other
        /// large fields, so that every message, gossip included, is a smaller value to move).
        vote: Option<Box<Vote>>,
    },
    /// `versioned`, phase 2: accept this state under the ballot.
    Accept {
        /// The key.
        key: Rc<str>,
        /// The ballot.
        ballot: Ballot,
        /// The proposed state, computed from the newest state phase 1 found.
        state: Box<Versioned>,
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
        vote: Box<Vote>,
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
        /// Which of the steward's syncs of the range this is (its seats' replies echo it).
        sync: u64,
        /// Each key with the ballot of the steward's vote (`None`: promised, nothing accepted),
        /// sorted by key.
        digest: SyncDigest,
    },
    /// `versioned`: the answer to [`Message::Sync`].
    SyncReply {
        /// The range.
        range: RangeId,
        /// The epoch the steward asked about.
        epoch: u64,
        /// The sync answered.
        sync: u64,
        /// How the sender stands in that epoch.
        standing: Standing,
        /// Keys whose votes differ from the digest, with the sender's vote on each.
        stale: SyncStale,
    },
    /// `versioned`: a node that should recover the range, or that holds it and must learn
    /// whether it may drop it, asks the nodes its ring names.
    Query {
        /// The range.
        range: RangeId,
    },
}

impl Message {
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

/// A message to send and its receiver, as an [`Outbox`] holds it.
///
/// `repr(C)` keeps the message first, at offset 0. The `(NodeId, Message)` tuple it replaces
/// had the receiver first, and a driver moving each send out of the outbox read the message
/// back from a copy it had made one byte off, in loads that stalled on the stores that wrote
/// the copy: a twentieth of a membership grader scenario.
#[repr(C)]
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The message.
    pub message: Message,
    /// Its receiver.
    pub to: NodeId,
}

/// What a step produced. The caller owns it and drains it after every step.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Messages to send, in order.
    pub sends: Vec<Outgoing>,
    /// Answers to clients, in order.
    pub replies: Vec<ClientReply>,
    /// Observations, in order.
    pub observations: Vec<Observation>,
}

impl Outbox {
    /// Queues `message` for `to`.
    pub fn send(&mut self, to: NodeId, message: Message) {
        self.sends.push(Outgoing { message, to });
    }
}

/// One input to a node's step function. A delivered message is lent, not given: the node
/// reads it and keeps what it needs, and the caller frees it (moving it in and out of each
/// step was a copy of a large value for every message delivered).
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// The node starts (first start or restart with an empty store).
    Start,
    /// One tick of the node's own clock passed.
    Tick,
    /// A message arrived.
    Deliver {
        /// The sender.
        from: NodeId,
        /// The message.
        message: &'a Message,
    },
    /// A client asks this node to coordinate an operation.
    Client {
        /// The operation's id, echoed in the reply.
        op: OpId,
        /// What it asks.
        request: Request,
    },
}
