//! Network models: what happens to a message between `send` and delivery.

pub mod emulnet;
pub mod faulty;

use node::{Message, NodeId, Tick};

/// A message on its way, as a network model holds it.
///
/// The trace id and both endpoints share one word, written whole when the message is queued:
/// as three fields, the endpoints were two byte stores that the copy into a calendar bucket
/// read back as one 8-byte load, which the processor could not forward from the stores (about
/// 2% of a fuzz run's cycles waited on it). It also makes the record 8 bytes shorter.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// Payload.
    pub message: Message,
    /// `id << 16 | from << 8 | to`.
    head: u64,
}

impl InFlight {
    /// Message `id` (a trace id: below 2^48, as no run has that many events) from `from` to
    /// `to`.
    #[inline(always)]
    pub fn new(id: u64, from: NodeId, to: NodeId, message: Message) -> InFlight {
        debug_assert!(id < 1 << 48, "a trace id fits in 48 bits");
        InFlight {
            message,
            head: id << 16 | u64::from(from.0) << 8 | u64::from(to.0),
        }
    }

    /// Trace id of the send.
    pub fn id(&self) -> u64 {
        self.head >> 16
    }

    /// Sender.
    pub fn from(&self) -> NodeId {
        NodeId((self.head >> 8) as u8)
    }

    /// Receiver.
    pub fn to(&self) -> NodeId {
        NodeId(self.head as u8)
    }
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

/// What a network decided for one message before taking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// What becomes of the message.
    pub fate: SendFate,
    /// When it is delivered (when queued).
    deliver_at: Tick,
    /// When its duplicate is delivered, if the network makes one.
    copy_at: Option<Tick>,
}

impl Route {
    /// A message the network does not queue.
    fn dropped(fate: SendFate) -> Route {
        Route {
            fate,
            deliver_at: 0,
            copy_at: None,
        }
    }

    /// Whether the network also queues a duplicate.
    pub fn duplicated(&self) -> bool {
        self.copy_at.is_some()
    }
}

/// The network of a run.
#[derive(Debug)]
pub enum Network {
    /// The original EmulNet.
    Emulnet(Box<emulnet::EmulNet>),
    /// The fuzzing network (boxed like EmulNet: its queues and fault tallies are large, and a
    /// world moves its network once).
    Faulty(Box<faulty::FaultyNet>),
}

impl Network {
    /// Decides what becomes of `message`, sent on `from -> to` at `now`, without taking it,
    /// so that the send can be recorded from a borrow of the payload; then [`Network::take`]
    /// hands it over. Splitting the two saves a clone of every message sent.
    pub fn route(&mut self, now: Tick, from: NodeId, to: NodeId, message: &Message) -> Route {
        match self {
            Network::Emulnet(net) => Route::dropped(net.route(now, message)),
            Network::Faulty(net) => net.route(now, from, to),
        }
    }

    /// Queues message `id` from `from` to `to` as its route says (inlined, and given in
    /// parts rather than as an [`InFlight`]: see `FaultyNet::take`).
    #[inline(always)]
    pub fn take(&mut self, route: &Route, id: u64, from: NodeId, to: NodeId, message: Message) {
        if route.fate != SendFate::Queued {
            return;
        }
        match self {
            Network::Emulnet(net) => net.take(InFlight::new(id, from, to, message)),
            Network::Faulty(net) => net.take(route, id, from, to, message),
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
