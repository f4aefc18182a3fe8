//! What a client asks a coordinator and what it is told: requests, their kinds, the reasons of
//! answers, and the replies with the acknowledgements they counted.
//!
//! This is vocabulary, not wire format: the agreement protocol ([`crate::agreement`]), the wire
//! messages ([`crate::message`]) and observations ([`crate::observation`]) all build on it, and
//! it imports none of them.

use crate::ids::{NodeId, OpId};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

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
