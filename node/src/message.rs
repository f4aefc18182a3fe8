//! What nodes say to each other on the wire, and what one step of a node takes and gives.

use crate::agreement::{
    Ballot, Config, Handover, OpRef, RangeId, Refusal, SealVote, Standing, Versioned, Vote,
};
use crate::client::{ClientReply, Reason, Request, TxnId};
use crate::ids::{Incarnation, NodeId, OpId};
use crate::observation::Observation;
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
