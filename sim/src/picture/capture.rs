//! What a picture needs from a run that the trace hash does not keep: every message with its
//! send and delivery ticks, the client operation it serves, and each node's starts and crashes.
//!
//! The trace feeds this while it hashes, so a run drawn as a picture is the same run, with the
//! same hash, as one replayed for its text. Messages are tied to operations causally: a message
//! sent while a node handles a client request, or a message that served an operation, serves
//! that operation too; a message sent on a timer serves none. That ties a coordinator's
//! requests, the replicas' replies and the agreement rounds they start to the operation without
//! a change to the node's messages.

use crate::net::SendFate;
use crate::trace::Event;
use node::{Message, NodeId, OpId, Tick};
use std::rc::Rc;

/// One message handed to the network.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// Trace id (the world's sequence number at the send).
    pub id: u64,
    /// When it was sent.
    pub sent: Tick,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// The message's type name.
    pub kind: &'static str,
    /// The key it is about, if it names one.
    pub key: Option<Rc<str>>,
    /// What the network did with it.
    pub fate: SendFate,
    /// Whether the network queued a duplicate.
    pub duplicated: bool,
    /// The client operation it serves.
    pub op: Option<OpId>,
    /// Every delivery (two for a delivered duplicate), in order.
    pub delivered: Vec<Tick>,
}

/// A node started (with its incarnation) or crashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Started, first time (incarnation 0) or again.
    Start(u32),
    /// Crashed.
    Crash,
}

/// The part of a run a picture draws, filled by the trace as events happen.
#[derive(Debug, Default)]
pub struct Capture {
    /// Messages, in send order (so in increasing id order).
    pub messages: Vec<SentMessage>,
    /// Starts and crashes, in order.
    pub lives: Vec<(Tick, NodeId, Life)>,
    /// The operation the node being stepped now is working for.
    cause: Option<OpId>,
}

/// The key a message is about, for filters.
fn message_key(message: &Message) -> Option<&Rc<str>> {
    match message {
        Message::KvRequest { request, .. } => Some(request.key()),
        Message::Forward { key, .. }
        | Message::Replicate { key, .. }
        | Message::Prepare { key, .. }
        | Message::Promise { key, .. }
        | Message::Accept { key, .. }
        | Message::Accepted { key, .. }
        | Message::Refuse { key, .. }
        | Message::Commit { key, .. } => Some(key),
        _ => None,
    }
}

impl Capture {
    /// The message with trace id `id`.
    fn message_mut(&mut self, id: u64) -> Option<&mut SentMessage> {
        let i = self.messages.binary_search_by_key(&id, |m| m.id).ok()?;
        self.messages.get_mut(i)
    }

    /// The node about to be stepped handles a timer: what it sends serves no operation.
    pub fn timer_step(&mut self) {
        self.cause = None;
    }

    /// Takes one event of the trace.
    pub fn record(&mut self, tick: Tick, event: &Event<'_>) {
        match event {
            Event::Start { node, incarnation } => {
                self.cause = None;
                self.lives.push((tick, *node, Life::Start(*incarnation)));
            }
            Event::Crash { node } => self.lives.push((tick, *node, Life::Crash)),
            Event::Invoke { op, .. } => self.cause = Some(*op),
            Event::Deliver { id, .. } => {
                self.cause = self.message_mut(*id).and_then(|m| {
                    m.delivered.push(tick);
                    m.op
                });
            }
            Event::Send {
                id,
                from,
                to,
                message,
                fate,
                duplicated,
            } => self.messages.push(SentMessage {
                id: *id,
                sent: tick,
                from: *from,
                to: *to,
                kind: message.type_name(),
                key: message_key(message).cloned(),
                fate: *fate,
                duplicated: *duplicated,
                op: self.cause,
                delivered: Vec::new(),
            }),
            Event::Fault { .. } | Event::Reply { .. } | Event::Observe { .. } => {}
        }
    }
}
