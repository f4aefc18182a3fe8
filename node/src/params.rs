//! Protocol parameters: one documented struct, units last in names.

pub use crate::bugs::PlantedBug;
use crate::ids::{NodeId, Tick};
use serde::{Deserialize, Serialize};

/// Which key-value store design the node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Faithful to the original assignment: plain values, quorum of replies or a timeout.
    Classic,
    /// Linearizable for the whole key-value model: per-key single-decree consensus
    /// (CASPaxos-style) among the key's replicas, versioned tombstones, and replica-set changes
    /// that go through a round at a quorum of the previous replicas. The default: it keeps
    /// every promise of design.md's table.
    #[default]
    Versioned,
}

impl Variant {
    /// Every variant, in a stable order.
    pub const ALL: [Variant; 2] = [Variant::Classic, Variant::Versioned];

    /// The stable name used on the command line and in seed files.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Classic => "classic",
            Variant::Versioned => "versioned",
        }
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// The protocol parameters every node of a run shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The node that starts the group and answers the first join requests.
    pub introducer: NodeId,
    /// The nodes a node may contact when it is not (or no longer) in touch with the group: the
    /// "seed list" of a real deployment. Restarted nodes rejoin through it, and nodes probe seeds
    /// outside their view so that views split by a long partition merge again after the heal.
    pub seed_nodes: Vec<NodeId>,
    /// A member whose heartbeat has not advanced for this long is suspected (not gossiped).
    pub tfail_ticks: Tick,
    /// A member whose heartbeat has not advanced for this long is removed from the view.
    pub tremove_ticks: Tick,
    /// How many members each node gossips its heartbeat table to on each gossip tick.
    pub gossip_fanout: usize,
    /// A node gossips every this many ticks of its own clock (staggered by id); its heartbeat
    /// still advances every tick. 1, the original protocol, gossips on every tick (and is left
    /// out of seed files); a longer interval is the cheaper protocol the fuzz profiles also draw,
    /// trading messages for slower dissemination, which their longer `tfail_ticks` absorbs.
    #[serde(default = "every_tick", skip_serializing_if = "is_every_tick")]
    pub gossip_interval_ticks: Tick,
    /// Every this many ticks a node also gossips to one seed node outside its view.
    pub probe_interval_ticks: Tick,
    /// A node that has not heard back from its join request tries again after this long.
    pub join_retry_ticks: Tick,
    /// Every this many ticks a node hands over keys it holds but is not a replica of.
    pub sweep_interval_ticks: Tick,
    /// Replicas per key.
    pub replicas: usize,
    /// Positive replies a coordinator needs to succeed.
    pub quorum: usize,
    /// A coordinator that has not decided after this long answers failure (timeout).
    pub op_timeout_ticks: Tick,
    /// The store design.
    pub variant: Variant,
    /// A planted bug, or `None`.
    pub bug: PlantedBug,
    /// Fault point (BUGGIFY-style), `classic` only: the chance per tick, in parts per million,
    /// that a node hands every key over again as if its ring had just changed. A hand-over must
    /// be harmless whenever it arrives (replicas keep what they hold), yet ring changes are rare,
    /// so the window where one crosses a write in flight is rarely reached without this. Drawn
    /// from the node's own stream; 0 (the default, and every older seed file) draws nothing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extra_handover_ppm: u32,
}

/// The original gossip interval, for seed files that do not name one.
fn every_tick() -> Tick {
    1
}

/// Whether the gossip interval is the original one (it is then left out of seed files).
fn is_every_tick(ticks: &Tick) -> bool {
    *ticks == 1
}

/// Whether a fault point's rate is off (it is then left out of seed files).
fn is_zero(ppm: &u32) -> bool {
    *ppm == 0
}

impl Params {
    /// The original assignment's parameters (TFAIL 5, TREMOVE 20) for nodes `1..=nodes`.
    pub fn original(nodes: u8) -> Params {
        Params {
            introducer: NodeId(1),
            seed_nodes: (1..=nodes).map(NodeId).collect(),
            tfail_ticks: 5,
            tremove_ticks: 20,
            gossip_fanout: 2,
            gossip_interval_ticks: 1,
            probe_interval_ticks: 10,
            join_retry_ticks: 10,
            sweep_interval_ticks: 10,
            replicas: 3,
            quorum: 2,
            op_timeout_ticks: 15,
            variant: Variant::Classic,
            bug: PlantedBug::None,
            extra_handover_ppm: 0,
        }
    }

    /// How long a store may still hold a copy it is no longer a replica of once every view
    /// agrees: the harness lets this pass before its final reads, so that `stabilization`
    /// judges a settled placement rather than a sweep in progress.
    ///
    /// Classic marks a copy foreign when its ring changes (or at the next sweep, for a copy that
    /// arrives later) and drops it at the first periodic sweep a whole interval after that, so
    /// that a copy that looks foreign for an instant, during a view flap, is not lost. Sweeps
    /// come once an interval, so the drop comes up to two intervals after the ring changed. Versioned drops a range at its next sweep, once a
    /// query to the new replicas confirms they hold it: one interval, plus round trips that the
    /// harness's delay slack covers.
    pub fn foreign_copy_linger_ticks(&self) -> Tick {
        let sweeps = match self.variant {
            Variant::Classic => 2,
            Variant::Versioned => 1,
        };
        self.sweep_interval_ticks.saturating_mul(sweeps)
    }
}
