//! What a simulated run recorded, in the checker's own vocabulary.
//!
//! The simulator fills a [`RunRecord`]; every guarantee property is a pure function of it. Nothing
//! here names a simulator or node type: node ids are plain `u8`, times are ticks, values are
//! strings. That keeps the checker independent of the code it judges (design.md, "Layout").

use serde::{Deserialize, Serialize};

/// A node id (1..=255). Ring positions hash the single byte of the id.
pub type NodeId = u8;

/// A virtual time in ticks.
pub type Tick = u64;

/// A point in the run: the tick and the global sequence number of the event inside it, so that
/// real-time order inside one tick is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// Virtual time.
    pub tick: Tick,
    /// Global event sequence number; strictly increasing over the run.
    pub seq: u64,
}

/// A client request against the key-value store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum KvInput {
    /// Create the key with this value; only if absent.
    Create {
        /// The key.
        key: String,
        /// The value to create.
        value: String,
    },
    /// Read the key.
    Read {
        /// The key.
        key: String,
    },
    /// Update the key to this value; only if present.
    Update {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Delete the key; only if present.
    Delete {
        /// The key.
        key: String,
    },
}

impl KvInput {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Create { key, .. }
            | KvInput::Read { key }
            | KvInput::Update { key, .. }
            | KvInput::Delete { key } => key,
        }
    }

    /// The value written, for create and update.
    pub fn written_value(&self) -> Option<&str> {
        match self {
            KvInput::Create { value, .. } | KvInput::Update { value, .. } => Some(value),
            KvInput::Read { .. } | KvInput::Delete { .. } => None,
        }
    }
}

/// How an operation ended, as the client saw it (design.md, "Outcomes and histories").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It took effect; a read returns what it saw.
    Ok,
    /// A definite answer that it did not take effect, with an observation of the state.
    Rejected,
    /// It may take effect once, at any point after its invocation, or never.
    Unknown,
}

/// Why the store answered as it did, whatever the outcome class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Success.
    Ok,
    /// Create of an existing key.
    Exists,
    /// Read, update or delete of a missing key.
    NotFound,
    /// Too few replicas answered positively (or they disagreed).
    NoQuorum,
    /// The coordinator's operation timeout passed.
    Timeout,
    /// The coordinator crashed before answering (recorded by the simulator, not by a node).
    CoordinatorCrashed,
}

/// One replica's positive answer that a coordinator counted towards its quorum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ack {
    /// The replica that answered.
    pub from: NodeId,
    /// For reads: the value that replica returned (`None`: it had no value).
    pub value: Option<String>,
}

/// One client operation: invocation, completion and what the coordinator knew when it decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Unique operation id within the run.
    pub id: u64,
    /// The client (process) that issued it; a client has at most one operation open at a time.
    pub client: u64,
    /// The node that coordinated it.
    pub coordinator: NodeId,
    /// What was asked.
    pub input: KvInput,
    /// When it was invoked.
    pub invoke: Stamp,
    /// When the client got its answer; `None` if it never did (for example the run ended).
    pub complete: Option<Stamp>,
    /// The outcome class.
    pub outcome: Outcome,
    /// The reason the store gave (or the simulator recorded).
    pub reason: Reason,
    /// For an `ok` read: the value read (`None`: the key was absent). For a `rejected` operation:
    /// the state it observed, where known.
    pub output: Option<String>,
    /// The positive replica answers the coordinator counted when it decided success.
    pub acks: Vec<Ack>,
}

/// A change in one node's membership view, as its observations record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChange {
    /// When the change happened.
    pub at: Stamp,
    /// The node whose view changed.
    pub node: NodeId,
    /// The member added or removed.
    pub member: NodeId,
    /// `true`: added; `false`: removed.
    pub added: bool,
}

/// A process fault applied by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ProcessEvent {
    /// The node stopped; its in-flight messages are lost.
    Crash {
        /// When.
        at: Stamp,
        /// Which node.
        node: NodeId,
    },
    /// The node started again with an empty store and a fresh incarnation.
    Restart {
        /// When.
        at: Stamp,
        /// Which node.
        node: NodeId,
    },
}

/// A replica wrote a key's state (client write or stabilization), as its observations record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreEvent {
    /// When.
    pub at: Stamp,
    /// The replica.
    pub node: NodeId,
    /// The key.
    pub key: String,
    /// The value written; `None` for a delete or tombstone.
    pub value: Option<String>,
}

/// A proposal number of the `versioned` store's per-key agreement: ordered by epoch, then
/// round, then proposer, so that two proposers never share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// The epoch of the key's range (its configuration).
    pub epoch: u64,
    /// The proposer's round counter.
    pub round: u64,
    /// The proposer.
    pub node: NodeId,
    /// The proposer's incarnation.
    pub incarnation: u32,
}

impl std::fmt::Display for Ballot {
    /// As violation messages show it: `e<epoch>.r<round>.n<node>.i<incarnation>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Ballot {
            epoch,
            round,
            node,
            incarnation,
        } = self;
        write!(f, "e{epoch}.r{round}.n{node}.i{incarnation}")
    }
}

/// One step of a key's agreement in the `versioned` store, as the nodes' observations record
/// it (for `agreement`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AgreementEvent {
    /// A seat accepted a proposal for the key: its vote is now the proposal at `ballot`.
    Voted {
        /// When.
        at: Stamp,
        /// The seat's node.
        node: NodeId,
        /// The key.
        key: String,
        /// The proposal's ballot.
        ballot: Ballot,
    },
    /// A proposer took its proposal as chosen and committed it to the other seats.
    Decided {
        /// When.
        at: Stamp,
        /// The proposer.
        node: NodeId,
        /// The key.
        key: String,
        /// The proposal's ballot.
        ballot: Ballot,
        /// The nodes of the round's configuration.
        seats: Vec<NodeId>,
    },
    /// A node sent a state it takes as chosen to the seats behind it: a proposer's read repair
    /// after its decision, or a steward's anti-entropy commit of a vote a quorum of the seats
    /// answering its sync holds.
    Repaired {
        /// When.
        at: Stamp,
        /// The node that sent it.
        node: NodeId,
        /// The key.
        key: String,
        /// The ballot of the state sent.
        ballot: Ballot,
        /// The nodes of the configuration it counted holders in.
        seats: Vec<NodeId>,
    },
}

/// A `versioned` proposer sent a phase message of one round (same ballot, same key or range) to
/// the same node again within a tick of the previous send (for `resend-pacing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickResend {
    /// The tick of the repeat.
    pub at: Tick,
    /// The proposer.
    pub from: NodeId,
    /// The node it went to.
    pub to: NodeId,
    /// What was sent: the message kind and its key or range, e.g. `accept user/3`.
    pub what: String,
    /// The round's ballot.
    pub ballot: Ballot,
    /// Ticks since the previous send of the same message: 0 or 1.
    pub gap_ticks: Tick,
}

/// A `versioned` node reported how it stands in a range's epoch: it installed the range in that
/// epoch (`RangeRecovered`), or refused to vote in it for not having done so (`NotRecovered`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// When.
    pub at: Stamp,
    /// The node.
    pub node: NodeId,
    /// The range.
    pub range: u16,
    /// The epoch.
    pub epoch: u64,
    /// Installed (`true`), or refused as not recovered (`false`).
    pub recovered: bool,
}

/// A `versioned` seat's answer to a steward's sync listed a key whose vote is the one the digest
/// it answered shows (for `sync-listing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnchangedListed {
    /// The tick of the answer.
    pub at: Tick,
    /// The seat answering.
    pub seat: NodeId,
    /// The steward it answered.
    pub steward: NodeId,
    /// The range.
    pub range: u16,
    /// The key.
    pub key: String,
}

/// A written key going to a node in a `versioned` hand-over, from one side: the message the
/// network carried, or the sender's report of it (for `handover-reported`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HandoverKey {
    /// The tick it was sent in.
    pub at: Tick,
    /// The node handing over.
    pub from: NodeId,
    /// The node it went to.
    pub to: NodeId,
    /// The key.
    pub key: String,
    /// Which side this is.
    pub seen: HandoverSeen,
}

/// Which side of a hand-over a [`HandoverKey`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandoverSeen {
    /// An `Install` message carried it.
    Sent,
    /// The sender observed it handed over (`HandedOver`).
    Reported,
}

/// A `classic` coordinator sent a client write to these nodes (for `write-placement`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteRoute {
    /// When.
    pub at: Stamp,
    /// The coordinator.
    pub node: NodeId,
    /// The key.
    pub key: String,
    /// The nodes the request went to.
    pub to: Vec<NodeId>,
    /// The transaction id the request carries.
    #[serde(default)]
    pub txn: u32,
}

/// A `classic` replica passed a write it applied on to a replica its own ring names (for
/// `write-forwarding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteForward {
    /// When.
    pub at: Stamp,
    /// The replica that passed it on.
    pub node: NodeId,
    /// The key.
    pub key: String,
    /// The replica it went to.
    pub to: NodeId,
    /// The coordinator of the request passed on.
    pub coordinator: NodeId,
    /// The coordinator's transaction id of the request passed on.
    pub txn: u32,
}

/// Which side of an operation a store line of the log comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogRole {
    /// A replica that applied (classic) or voted on (versioned) the operation's request.
    Server,
    /// The coordinator that answered the client.
    Coordinator,
}

/// The kind of operation a store line of the log names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggedKind {
    /// A create.
    Create,
    /// A read.
    Read,
    /// An update.
    Update,
    /// A delete.
    Delete,
}

/// A store line of the original program's log (`dbg.log`: `server: create success at time
/// ..., transID=..., key=...`), as the nodes' observations record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When.
    pub at: Stamp,
    /// The node that logged it.
    pub node: NodeId,
    /// Replica or coordinator.
    pub role: LogRole,
    /// The operation's kind.
    pub kind: LoggedKind,
    /// The coordinator's transaction id of the operation.
    pub txn: u32,
    /// The key.
    pub key: String,
    /// Success or failure.
    pub success: bool,
}

/// A node asked another to let it into the group (membership's join request), for `rejoin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// When it was sent.
    pub at: Stamp,
    /// The node asking.
    pub node: NodeId,
    /// The node asked.
    pub to: NodeId,
}

/// The most gossip messages one node sent in one tick of its own clock over a run to one kind of
/// target (members of its view, or nodes outside it), and where that peak was first reached,
/// for `gossip-fanout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipPeak {
    /// The send that reached the peak.
    pub at: Stamp,
    /// The node that sent them.
    pub node: NodeId,
    /// How many gossip messages it sent in that tick.
    pub messages: u32,
}

/// A step of a `versioned` node's upkeep of a range, as a driver watched it (on sends, so loss
/// cannot hide one; one event per tick, node, range and kind, however many nodes it went to),
/// for `sweep-cadence` and `query-budget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RangeEvent {
    /// A steward sent its digest of a range to the other seats.
    Synced {
        /// The tick it was sent in.
        at: Tick,
        /// The steward.
        node: NodeId,
        /// The range.
        range: u16,
    },
    /// A seat's answer to a sync, listing keys whose votes differ from the digest, reached the
    /// steward: such an answer is what lets a steward sync again before its next sweep.
    StaleReply {
        /// The tick it was delivered in.
        at: Tick,
        /// The steward it reached.
        node: NodeId,
        /// The range.
        range: u16,
    },
    /// A node asked the nodes its ring names, and the range's newest known seats, about a range
    /// it should hold and does not, or holds and may have to drop.
    Queried {
        /// The tick it was sent in.
        at: Tick,
        /// The node asking.
        node: NodeId,
        /// The range.
        range: u16,
    },
}

/// A node's clock started running at another rate (parts per thousand of world time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockRate {
    /// From this tick on.
    pub at: Tick,
    /// The node.
    pub node: NodeId,
    /// The new rate; 1000 is a steady clock.
    pub rate_permille: u64,
}

/// A node saw a member of its view restart: the member's incarnation went up (membership's
/// `MemberRejoined`). Like an added or removed member, it changes the node's ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejoin {
    /// When.
    pub at: Stamp,
    /// The node whose view saw it.
    pub node: NodeId,
    /// The member that restarted.
    pub member: NodeId,
}

/// A node's stored copy of one key at the end of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    /// The key.
    pub key: String,
    /// The value held; `None` for a tombstone (a versioned delete).
    pub value: Option<String>,
    /// Version of the state, for stores that version it (0 for the classic store).
    pub version: u64,
}

/// A node's state at the end of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalNode {
    /// The node.
    pub node: NodeId,
    /// Whether it was running at the end.
    pub live: bool,
    /// Its membership view (self included), sorted.
    pub view: Vec<NodeId>,
    /// The keys it stores, sorted by key.
    pub store: Vec<StoredKey>,
}

/// A half-open interval of ticks `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First tick inside.
    pub from: Tick,
    /// First tick after.
    pub to: Tick,
}

impl Window {
    /// Whether `tick` lies inside.
    pub fn contains(&self, tick: Tick) -> bool {
        self.from <= tick && tick < self.to
    }
}

/// The protocol parameters the properties are judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// Suspicion timeout of the membership protocol.
    pub tfail_ticks: Tick,
    /// Removal timeout of the membership protocol.
    pub tremove_ticks: Tick,
    /// Extra ticks allowed for a failure to be detected and disseminated, on top of `tremove_ticks`.
    pub detection_slack_ticks: Tick,
    /// Coordinator operation timeout.
    pub op_timeout_ticks: Tick,
    /// Extra ticks allowed on top of `op_timeout_ticks` for `bounded-response`.
    pub response_slack_ticks: Tick,
    /// Replicas per key (3).
    pub replicas: usize,
    /// Quorum for reads and writes (2).
    pub quorum: usize,
    /// How many members a node gossips its table to on every tick (0 where the driver does not
    /// watch gossip).
    #[serde(default)]
    pub gossip_fanout: usize,
    /// Ticks between two periodic stabilization sweeps of one node (0: the driver does not say,
    /// or sweeps only follow view changes).
    #[serde(default)]
    pub sweep_interval_ticks: Tick,
    /// The longest a message takes on a link that neither loses nor partitions (0: the driver
    /// does not say).
    #[serde(default)]
    pub delay_ticks_max: Tick,
}

/// A random message fault that the fault phase's link model draws per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrawnFault {
    /// A message lost (one draw per send on a link that is not partitioned).
    Loss,
    /// A message delivered twice (one draw per message not lost).
    Duplication,
    /// A usual delay longer than the shortest (one draw per usual delay): what reorders messages.
    DelaySpread,
    /// A long-tail delay instead of a usual one (one draw per delay).
    LongTail,
}

impl DrawnFault {
    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            DrawnFault::Loss => "loss",
            DrawnFault::Duplication => "duplication",
            DrawnFault::DelaySpread => "delay spread",
            DrawnFault::LongTail => "long-tail delay",
        }
    }
}

/// A panic that stopped a run: a failed assertion or `expect` in node code, or a harness bug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panic {
    /// The tick the run was in.
    pub at: Tick,
    /// The panic's message.
    pub message: String,
    /// Where it was raised (`file:line:column`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// How often the link model asked for one random fault, and how often the network realized it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultDraws {
    /// The fault.
    pub fault: DrawnFault,
    /// Its probability per draw, in parts per million.
    pub ppm: u32,
    /// Draws made (messages that could have suffered it).
    pub trials: u64,
    /// Draws that realized it.
    pub realized: u64,
}

/// A link whose messages the network held and then released together (a clog): every message
/// sent on it from `at` on arrives at `until` at the earliest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLink {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// When the clog began.
    pub at: Tick,
    /// When it released what it held.
    pub until: Tick,
}

/// Everything a run recorded that the properties need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Every node id that took part.
    pub nodes: Vec<NodeId>,
    /// The client history, sorted by invocation.
    pub history: Vec<Operation>,
    /// Every membership view change, in order.
    pub views: Vec<ViewChange>,
    /// Every replica write, in order (for `durability`: who held what).
    pub stored: Vec<StoreEvent>,
    /// Crashes and restarts, in order.
    pub process_events: Vec<ProcessEvent>,
    /// Votes and decisions of the `versioned` store's agreement, in order (empty for `classic`).
    #[serde(default)]
    pub agreement: Vec<AgreementEvent>,
    /// Where `classic` coordinators sent client writes, in order (empty for `versioned`).
    #[serde(default)]
    pub routes: Vec<WriteRoute>,
    /// Where `classic` replicas passed writes on, in order (empty for `versioned`).
    #[serde(default)]
    pub forwards: Vec<WriteForward>,
    /// The store lines of the log, in order (empty where the driver does not keep them).
    #[serde(default)]
    pub log: Vec<LogLine>,
    /// Windows in which the network was loss-free, undelayed (one constant delay) and unpartitioned.
    pub clean_network: Vec<Window>,
    /// Windows of ticks at whose end every live node's view equaled the set of live nodes and
    /// every hand-over was done (empty where the driver does not watch for it).
    #[serde(default)]
    pub settled: Vec<Window>,
    /// When the fault phase ended and the quiet phase began.
    pub quiet_from: Tick,
    /// When the run had converged (views equal, handovers done), if it did.
    pub converged_at: Option<Tick>,
    /// The tick cap of the run.
    pub tick_cap: Tick,
    /// The state at the end.
    pub final_nodes: Vec<FinalNode>,
    /// Protocol bounds the properties are judged against.
    pub bounds: Bounds,
    /// The fault phase's random message faults: asked for and realized (empty where the driver
    /// does not draw them, as in the real runtime).
    #[serde(default)]
    pub fault_draws: Vec<FaultDraws>,
    /// The clogs that fired, in order (empty where the driver clogs nothing, as in the real
    /// runtime).
    #[serde(default)]
    pub held_links: Vec<HeldLink>,
    /// The nodes a node may ask to join through (the seed list every node is given); empty where
    /// the driver does not watch join requests, as in the real runtime.
    #[serde(default)]
    pub seed_nodes: Vec<NodeId>,
    /// Every join request sent, in order (on sends, so loss cannot hide one).
    #[serde(default)]
    pub join_requests: Vec<JoinRequest>,
    /// The most gossip one node sent in one tick to members of its view (on sends); `None`
    /// where the driver does not watch gossip, as in the real runtime, or no node gossiped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gossip_peak: Option<GossipPeak>,
    /// The most gossip one node sent in one tick to nodes outside its view: its probes (on
    /// sends); `None` where the driver does not watch gossip, or no node probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_peak: Option<GossipPeak>,
    /// Members seen restarting, in order (empty where the driver does not keep them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejoins: Vec<Rejoin>,
    /// The `versioned` store's syncs, the stale answers to them and its queries, in order
    /// (empty for `classic`, and where the driver does not watch them, as in the real runtime).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub range_events: Vec<RangeEvent>,
    /// `versioned`: every written key a hand-over sent, as the network carried it and as its
    /// sender reported it (empty for `classic`, and where the driver does not watch messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handovers: Vec<HandoverKey>,
    /// `versioned`: every phase message a proposer sent the same node again within a tick of
    /// the previous send (empty for `classic`, and where the driver does not watch messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick_resends: Vec<QuickResend>,
    /// `versioned`: every key a seat listed in its answer to a sync with the vote the digest it
    /// answered shows (empty for `classic`, and where the driver does not watch messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchanged_listed: Vec<UnchangedListed>,
    /// `versioned`: every report of a node installing a range in an epoch, or refusing to vote
    /// in one for not having installed it, in order (empty for `classic`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recoveries: Vec<Recovery>,
    /// Every change of a node's clock rate, in order (empty: every clock steady throughout, or
    /// a driver that does not skew clocks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clock_rates: Vec<ClockRate>,
    /// The panic that stopped the run early, if one did: the record then holds what happened
    /// up to it, and no final state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic: Option<Panic>,
}
