//! Network models: what happens to a message between `send` and delivery.

pub mod emulnet;
pub mod faulty;

use node::{Message, NodeId, Tick};

/// A message on its way, as a network model holds it.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// Trace id of the send.
    pub id: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Payload.
    pub message: Message,
}

/// What a network model did with a message handed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendFate {
    /// Queued for delivery.
    Queued,
    /// Lost by the loss model.
    Lost,
    /// Dropped by a partition of the link.
    Partitioned,
    /// EmulNet's shared buffer was full.
    BufferFull,
    /// EmulNet drops payloads of 3984 bytes or more.
    TooLarge,
}

impl SendFate {
    /// A short stable name for traces.
    pub fn name(self) -> &'static str {
        match self {
            SendFate::Queued => "sent",
            SendFate::Lost => "lost",
            SendFate::Partitioned => "partitioned",
            SendFate::BufferFull => "buffer-full",
            SendFate::TooLarge => "too-large",
        }
    }
}

/// The network of a run.
#[derive(Debug)]
pub enum Network {
    /// The original EmulNet.
    Emulnet(Box<emulnet::EmulNet>),
    /// The fuzzing network.
    Faulty(faulty::FaultyNet),
}

impl Network {
    /// Hands a message to the network at time `now`; says what became of it and whether the
    /// network also queued a duplicate.
    pub fn send(&mut self, now: Tick, msg: InFlight) -> (SendFate, bool) {
        match self {
            Network::Emulnet(net) => (net.send(now, msg), false),
            Network::Faulty(net) => net.send(now, msg),
        }
    }

    /// Drops what is due for a node that is not running. EmulNet keeps such messages in its
    /// buffer forever, as the original did; the faulty network loses them.
    pub fn discard_due(&mut self, now: Tick, to: NodeId) {
        if let Network::Faulty(net) = self {
            net.discard_due(now, to);
        }
    }

    /// Moves every message for `to` that is due at `now` into `inbox`, in delivery order.
    pub fn collect(&mut self, now: Tick, to: NodeId, inbox: &mut Vec<InFlight>) {
        match self {
            Network::Emulnet(net) => net.collect(now, to, inbox),
            Network::Faulty(net) => net.collect(now, to, inbox),
        }
    }
}
