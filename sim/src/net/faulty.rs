//! The fuzzing network: per-message delay, loss, duplication, partitions and clogged links.
//!
//! Reordering is not a separate knob: it follows from per-message delays. Every draw is integer
//! arithmetic on the network's own random stream. Messages are held in one queue ordered by
//! (delivery tick, send sequence), so delivery order is fully determined by the seed.

use super::{InFlight, SendFate};
use crate::streams::{stream, Consumer};
use node::random::{between, chance_ppm};
use node::{NodeId, Tick};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How long messages take and how often they go wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkModel {
    /// Fewest ticks a message takes (at least 1).
    pub delay_ticks_min: Tick,
    /// Most ticks a message usually takes.
    pub delay_ticks_max: Tick,
    /// Parts per million of messages that take a long-tail delay instead.
    pub tail_ppm: u32,
    /// Most ticks a long-tail message takes.
    pub tail_delay_ticks_max: Tick,
    /// Parts per million of messages lost.
    pub loss_ppm: u32,
    /// Parts per million of messages delivered twice (the copy with its own delay).
    pub duplicate_ppm: u32,
}

impl LinkModel {
    /// Messages all take `delay_ticks` and nothing goes wrong.
    pub fn constant(delay_ticks: Tick) -> LinkModel {
        LinkModel {
            delay_ticks_min: delay_ticks,
            delay_ticks_max: delay_ticks,
            tail_ppm: 0,
            tail_delay_ticks_max: delay_ticks,
            loss_ppm: 0,
            duplicate_ppm: 0,
        }
    }

    /// Whether messages are lossless, unduplicated and all take one constant delay.
    pub fn is_clean(&self) -> bool {
        self.loss_ppm == 0
            && self.duplicate_ppm == 0
            && self.delay_ticks_min == self.delay_ticks_max
            && self.tail_ppm == 0
    }

    /// The longest any message can take.
    pub fn delay_ticks_bound(&self) -> Tick {
        if self.tail_ppm > 0 {
            self.delay_ticks_max.max(self.tail_delay_ticks_max)
        } else {
            self.delay_ticks_max
        }
    }

    fn draw_delay(&self, rng: &mut ChaCha8Rng) -> Tick {
        let min = self.delay_ticks_min.max(1);
        if chance_ppm(rng, self.tail_ppm) {
            between(
                rng,
                self.delay_ticks_max.max(min),
                self.tail_delay_ticks_max.max(min),
            )
        } else {
            between(rng, min, self.delay_ticks_max.max(min))
        }
    }
}

/// A queued message's place in its receiver's queue: (delivery tick, send order, slab slot).
/// Kept small so heap operations move 24 bytes, not whole messages.
type Slot = (Tick, u64, u32);

/// The fuzzing network.
#[derive(Debug)]
pub struct FaultyNet {
    model: LinkModel,
    /// One random stream per directed link, made on first use, so that changing the traffic
    /// on one link (say, while shrinking) leaves every other link's draws as they were.
    links: Vec<Option<ChaCha8Rng>>,
    seed: u64,
    /// One queue per receiver, ordered by (delivery tick, send order), so a delivery pops
    /// straight into the receiver's inbox.
    queues: Vec<BinaryHeap<Reverse<Slot>>>,
    /// The messages the queues point at, and the free slots.
    slab: Vec<Option<InFlight>>,
    free: Vec<u32>,
    order: u64,
    /// Node ids are below this; the link tables are `ids * ids`, sized by the cluster.
    ids: usize,
    /// `blocked[from * ids + to]`: messages on the link are lost (partitions, one-way or not).
    blocked: Vec<bool>,
    /// `clogged_until[from * ids + to]`: messages on the link wait until this tick.
    clogged_until: Vec<Tick>,
}

impl FaultyNet {
    /// A network between nodes with ids up to `max_id`, with the given link model, drawing
    /// from one stream per link of the run with root seed `seed`.
    pub fn new(model: LinkModel, max_id: NodeId, seed: u64) -> FaultyNet {
        let ids = usize::from(max_id.0) + 1;
        FaultyNet {
            model,
            links: vec![None; ids * ids],
            seed,
            queues: (0..ids).map(|_| BinaryHeap::new()).collect(),
            slab: Vec::new(),
            free: Vec::new(),
            order: 0,
            ids,
            blocked: vec![false; ids * ids],
            clogged_until: vec![0; ids * ids],
        }
    }

    /// Replaces the link model (the quiet phase switches to a clean one).
    pub fn set_model(&mut self, model: LinkModel) {
        self.model = model;
    }

    fn link(&self, from: NodeId, to: NodeId) -> usize {
        usize::from(from.0) * self.ids + usize::from(to.0)
    }

    /// Blocks (`true`) or unblocks the directed link `from -> to`.
    pub fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        let link = self.link(from, to);
        self.blocked[link] = blocked;
    }

    /// Holds messages on `from -> to` until `until`.
    pub fn clog(&mut self, from: NodeId, to: NodeId, until: Tick) {
        let link = self.link(from, to);
        let slot = &mut self.clogged_until[link];
        *slot = (*slot).max(until);
    }

    /// Lifts every partition and clog.
    pub fn heal_all(&mut self) {
        self.blocked.iter_mut().for_each(|b| *b = false);
        self.clogged_until.iter_mut().for_each(|c| *c = 0);
    }

    /// Hands a message to the network. Returns its fate and whether a duplicate was queued too.
    pub fn send(&mut self, now: Tick, msg: InFlight) -> (SendFate, bool) {
        let link = self.link(msg.from, msg.to);
        if self.blocked[link] {
            return (SendFate::Partitioned, false);
        }
        let (from, to) = (msg.from, msg.to);
        let seed = self.seed;
        let rng = self.links[link].get_or_insert_with(|| stream(seed, Consumer::Link(from, to)));
        if chance_ppm(rng, self.model.loss_ppm) {
            return (SendFate::Lost, false);
        }
        let duplicated = chance_ppm(rng, self.model.duplicate_ppm);
        if duplicated {
            let copy = msg.clone();
            self.enqueue(now, link, copy);
        }
        self.enqueue(now, link, msg);
        (SendFate::Queued, duplicated)
    }

    fn enqueue(&mut self, now: Tick, link: usize, msg: InFlight) {
        let rng = self.links[link]
            .as_mut()
            .expect("send made the link's stream");
        let at = (now + self.model.draw_delay(rng)).max(self.clogged_until[link]);
        self.order += 1;
        let to = usize::from(msg.to.0);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(msg);
                slot
            }
            None => {
                self.slab.push(Some(msg));
                (self.slab.len() - 1) as u32
            }
        };
        self.queues[to].push(Reverse((at, self.order, slot)));
    }

    /// Moves every message for `to` due at or before `now` into `inbox`, oldest first.
    pub fn collect(&mut self, now: Tick, to: NodeId, inbox: &mut Vec<InFlight>) {
        let queue = &mut self.queues[usize::from(to.0)];
        while queue.peek().is_some_and(|q| q.0 .0 <= now) {
            let Reverse((_, _, slot)) = queue.pop().expect("peeked");
            inbox.push(
                self.slab[slot as usize]
                    .take()
                    .expect("a queued slot holds a message"),
            );
            self.free.push(slot);
        }
    }

    /// Drops every message for `to` due at or before `now`: it is down (crashed or not started)
    /// and the messages reach nobody.
    pub fn discard_due(&mut self, now: Tick, to: NodeId) {
        let queue = &mut self.queues[usize::from(to.0)];
        while queue.peek().is_some_and(|q| q.0 .0 <= now) {
            let Reverse((_, _, slot)) = queue.pop().expect("peeked");
            self.slab[slot as usize] = None;
            self.free.push(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node::{Digest, Message};

    fn msg(id: u64, from: u8, to: u8) -> InFlight {
        let members = std::rc::Rc::from(vec![Digest {
            id: NodeId(from),
            incarnation: 0,
            heartbeat: id,
        }]);
        InFlight {
            id,
            from: NodeId(from),
            to: NodeId(to),
            message: Message::Gossip { members },
        }
    }

    fn net(model: LinkModel) -> FaultyNet {
        FaultyNet::new(model, NodeId(9), 1)
    }

    #[test]
    fn constant_delay_delivers_in_send_order() {
        let mut n = net(LinkModel::constant(2));
        for id in 0..5 {
            assert_eq!(n.send(10, msg(id, 1, 2)).0, SendFate::Queued);
        }
        let mut inbox = Vec::new();
        n.collect(11, NodeId(2), &mut inbox);
        assert!(inbox.is_empty());
        n.collect(12, NodeId(2), &mut inbox);
        assert_eq!(
            inbox.iter().map(|m| m.id).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn jitter_reorders_and_loss_and_duplication_happen_at_their_rates() {
        let model = LinkModel {
            delay_ticks_min: 1,
            delay_ticks_max: 5,
            tail_ppm: 0,
            tail_delay_ticks_max: 5,
            loss_ppm: 100_000,
            duplicate_ppm: 100_000,
        };
        let mut n = net(model);
        let (mut lost, mut dup) = (0, 0);
        for id in 0..10_000 {
            match n.send(0, msg(id, 1, 2)) {
                (SendFate::Lost, _) => lost += 1,
                (_, true) => dup += 1,
                _ => {}
            }
        }
        assert!((800..1200).contains(&lost), "{lost}");
        assert!((700..1100).contains(&dup), "{dup}");
        let mut inbox = Vec::new();
        for t in 1..=5 {
            n.collect(t, NodeId(2), &mut inbox);
        }
        assert_eq!(inbox.len(), 10_000 - lost + dup);
        assert!(
            inbox.windows(2).any(|w| w[0].id > w[1].id),
            "jitter reorders"
        );
    }

    #[test]
    fn partitions_are_directed_and_clogs_hold_messages() {
        let mut n = net(LinkModel::constant(1));
        n.set_blocked(NodeId(1), NodeId(2), true);
        assert_eq!(n.send(0, msg(1, 1, 2)).0, SendFate::Partitioned);
        assert_eq!(n.send(0, msg(2, 2, 1)).0, SendFate::Queued, "one-way");
        n.set_blocked(NodeId(1), NodeId(2), false);
        n.clog(NodeId(1), NodeId(2), 10);
        n.send(0, msg(3, 1, 2));
        let mut inbox = Vec::new();
        for t in 1..10 {
            n.collect(t, NodeId(2), &mut inbox);
        }
        assert!(inbox.is_empty());
        n.collect(10, NodeId(2), &mut inbox);
        assert_eq!(inbox.len(), 1);
    }

    #[test]
    fn messages_due_for_a_node_that_is_down_are_lost() {
        let mut n = net(LinkModel::constant(1));
        n.send(0, msg(1, 1, 2));
        n.send(0, msg(2, 1, 3));
        let mut inbox = Vec::new();
        n.collect(1, NodeId(3), &mut inbox);
        n.discard_due(1, NodeId(2));
        n.collect(2, NodeId(2), &mut inbox);
        assert_eq!(inbox.iter().map(|m| m.id).collect::<Vec<_>>(), [2]);
    }
}
