//! A resolved scenario: everything a run needs besides its seed, as stored in seed files.
//!
//! Replaying a seed file uses only this (never the generator that drew it), so a recorded seed
//! stays valid when the generator changes.

use crate::net::faulty::LinkModel;
use node::{NodeId, Params, Tick};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// One scheduled change of the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// The node stops; messages to it are lost.
    Crash {
        /// When.
        at: Tick,
        /// Which node.
        node: u8,
    },
    /// The node starts again with an empty store and the next incarnation.
    Restart {
        /// When.
        at: Tick,
        /// Which node.
        node: u8,
    },
    /// Messages from `from` to `to` are dropped (and back, unless one-way) until `heal_at`.
    Partition {
        /// When it starts.
        at: Tick,
        /// One side.
        from: Vec<u8>,
        /// The other side.
        to: Vec<u8>,
        /// Only `from -> to` is cut.
        one_way: bool,
        /// When it heals.
        heal_at: Tick,
    },
    /// Messages on the link `from -> to` are held until `until`.
    Clog {
        /// When it starts.
        at: Tick,
        /// Sender.
        from: u8,
        /// Receiver.
        to: u8,
        /// When held messages go.
        until: Tick,
    },
    /// The node starts only now (a node joining a running cluster) instead of at tick 0.
    Join {
        /// When it starts.
        at: Tick,
        /// Which node.
        node: u8,
    },
    /// The node's clock runs at this rate from now on.
    Skew {
        /// When.
        at: Tick,
        /// Which node.
        node: u8,
        /// Parts per thousand of world time.
        rate_permille: u64,
    },
}

impl Fault {
    /// When it happens.
    pub fn at(&self) -> Tick {
        match self {
            Fault::Crash { at, .. }
            | Fault::Restart { at, .. }
            | Fault::Partition { at, .. }
            | Fault::Clog { at, .. }
            | Fault::Join { at, .. }
            | Fault::Skew { at, .. } => *at,
        }
    }

    /// The name of its kind, for summaries.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Fault::Crash { .. } => "crash",
            Fault::Restart { .. } => "restart",
            Fault::Partition { one_way: false, .. } => "partition",
            Fault::Partition { one_way: true, .. } => "one-way-partition",
            Fault::Clog { .. } => "clog",
            Fault::Skew { .. } => "clock-skew",
            Fault::Join { .. } => "late-join",
        }
    }

    /// Whether it disturbs messages (partitions and clogs), as opposed to processes.
    pub fn is_message_fault(&self) -> bool {
        matches!(self, Fault::Partition { .. } | Fault::Clog { .. })
    }
}

/// Relative weights of the four operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpMix {
    /// Weight of create.
    pub create: u32,
    /// Weight of read.
    pub read: u32,
    /// Weight of update.
    pub update: u32,
    /// Weight of delete.
    pub delete: u32,
}

impl OpMix {
    /// The sum of the weights, in `u64` so that no weights can overflow it.
    pub fn total(&self) -> u64 {
        [self.create, self.read, self.update, self.delete]
            .into_iter()
            .map(u64::from)
            .sum()
    }
}

/// The closed-loop client workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Concurrent clients; each has at most one operation open.
    pub clients: u32,
    /// Keys `<key_prefix>0 .. <key_prefix><keys-1>`: a small space, so operations collide.
    pub keys: u32,
    /// What every key begins with. `k` (the default, and every older seed file) makes keys of
    /// two or three bytes, shorter than the 8-byte words the ring's hash (libstdc++'s) folds
    /// first, so only a longer prefix takes keys through that part of the hash, as real keys
    /// do.
    #[serde(
        default = "default_key_prefix",
        skip_serializing_if = "is_default_key_prefix"
    )]
    pub key_prefix: String,
    /// Operations each client issues in the fault phase.
    pub ops_per_client: u32,
    /// A client waits 0..=this many ticks between an answer and its next operation.
    pub think_ticks_max: Tick,
    /// Tick at which clients start.
    pub start_tick: Tick,
    /// Operation mix.
    pub mix: OpMix,
    /// For this many ticks after a node (re)starts or joins late, every client sends its
    /// operations to that node rather than to a random live one: a node that has not recovered
    /// its ranges yet must refuse to vote, and that window lasts only a few ticks, so random
    /// routing reaches it in well under one run in a hundred. 0 (the default, and every older
    /// seed file) routes at random throughout.
    #[serde(default, skip_serializing_if = "is_zero_ticks")]
    pub fresh_node_ticks: Tick,
}

impl Workload {
    /// The name of key number `n`: the prefix, then the number.
    pub fn key(&self, n: u64) -> Rc<str> {
        format!("{}{n}", self.key_prefix).into()
    }
}

/// The key prefix of seed files that do not name one.
fn default_key_prefix() -> String {
    DEFAULT_KEY_PREFIX.to_string()
}

/// Whether the key prefix is the default (it is then left out of seed files).
fn is_default_key_prefix(prefix: &str) -> bool {
    prefix == DEFAULT_KEY_PREFIX
}

/// The key prefix of seed files that do not name one: keys `k0`, `k1`, ...
pub const DEFAULT_KEY_PREFIX: &str = "k";

/// Whether a tick count is 0 (an option that is off, and then left out of seed files).
fn is_zero_ticks(ticks: &Tick) -> bool {
    *ticks == 0
}

/// Everything a run needs besides its root seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Nodes `1..=nodes`, all starting at tick 0 (node 1, the introducer, first).
    pub nodes: u8,
    /// Protocol parameters.
    pub params: Params,
    /// The network during the fault phase.
    pub network: LinkModel,
    /// The constant message delay of the quiet phase.
    pub quiet_delay_ticks: Tick,
    /// Scheduled faults, sorted by time; all within the fault phase.
    pub faults: Vec<Fault>,
    /// The clients.
    pub workload: Workload,
    /// Length of the fault phase; the quiet phase follows (faults healed, clean network).
    pub fault_phase_ticks: Tick,
    /// A run that has not converged this long after the fault phase fails `progress`.
    pub quiet_ticks_max: Tick,
}

impl Scenario {
    /// The node ids.
    pub fn node_ids(&self) -> Vec<NodeId> {
        (1..=self.nodes).map(NodeId).collect()
    }

    /// Whether no message fault is in it: no loss, duplication, partition or clog, and one
    /// constant delay (so every replica sees concurrent writes in the same order).
    pub fn message_faults_free(&self) -> bool {
        self.network.is_clean() && !self.faults.iter().any(Fault::is_message_fault)
    }

    /// When each node starts: at its `join` fault, or at tick 0.
    pub fn start_ticks(&self) -> Vec<(NodeId, Tick)> {
        self.node_ids()
            .into_iter()
            .map(|id| {
                let join = self.faults.iter().find_map(|f| match f {
                    Fault::Join { at, node } if *node == id.0 => Some(*at),
                    _ => None,
                });
                (id, join.unwrap_or(0))
            })
            .collect()
    }

    /// The run's tick cap (saturating: a scenario that is not validated must not wrap it).
    pub fn tick_cap(&self) -> Tick {
        self.fault_phase_ticks.saturating_add(self.quiet_ticks_max)
    }

    /// Checks every field against its stated range ([`crate::validate::RULES`]).
    pub fn validate(&self) -> Result<(), crate::validate::Invalid> {
        crate::validate::validate(self)
    }
}
