//! The picture's data: one run, columnar and interned so that a 30,000-event run stays well
//! under a megabyte, built only from ordered collections so the same run gives the same bytes.

use super::capture::{Capture, Life};
use super::focus::{focus, Focus};
use crate::judge::Checked;
use crate::net::SendFate;
use crate::scenario::{Fault, Scenario};
use checker::record::{KvInput, Outcome, Reason};
use node::Tick;
use serde::Serialize;
use std::collections::BTreeMap;

/// Message type names drawn as density, not arrows, unless asked for: heartbeat gossip is
/// 60-90% of a run's messages and says nothing one arrow at a time.
const DENSITY_KINDS: [&str; 1] = ["gossip"];

/// The class a message type is coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageClass {
    /// A coordinator's request to a replica and its reply.
    Client,
    /// Per-key agreement rounds (versioned).
    Agreement,
    /// Refusals of a ballot.
    Refusal,
    /// Stabilization, hand-over and anti-entropy.
    Repair,
    /// Joins and gossip.
    Membership,
}

/// The class of a message type name.
pub fn class_of(kind: &str) -> MessageClass {
    match kind {
        "kv-req" | "kv-reply" | "forward" => MessageClass::Client,
        "prepare" | "promise" | "accept" | "accepted" | "commit" => MessageClass::Agreement,
        "refuse" | "seal-refuse" => MessageClass::Refusal,
        "join-req" | "join-reply" | "gossip" => MessageClass::Membership,
        _ => MessageClass::Repair,
    }
}

/// Where the run came from and how to draw it again (the caller knows; the run does not).
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// What was replayed, in words.
    pub title: String,
    /// The command that reproduces the run.
    pub command: String,
    /// Root seed.
    pub seed: u64,
    /// Store variant.
    pub variant: String,
    /// Fault model.
    pub profile: String,
    /// Planted bug.
    pub bug: String,
}

/// What the page's header says about the run.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// Where the run came from.
    #[serde(flatten)]
    pub source: Source,
    /// Ticks simulated.
    pub ticks: Tick,
    /// Events traced.
    pub events: u64,
    /// The trace hash, in hex.
    pub hash: String,
    /// When the quiet phase began.
    pub quiet_from: Tick,
    /// When views and hand-overs settled, if they did.
    pub converged_at: Option<Tick>,
    /// The properties checked.
    pub checked: Vec<String>,
    /// Every violation: property and signature.
    pub violations: Vec<(String, String)>,
    /// Whether gossip is drawn as arrows (otherwise as density).
    pub gossip_arrows: bool,
}

/// A fault drawn as a band from start to heal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Band {
    /// Fault kind (`partition`, `clog`, `clock-skew`, ...).
    pub kind: &'static str,
    /// In words.
    pub label: String,
    /// First tick.
    pub from: Tick,
    /// Tick it ended (exclusive).
    pub to: Tick,
    /// The nodes it touches, first side first.
    pub nodes: Vec<u8>,
    /// The other side, for partitions and clogs.
    pub other: Vec<u8>,
}

/// Every message drawn as an arrow, one column per field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Messages {
    /// Trace id.
    pub id: Vec<u64>,
    /// Send tick.
    pub sent: Vec<Tick>,
    /// Sender.
    pub from: Vec<u8>,
    /// Receiver.
    pub to: Vec<u8>,
    /// Index into [`Picture::kinds`].
    pub kind: Vec<usize>,
    /// Index into [`Picture::fates`]: what the network did, or why a queued message was never
    /// delivered.
    pub fate: Vec<usize>,
    /// Delivery tick, -1 when never delivered (lost, or the receiver was down).
    pub delivered: Vec<i64>,
    /// A duplicate's delivery tick, -1 when none.
    pub duplicate: Vec<i64>,
    /// The operation it serves, -1 for none.
    pub op: Vec<i64>,
    /// Index into [`Picture::keys`], -1 for none.
    pub key: Vec<i64>,
}

/// Every client operation, one column per field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ops {
    /// Operation id.
    pub id: Vec<u64>,
    /// Client.
    pub client: Vec<u64>,
    /// Coordinator.
    pub node: Vec<u8>,
    /// create | read | update | delete.
    pub kind: Vec<&'static str>,
    /// Index into [`Picture::keys`].
    pub key: Vec<usize>,
    /// The value written, for create and update.
    pub value: Vec<Option<String>>,
    /// Invocation tick.
    pub invoke: Vec<Tick>,
    /// Completion tick, -1 when never answered.
    pub complete: Vec<i64>,
    /// ok | rejected | unknown.
    pub outcome: Vec<Outcome>,
    /// Why it was answered as it was.
    pub reason: Vec<Reason>,
    /// What a read returned.
    pub output: Vec<Option<String>>,
}

/// The picture of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Picture {
    /// Title, command, sizes, verdict.
    pub meta: Meta,
    /// Node ids, in lane order.
    pub nodes: Vec<u8>,
    /// Each node's ring position (the checker's oracle), same order.
    pub ring: Vec<u64>,
    /// Starts and crashes: `[tick, node, incarnation]`, incarnation -1 for a crash.
    pub lives: Vec<(Tick, u8, i64)>,
    /// Fault bands.
    pub bands: Vec<Band>,
    /// Message type names.
    pub kinds: Vec<&'static str>,
    /// The class of each kind, same order.
    pub classes: Vec<MessageClass>,
    /// Names of what the network did with a message.
    pub fates: Vec<&'static str>,
    /// Messages drawn as arrows.
    pub messages: Messages,
    /// Messages drawn as density: per node (lane order), sends per tick.
    pub density: Vec<Vec<u32>>,
    /// Keys, interned.
    pub keys: Vec<String>,
    /// Each key's ring position (the checker's oracle), same order.
    pub key_positions: Vec<u64>,
    /// Client operations.
    pub ops: Ops,
    /// Membership view changes: `[tick, node, member, added]`.
    pub views: Vec<(Tick, u8, u8, bool)>,
    /// Replica writes: `[tick, node, key index, value]` (`null`: dropped or deleted).
    pub stored: Vec<(Tick, u8, usize, Option<String>)>,
    /// The first violation, if the run failed.
    pub focus: Option<Focus>,
    /// The ticks the page opens on and the SVG draws: the violation's window.
    pub window: (Tick, Tick),
}

/// The operation kind's name.
fn op_kind(input: &KvInput) -> &'static str {
    match input {
        KvInput::Create { .. } => "create",
        KvInput::Read { .. } => "read",
        KvInput::Update { .. } => "update",
        KvInput::Delete { .. } => "delete",
    }
}

/// [`SendFate`]s by index; [`Picture::fates`] names them, then [`RECEIVER_DOWN`] and
/// [`IN_FLIGHT_AT_END`].
const FATES: [SendFate; 5] = [
    SendFate::Queued,
    SendFate::Lost,
    SendFate::Partitioned,
    SendFate::BufferFull,
    SendFate::TooLarge,
];
/// A queued message never delivered because its receiver was down (or went down).
const RECEIVER_DOWN: usize = FATES.len();
/// A queued message still on its way when the run ended.
const IN_FLIGHT_AT_END: usize = FATES.len() + 1;

/// Whether `node` was down at `tick` or crashed later.
fn down_at_or_after(lives: &[(Tick, node::NodeId, Life)], node: node::NodeId, tick: Tick) -> bool {
    let mut down = false;
    for &(at, _, life) in lives.iter().filter(|(_, n, _)| *n == node) {
        match life {
            Life::Crash if at >= tick => return true,
            Life::Crash => down = true,
            Life::Start(_) if at <= tick => down = false,
            Life::Start(_) => {}
        }
    }
    down
}

/// Interns strings in first-seen order.
#[derive(Debug, Default)]
struct Interner<T: Ord + Clone> {
    index: BTreeMap<T, usize>,
    items: Vec<T>,
}

impl<T: Ord + Clone> Interner<T> {
    fn get(&mut self, item: &T) -> usize {
        if let Some(&i) = self.index.get(item) {
            return i;
        }
        self.items.push(item.clone());
        self.index.insert(item.clone(), self.items.len() - 1);
        self.items.len() - 1
    }
}

/// The fault bands of a scenario: partitions and clogs until they heal, skews until the quiet
/// phase (which heals everything).
fn bands(scenario: &Scenario, end: Tick) -> Vec<Band> {
    let quiet = scenario.fault_phase_ticks.min(end);
    let mut out: Vec<Band> = scenario
        .faults
        .iter()
        .filter_map(|fault| {
            let (from, to, nodes, other) = match fault {
                Fault::Partition {
                    at,
                    from,
                    to,
                    heal_at,
                    ..
                } => (*at, (*heal_at).min(quiet), from.clone(), to.clone()),
                Fault::Clog {
                    at,
                    from,
                    to,
                    until,
                } => (*at, (*until).min(quiet), vec![*from], vec![*to]),
                Fault::Skew { at, node, .. } => (*at, quiet, vec![*node], Vec::new()),
                Fault::Crash { .. } | Fault::Restart { .. } | Fault::Join { .. } => return None,
            };
            (from < to).then(|| Band {
                kind: fault.kind_name(),
                label: crate::run::describe_fault(fault),
                from,
                to,
                nodes,
                other,
            })
        })
        .collect();
    // A later skew of the same node ends the earlier one.
    for i in 0..out.len() {
        if out[i].kind != "clock-skew" {
            continue;
        }
        let next = out[i + 1..]
            .iter()
            .find(|b| b.kind == "clock-skew" && b.nodes == out[i].nodes)
            .map(|b| b.from);
        if let Some(next) = next {
            out[i].to = next;
        }
    }
    out.retain(|b| b.from < b.to);
    out
}

impl Picture {
    /// The picture of a checked run that was executed with `RunOptions::picture`.
    pub fn build(
        scenario: &Scenario,
        checked: &Checked,
        source: Source,
        gossip_arrows: bool,
    ) -> Picture {
        let world = &checked.execution.world;
        let record = &checked.execution.record;
        let ticks = checked.execution.ticks;
        let empty = Capture::default();
        let capture = world.trace().capture().unwrap_or(&empty);
        let nodes: Vec<u8> = scenario.node_ids().iter().map(|n| n.0).collect();
        let lane = |n: u8| nodes.iter().position(|&m| m == n).unwrap_or(0);
        let mut keys: Interner<String> = Interner::default();
        let mut kinds: Interner<&'static str> = Interner::default();
        let mut ops = Ops::default();
        for op in &record.history {
            ops.id.push(op.id);
            ops.client.push(op.client);
            ops.node.push(op.coordinator);
            ops.kind.push(op_kind(&op.input));
            ops.key.push(keys.get(&op.input.key().to_string()));
            ops.value.push(op.input.written_value().map(str::to_string));
            ops.invoke.push(op.invoke.tick);
            ops.complete.push(
                op.complete
                    .map_or(-1, |c| i64::try_from(c.tick).unwrap_or(-1)),
            );
            ops.outcome.push(op.outcome);
            ops.reason.push(op.reason);
            ops.output.push(op.output.clone());
        }
        let tick_i64 = |t: Tick| i64::try_from(t).unwrap_or(i64::MAX);
        let mut messages = Messages::default();
        let mut density = vec![vec![0u32; usize::try_from(ticks).unwrap_or(0) + 1]; nodes.len()];
        for m in &capture.messages {
            if !gossip_arrows && DENSITY_KINDS.contains(&m.kind) {
                if let Some(count) =
                    density[lane(m.from.0)].get_mut(usize::try_from(m.sent).unwrap_or(usize::MAX))
                {
                    *count += 1;
                }
                continue;
            }
            messages.id.push(m.id);
            messages.sent.push(m.sent);
            messages.from.push(m.from.0);
            messages.to.push(m.to.0);
            messages.kind.push(kinds.get(&m.kind));
            let fate = match FATES.iter().position(|f| *f == m.fate).unwrap_or(0) {
                0 if m.delivered.is_empty() => {
                    if down_at_or_after(&capture.lives, m.to, m.sent) {
                        RECEIVER_DOWN
                    } else {
                        IN_FLIGHT_AT_END
                    }
                }
                fate => fate,
            };
            messages.fate.push(fate);
            messages
                .delivered
                .push(m.delivered.first().map_or(-1, |&t| tick_i64(t)));
            messages
                .duplicate
                .push(m.delivered.get(1).map_or(-1, |&t| tick_i64(t)));
            messages
                .op
                .push(m.op.map_or(-1, |op| i64::try_from(op).unwrap_or(-1)));
            messages.key.push(
                m.key
                    .as_ref()
                    .map_or(-1, |k| keys.get(&k.to_string()) as i64),
            );
        }
        let lives = capture
            .lives
            .iter()
            .map(|&(tick, node, life)| {
                let incarnation = match life {
                    Life::Start(i) => i64::from(i),
                    Life::Crash => -1,
                };
                (tick, node.0, incarnation)
            })
            .collect();
        let views = record
            .views
            .iter()
            .map(|v| (v.at.tick, v.node, v.member, v.added))
            .collect();
        let stored = record
            .stored
            .iter()
            .map(|s| (s.at.tick, s.node, keys.get(&s.key), s.value.clone()))
            .collect();
        let focus = checked
            .judgement
            .first()
            .map(|found| focus(found, &record.history, ticks));
        let meta = Meta {
            source,
            ticks,
            events: world.trace().events(),
            hash: format!("{:016x}", checked.trace_hash()),
            quiet_from: scenario.fault_phase_ticks,
            converged_at: record.converged_at,
            checked: checked
                .properties
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
            violations: checked
                .judgement
                .violations
                .iter()
                .map(|v| (v.property.name().to_string(), v.signature.clone()))
                .collect(),
            gossip_arrows,
        };
        let kinds = kinds.items;
        let mut picture = Picture {
            meta,
            ring: nodes
                .iter()
                .map(|&n| checker::ring::node_position(n))
                .collect(),
            nodes,
            lives,
            bands: bands(scenario, ticks),
            classes: kinds.iter().map(|k| class_of(k)).collect(),
            kinds,
            fates: FATES
                .iter()
                .map(|f| f.name())
                .chain(["receiver down", "in flight at the end"])
                .collect(),
            messages,
            density,
            key_positions: keys
                .items
                .iter()
                .map(|k| checker::ring::key_position(k))
                .collect(),
            keys: keys.items,
            ops,
            views,
            stored,
            focus,
            window: (0, ticks),
        };
        picture.window = super::svg::window(&picture);
        picture
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node::NodeId;

    #[test]
    fn a_message_is_lost_to_a_receiver_that_is_down_or_goes_down() {
        let n = NodeId(2);
        let lives = [
            (0, n, Life::Start(0)),
            (10, n, Life::Crash),
            (20, n, Life::Start(1)),
            (30, n, Life::Crash),
        ];
        assert!(down_at_or_after(&lives, n, 12), "down at send");
        assert!(down_at_or_after(&lives, n, 25), "crashes later");
        assert!(
            down_at_or_after(&lives, n, 31),
            "still down after the last crash"
        );
        assert!(!down_at_or_after(&lives[..3], n, 25), "up to the end");
        assert!(!down_at_or_after(&lives, NodeId(3), 5), "another node");
    }
}
