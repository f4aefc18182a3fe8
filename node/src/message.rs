//! What nodes say to each other, what clients ask, and what a node reports about itself.

use crate::ids::{Incarnation, NodeId, OpId};
use std::rc::Rc;

/// One entry of a heartbeat table as it travels in gossip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// A client request, and the same request as a coordinator forwards it to a replica.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
            Message::Forward { .. } => "forward",
        }
    }
}

/// One replica's positive reply that a coordinator counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ack {
    /// The replica.
    pub from: NodeId,
    /// For a read: the value it returned.
    pub value: Option<Rc<str>>,
}

/// The coordinator's answer to a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

impl Outbox {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.replies.is_empty() && self.observations.is_empty()
    }
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
