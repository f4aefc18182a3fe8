//! The trace: every event of a run, folded into a hash and, when asked, kept as readable lines.

use crate::net::SendFate;
use crate::picture::capture::Capture;
use crate::trace_hash::TraceHasher;
use node::{ClientReply, Message, NodeId, Observation, OpId, Request, Tick};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

/// One event of a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// A node started (first start or restart).
    Start {
        /// Node.
        node: NodeId,
        /// Its incarnation.
        incarnation: u32,
    },
    /// A node crashed.
    Crash {
        /// Node.
        node: NodeId,
    },
    /// The environment changed (a fault was applied or healed).
    Fault {
        /// What happened, in words.
        what: &'a str,
    },
    /// A message was handed to the network.
    Send {
        /// Trace id of the message.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Payload.
        message: &'a Message,
        /// What the network did with it.
        fate: SendFate,
        /// Whether the network also queued a duplicate.
        duplicated: bool,
    },
    /// A message was delivered.
    Deliver {
        /// Trace id of the message.
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
    },
    /// A client invoked an operation at a coordinator.
    Invoke {
        /// Operation id.
        op: OpId,
        /// Coordinator.
        node: NodeId,
        /// Request.
        request: &'a Request,
    },
    /// A coordinator answered a client.
    Reply {
        /// Coordinator.
        node: NodeId,
        /// Reply.
        reply: &'a ClientReply,
    },
    /// A node reported an observation.
    Observe {
        /// Node.
        node: NodeId,
        /// Observation.
        observation: &'a Observation,
    },
}

/// An event's kind and small fields in one word: the kind in the low byte, then up to three
/// bytes-wide fields from bit 8 on (the rest of the word is 0).
fn packed(kind: u8, fields: [u8; 3]) -> u64 {
    u64::from_le_bytes([kind, fields[0], fields[1], fields[2], 0, 0, 0, 0])
}

/// Written by hand, not derived, so that the two events of each message (most of a run's
/// events) take few words of the hash: a send is one word packing its kind, endpoints, fate and
/// duplicate flag, then its id and the message; a delivery one packed word and the id. Each
/// variant starts with a word naming its kind, so no two variants hash alike.
impl Hash for Event<'_> {
    /// Inlined, so that where an event is recorded (its variant known there) a send or a
    /// delivery is hashed from the values at hand: called, the function read back fields the
    /// caller had just written byte by byte, in wider loads that stall on the stores, which was
    /// most of its cost. The other variants stay one call away.
    #[inline(always)]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Event::Send {
                id,
                from,
                to,
                message,
                fate,
                duplicated,
            } => {
                let fate_and_copy = (*fate as u8) << 1 | u8::from(*duplicated);
                state.write_u64(packed(3, [from.0, to.0, fate_and_copy]));
                state.write_u64(*id);
                message.hash(state);
            }
            Event::Deliver { id, from, to } => {
                state.write_u64(packed(4, [from.0, to.0, 0]));
                state.write_u64(*id);
            }
            _ => self.hash_rare(state),
        }
    }
}

impl Event<'_> {
    /// The hash of the events that are not a message's ([`Hash`] for the rest).
    #[inline(never)]
    fn hash_rare<H: Hasher>(&self, state: &mut H) {
        match self {
            Event::Start { node, incarnation } => {
                state.write_u64(packed(0, [node.0, 0, 0]));
                state.write_u32(*incarnation);
            }
            Event::Crash { node } => state.write_u64(packed(1, [node.0, 0, 0])),
            Event::Fault { what } => {
                state.write_u64(packed(2, [0; 3]));
                what.hash(state);
            }
            Event::Invoke { op, node, request } => {
                state.write_u64(packed(5, [node.0, 0, 0]));
                state.write_u64(*op);
                request.hash(state);
            }
            Event::Reply { node, reply } => {
                state.write_u64(packed(6, [node.0, 0, 0]));
                reply.hash(state);
            }
            Event::Observe { node, observation } => {
                state.write_u64(packed(7, [node.0, 0, 0]));
                observation.hash(state);
            }
            Event::Send { .. } | Event::Deliver { .. } => unreachable!("hashed inline"),
        }
    }
}

impl Event<'_> {
    /// Whether the short trace shows this event (message traffic is only in the full trace).
    fn in_short_trace(&self) -> bool {
        match self {
            Event::Send { .. } | Event::Deliver { .. } => false,
            Event::Observe { observation, .. } => !matches!(
                observation,
                Observation::ReplicaStored { .. }
                    | Observation::HandedOver { .. }
                    | Observation::WriteForwarded { .. }
                    | Observation::StoreOp { .. }
                    | Observation::BallotConflict { .. }
                    | Observation::ReadRepair { .. }
                    | Observation::EpochRefused { .. }
                    | Observation::NotRecovered { .. }
                    | Observation::Voted { .. }
                    | Observation::Decided { .. }
                    | Observation::WriteRouted { .. }
            ),
            _ => true,
        }
    }

    fn render(&self, tick: Tick, out: &mut String) {
        let _ = write!(out, "[{tick:>5}] ");
        let _ = match self {
            Event::Start { node, incarnation } => {
                write!(out, "n{node} start incarnation={incarnation}")
            }
            Event::Crash { node } => write!(out, "n{node} crash"),
            Event::Fault { what } => write!(out, "fault {what}"),
            Event::Send {
                id,
                from,
                to,
                message,
                fate,
                duplicated,
            } => write!(
                out,
                "n{from} -> n{to} #{id} {} {}{}",
                message.type_name(),
                fate.name(),
                if *duplicated { " +dup" } else { "" }
            ),
            Event::Deliver { id, from, to } => write!(out, "n{to} <- n{from} #{id}"),
            Event::Invoke { op, node, request } => {
                write!(out, "n{node} invoke op{op} {}", describe_request(request))
            }
            Event::Reply { node, reply } => write!(
                out,
                "n{node} reply op{} {} {:?}{}",
                reply.op,
                if reply.success { "ok" } else { "fail" },
                reply.reason,
                reply
                    .value
                    .as_ref()
                    .map(|v| format!(" value={v}"))
                    .unwrap_or_default()
            ),
            Event::Observe { node, observation } => {
                write!(out, "n{node} {}", describe_observation(observation))
            }
        };
    }
}

/// A request in a few words, e.g. `update k3=v17`.
pub fn describe_request(request: &Request) -> String {
    match request {
        Request::Create { key, value } => format!("create {key}={value}"),
        Request::Read { key } => format!("read {key}"),
        Request::Update { key, value } => format!("update {key}={value}"),
        Request::Delete { key } => format!("delete {key}"),
    }
}

fn describe_observation(observation: &Observation) -> String {
    match observation {
        Observation::MemberAdded { member } => format!("member-added n{member}"),
        Observation::MemberRemoved { member } => format!("member-removed n{member}"),
        Observation::MemberSuspected { member } => format!("suspects n{member}"),
        Observation::SuspicionRefuted { member } => format!("refuted-suspicion n{member}"),
        Observation::MemberRejoined {
            member,
            incarnation,
        } => {
            format!("member-rejoined n{member} incarnation={incarnation}")
        }
        Observation::StoreOp {
            role,
            kind,
            txn,
            key,
            value,
            success,
        } => format!(
            "{} {} {} txn={txn} key={key}{}",
            role.name(),
            kind.name(),
            if *success { "success" } else { "fail" },
            value
                .as_ref()
                .map(|v| format!(" value={v}"))
                .unwrap_or_default()
        ),
        Observation::ReplicaStored { key, value } => match value {
            Some(v) => format!("stored {key}={v}"),
            None => format!("dropped {key}"),
        },
        Observation::HandedOver { key, to } => format!("handover {key} -> n{to}"),
        Observation::BallotConflict { key } => format!("ballot-conflict {key}"),
        Observation::ReadRepair { key, ballot, seats } => format!(
            "read-repair {key} {} seats={}",
            describe_ballot(ballot),
            describe_nodes(seats)
        ),
        Observation::EpochRefused { range, epoch } => {
            format!("epoch-refused range{} epoch={epoch}", range.0)
        }
        Observation::NotRecovered { range, epoch } => {
            format!("not-recovered range{} epoch={epoch}", range.0)
        }
        Observation::RangeRecovered { range, epoch } => {
            format!("range-recovered range{} epoch={epoch}", range.0)
        }
        Observation::HandoverDone { range, epoch } => {
            format!("handover-done range{} epoch={epoch}", range.0)
        }
        Observation::WriteForwarded {
            key,
            to,
            coordinator,
            txn,
        } => format!("forward {key} -> n{to} (n{coordinator} transID={txn})"),
        Observation::WriteRouted { key, to, txn } => {
            format!("route {key} transID={txn} -> {}", describe_nodes(to))
        }
        Observation::Voted { key, ballot } => format!("voted {key} {}", describe_ballot(ballot)),
        Observation::Decided { key, ballot, seats } => format!(
            "decided {key} {} seats={}",
            describe_ballot(ballot),
            describe_nodes(seats)
        ),
    }
}

/// Nodes as `n1,n4,n7`.
fn describe_nodes(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| format!("n{n}")).collect();
    names.join(",")
}

/// A ballot in a few words: `e2.r5.n3.i1` (epoch, round, proposer, its incarnation).
fn describe_ballot(ballot: &node::agreement::Ballot) -> String {
    format!(
        "e{}.r{}.n{}.i{}",
        ballot.epoch, ballot.round, ballot.node, ballot.incarnation
    )
}

/// How much of the trace to keep as lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceLevel {
    /// Only the hash (fuzzing).
    HashOnly,
    /// Lines for process, client and membership events.
    Short,
    /// Lines for every event, messages included.
    Full,
}

/// The running trace of a world.
#[derive(Debug)]
pub struct Trace {
    hasher: TraceHasher,
    level: TraceLevel,
    lines: Vec<String>,
    events: u64,
    capture: Option<Box<Capture>>,
}

impl Trace {
    /// An empty trace keeping lines at `level`.
    pub fn new(level: TraceLevel) -> Trace {
        Trace {
            hasher: TraceHasher::default(),
            level,
            lines: Vec::new(),
            events: 0,
            capture: None,
        }
    }

    /// Folds one event at `tick` into the trace. Inlined into each place that records (this
    /// runs for every event of every run), so that a run that keeps only the hash pays no call
    /// into here and no test of what to keep beyond one branch; keeping a line or a picture is
    /// the out-of-line rest. (The event's `Hash` is inlined too for a message's send and
    /// delivery; the other events' is a call.)
    #[inline(always)]
    pub fn record(&mut self, tick: Tick, event: &Event<'_>) {
        tick.hash(&mut self.hasher);
        event.hash(&mut self.hasher);
        self.events += 1;
        if self.capture.is_some() || self.level != TraceLevel::HashOnly {
            self.keep(tick, event);
        }
    }

    /// What [`Trace::record`] keeps beyond the hash: the event for a picture, and its line.
    #[cold]
    #[inline(never)]
    fn keep(&mut self, tick: Tick, event: &Event<'_>) {
        if let Some(capture) = self.capture.as_mut() {
            capture.record(tick, event);
        }
        let keep = match self.level {
            TraceLevel::HashOnly => false,
            TraceLevel::Short => event.in_short_trace(),
            TraceLevel::Full => true,
        };
        if keep {
            let mut line = String::new();
            event.render(tick, &mut line);
            self.lines.push(line);
        }
    }

    /// Keeps, from now on, what a picture of the run draws (it does not change the hash).
    pub fn capture_picture(&mut self) {
        self.capture.get_or_insert_with(Box::default);
    }

    /// The node about to be stepped handles a timer (for tying messages to operations).
    pub fn timer_step(&mut self) {
        if let Some(capture) = self.capture.as_mut() {
            capture.timer_step();
        }
    }

    /// What was kept for a picture, if asked for.
    pub fn capture(&self) -> Option<&Capture> {
        self.capture.as_deref()
    }

    /// The hash of every event so far.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    /// How many events were recorded.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The kept lines.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(event: &Event<'_>) -> u64 {
        let mut trace = Trace::new(TraceLevel::HashOnly);
        trace.record(7, event);
        trace.hash()
    }

    #[test]
    fn every_field_of_a_message_event_reaches_the_packed_hash() {
        let message = Message::JoinRequest {
            member: node::Digest {
                id: NodeId(2),
                incarnation: 0,
                heartbeat: 1,
            },
        };
        let other = Message::JoinRequest {
            member: node::Digest {
                id: NodeId(2),
                incarnation: 0,
                heartbeat: 2,
            },
        };
        let send = |id, from, to, message, fate, duplicated| Event::Send {
            id,
            from: NodeId(from),
            to: NodeId(to),
            message,
            fate,
            duplicated,
        };
        let base = send(1, 2, 3, &message, SendFate::Queued, false);
        let variants = [
            send(9, 2, 3, &message, SendFate::Queued, false),
            send(1, 4, 3, &message, SendFate::Queued, false),
            send(1, 2, 4, &message, SendFate::Queued, false),
            send(1, 2, 3, &other, SendFate::Queued, false),
            send(1, 2, 3, &message, SendFate::Lost, false),
            send(1, 2, 3, &message, SendFate::TooLarge, false),
            send(1, 2, 3, &message, SendFate::Queued, true),
            Event::Deliver {
                id: 1,
                from: NodeId(2),
                to: NodeId(3),
            },
        ];
        let mut seen = vec![hash_of(&base)];
        for event in &variants {
            let h = hash_of(event);
            assert!(!seen.contains(&h), "{event:?}");
            seen.push(h);
        }
        let deliver = |id, from, to| {
            hash_of(&Event::Deliver {
                id,
                from: NodeId(from),
                to: NodeId(to),
            })
        };
        // A heartbeat table reaches the hash through its fingerprint: gossip of two tables
        // that differ in one heartbeat hashes apart.
        let table = |heartbeat| Message::Gossip {
            members: node::Table::new(&[node::Digest {
                id: NodeId(2),
                incarnation: 0,
                heartbeat,
            }]),
        };
        let (older, newer) = (table(1), table(2));
        assert_ne!(
            hash_of(&send(1, 2, 3, &older, SendFate::Queued, false)),
            hash_of(&send(1, 2, 3, &newer, SendFate::Queued, false))
        );
        assert_ne!(deliver(1, 2, 3), deliver(1, 3, 2));
        assert_ne!(deliver(1, 2, 3), deliver(2, 2, 3));
        assert_ne!(
            hash_of(&Event::Crash { node: NodeId(2) }),
            hash_of(&Event::Start {
                node: NodeId(2),
                incarnation: 0
            })
        );
    }
}
