//! The fuzzing network: per-message delay, loss, duplication, partitions and clogged links.
//!
//! Reordering is not a separate knob: it follows from per-message delays. Every draw is integer
//! arithmetic on the network's own random stream. Each receiver's messages are held in
//! (delivery tick, send sequence) order, so delivery order is fully determined by the seed.

use super::{InFlight, Route, SendFate};
use crate::streams::{stream, Consumer};
use node::random::{between, chance_ppm};
use node::{Message, NodeId, Tick};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;

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

    /// The usual delays' range `(lo, hi)`, as drawn (at least one tick).
    fn usual_delays(&self) -> (Tick, Tick) {
        let min = self.delay_ticks_min.max(1);
        (min, self.delay_ticks_max.max(min))
    }

    /// Parts per million of usual delays longer than the shortest: `(hi - lo) / (hi - lo + 1)`
    /// for a uniform draw in `lo..=hi`, rounded down (so `faults-realized` asks no more than
    /// the model promises).
    pub fn spread_ppm(&self) -> u32 {
        let (lo, hi) = self.usual_delays();
        let spread = u128::from(hi - lo);
        u32::try_from(spread * 1_000_000 / (spread + 1)).expect("below a million")
    }

    /// Draws a delay and tallies what it was.
    #[inline]
    fn draw_delay(&self, rng: &mut ChaCha8Rng, tally: &mut Tally) -> Tick {
        let (lo, hi) = self.usual_delays();
        tally.delays += 1;
        if chance_ppm(rng, self.tail_ppm) {
            tally.tails += 1;
            between(rng, hi, self.tail_delay_ticks_max.max(lo))
        } else {
            let delay = between(rng, lo, hi);
            tally.usual_delays += 1;
            tally.spread_delays += u64::from(delay > lo);
            delay
        }
    }
}

/// What the network drew under one link model: how many messages could have suffered each
/// random fault and how many did, for `faults-realized`. Counting only: it changes no draw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Loss draws: sends on links that are not partitioned.
    pub sends: u64,
    /// Of those, lost.
    pub lost: u64,
    /// Duplication draws: sends not lost.
    pub kept: u64,
    /// Of those, duplicated.
    pub duplicated: u64,
    /// Delays drawn (a message's and its copy's).
    pub delays: u64,
    /// Of those, long-tail delays.
    pub tails: u64,
    /// Usual (not long-tail) delays drawn.
    pub usual_delays: u64,
    /// Of those, longer than the shortest usual delay.
    pub spread_delays: u64,
}

/// Ticks ahead of the last delivered tick that a receiver's calendar holds in buckets; later
/// messages (clogs, and tails beyond what the fuzz profiles draw: at most 17 ticks) wait in its
/// overflow map. A power of two, so the bucket of a tick is a mask away; no larger, because
/// every bucket grows its own buffer in a run's first pass over the window.
const CALENDAR_TICKS: usize = 32;

/// One receiver's queue: a bucket per tick for the next [`CALENDAR_TICKS`] ticks, each in send
/// order (messages are appended as they are sent), and an overflow map beyond.
///
/// Delivery order is (delivery tick, send order), exactly what a priority queue on that pair
/// gives, without sifting: a message is moved once into its bucket and once into the inbox.
#[derive(Debug)]
struct Calendar {
    /// `buckets[t % CALENDAR_TICKS]` holds the messages due at tick `t`, for
    /// `drained < t <= drained + CALENDAR_TICKS`.
    buckets: Vec<Vec<InFlight>>,
    /// Messages due after the window, by (delivery tick, send order).
    overflow: BTreeMap<(Tick, u64), InFlight>,
    /// Every message due at or before this tick has left the calendar.
    drained: Tick,
}

/// Most empty buckets a thread keeps between runs: every receiver of the largest fuzz cluster
/// (16 nodes) with headroom, so a campaign worker's runs grow none after its first few.
const SPARE_BUCKETS_MAX: usize = 32 * CALENDAR_TICKS;

thread_local! {
    /// Empty buckets left by the calendars of finished runs on this thread, kept for their
    /// capacity: a run's buckets otherwise grew from nothing (about 2% of a fuzz run went to
    /// growing them). Only empty buffers are kept, so what a run does cannot depend on them.
    static SPARE_BUCKETS: RefCell<Vec<Vec<InFlight>>> = const { RefCell::new(Vec::new()) };
}

impl Calendar {
    fn new() -> Calendar {
        let buckets = SPARE_BUCKETS.with_borrow_mut(|spare| {
            let keep = spare.len().saturating_sub(CALENDAR_TICKS);
            let mut buckets = spare.split_off(keep);
            buckets.resize_with(CALENDAR_TICKS, Vec::new);
            buckets
        });
        Calendar {
            buckets,
            overflow: BTreeMap::new(),
            drained: 0,
        }
    }

    fn bucket(at: Tick) -> usize {
        (at % CALENDAR_TICKS as Tick) as usize
    }

    /// Queues a message due at `at` (after every tick drained so far) as the `order`th sent.
    /// Inlined, so a message moves from the sender's outbox straight into its bucket instead
    /// of being copied into each call's arguments on the way (an [`InFlight`] is 80 bytes).
    #[inline(always)]
    fn push(&mut self, at: Tick, order: u64, msg: InFlight) {
        debug_assert!(
            at > self.drained,
            "a message is due after the last delivered tick"
        );
        if at - self.drained <= CALENDAR_TICKS as Tick {
            self.buckets[Self::bucket(at)].push(msg);
        } else {
            self.overflow.insert((at, order), msg);
        }
    }

    /// Hands every message due at or before `now` to `take`, in delivery order.
    fn drain(&mut self, now: Tick, mut take: impl FnMut(&mut Vec<InFlight>)) {
        while self.drained < now {
            let tick = self.drained + 1;
            take(&mut self.buckets[Self::bucket(tick)]);
            self.drained = tick;
            // The window moved by one tick: the overflow that now fits goes to its bucket, in
            // send order, before any later send can reach that bucket.
            let horizon = tick + CALENDAR_TICKS as Tick;
            while let Some(entry) = self.overflow.first_entry() {
                if entry.key().0 > horizon {
                    break;
                }
                let at = entry.key().0;
                let msg = entry.remove();
                self.buckets[Self::bucket(at)].push(msg);
            }
        }
    }
}

impl Drop for Calendar {
    /// Leaves the buckets, emptied, for the next run's calendars on this thread.
    fn drop(&mut self) {
        let buckets = std::mem::take(&mut self.buckets);
        // A thread that is going away has no next run (and no pool to keep them in).
        let _ = SPARE_BUCKETS.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            for mut bucket in buckets {
                if spare.len() >= SPARE_BUCKETS_MAX {
                    break;
                }
                bucket.clear();
                spare.push(bucket);
            }
        });
    }
}

/// The fuzzing network.
#[derive(Debug)]
pub struct FaultyNet {
    model: LinkModel,
    /// One random stream per directed link, made on first use, so that changing the traffic
    /// on one link (say, while shrinking) leaves every other link's draws as they were.
    links: Vec<Option<ChaCha8Rng>>,
    seed: u64,
    /// One queue per receiver, in delivery order, so a delivery moves straight into the
    /// receiver's inbox.
    queues: Vec<Calendar>,
    order: u64,
    /// Node ids are below this; the link tables are `ids * ids`, sized by the cluster.
    ids: usize,
    /// `blocked[from * ids + to]`: messages on the link are lost (partitions, one-way or not).
    blocked: Vec<bool>,
    /// `clogged_until[from * ids + to]`: messages on the link wait until this tick.
    clogged_until: Vec<Tick>,
    /// What was drawn under the current model.
    tally: Tally,
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
            queues: (0..ids).map(|_| Calendar::new()).collect(),
            order: 0,
            ids,
            blocked: vec![false; ids * ids],
            clogged_until: vec![0; ids * ids],
            tally: Tally::default(),
        }
    }

    /// Replaces the link model (the quiet phase switches to a clean one); returns what was
    /// drawn under the model it replaces, and starts a fresh tally.
    pub fn set_model(&mut self, model: LinkModel) -> Tally {
        self.model = model;
        std::mem::take(&mut self.tally)
    }

    /// What was drawn under the current model so far.
    pub fn tally(&self) -> Tally {
        self.tally
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

    /// Decides what becomes of a message on `from -> to` sent at `now`, drawing from the
    /// link's stream in a fixed order (loss, duplication, the copy's delay, the delay), without
    /// taking the message: the caller records the send, then hands it over with [`Self::take`].
    pub fn route(&mut self, now: Tick, from: NodeId, to: NodeId) -> Route {
        let link = self.link(from, to);
        if self.blocked[link] {
            return Route::dropped(SendFate::Partitioned);
        }
        let seed = self.seed;
        let model = &self.model;
        let tally = &mut self.tally;
        let rng = self.links[link].get_or_insert_with(|| stream(seed, Consumer::Link(from, to)));
        tally.sends += 1;
        if chance_ppm(rng, model.loss_ppm) {
            tally.lost += 1;
            return Route::dropped(SendFate::Lost);
        }
        let duplicated = chance_ppm(rng, model.duplicate_ppm);
        tally.kept += 1;
        tally.duplicated += u64::from(duplicated);
        let clogged_until = self.clogged_until[link];
        let mut deliver_at = || (now + model.draw_delay(rng, tally)).max(clogged_until);
        let copy_at = duplicated.then(&mut deliver_at);
        Route {
            fate: SendFate::Queued,
            deliver_at: deliver_at(),
            copy_at,
        }
    }

    /// Queues message `id` as `route` (made for it by [`Self::route`]) says: the copy first,
    /// then the message; nothing when it was dropped. Inlined, and given the message's parts,
    /// so that the [`InFlight`] is put together where it is stored: a large value passed down
    /// whole was copied at every level on the way.
    #[inline(always)]
    pub fn take(&mut self, route: &Route, id: u64, from: NodeId, to: NodeId, message: Message) {
        if route.fate != SendFate::Queued {
            return;
        }
        let queue = &mut self.queues[usize::from(to.0)];
        if let Some(copy_at) = route.copy_at {
            self.order += 1;
            let copy = InFlight::new(id, from, to, message.clone());
            queue.push(copy_at, self.order, copy);
        }
        self.order += 1;
        queue.push(
            route.deliver_at,
            self.order,
            InFlight::new(id, from, to, message),
        );
    }

    /// Moves every message for `to` due at or before `now` into `inbox`, oldest first.
    pub fn collect(&mut self, now: Tick, to: NodeId, inbox: &mut Vec<InFlight>) {
        self.queues[usize::from(to.0)].drain(now, |due| {
            if inbox.is_empty() {
                // Hand the bucket over whole; the inbox's empty buffer becomes the bucket.
                std::mem::swap(inbox, due);
            } else {
                inbox.append(due);
            }
        });
    }

    /// Drops every message for `to` due at or before `now`: it is down (crashed or not started)
    /// and the messages reach nobody.
    pub fn discard_due(&mut self, now: Tick, to: NodeId) {
        self.queues[usize::from(to.0)].drain(now, Vec::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node::Digest;

    fn msg(id: u64, from: u8, to: u8) -> InFlight {
        let members = node::Table::from(vec![Digest {
            id: NodeId(from),
            incarnation: 0,
            heartbeat: id,
        }]);
        InFlight::new(id, NodeId(from), NodeId(to), Message::Gossip { members })
    }

    fn net(model: LinkModel) -> FaultyNet {
        FaultyNet::new(model, NodeId(9), 1)
    }

    /// Routes and takes a message, as the world does; returns its fate and whether a copy
    /// was queued too.
    fn send(n: &mut FaultyNet, now: Tick, msg: InFlight) -> (SendFate, bool) {
        let route = n.route(now, msg.from(), msg.to());
        n.take(&route, msg.id(), msg.from(), msg.to(), msg.message);
        (route.fate, route.duplicated())
    }

    #[test]
    fn constant_delay_delivers_in_send_order() {
        let mut n = net(LinkModel::constant(2));
        for id in 0..5 {
            assert_eq!(send(&mut n, 10, msg(id, 1, 2)).0, SendFate::Queued);
        }
        let mut inbox = Vec::new();
        n.collect(11, NodeId(2), &mut inbox);
        assert!(inbox.is_empty());
        n.collect(12, NodeId(2), &mut inbox);
        assert_eq!(
            inbox.iter().map(|m| m.id()).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
    }

    fn jitter_model() -> LinkModel {
        LinkModel {
            delay_ticks_min: 1,
            delay_ticks_max: 5,
            tail_ppm: 0,
            tail_delay_ticks_max: 5,
            loss_ppm: 100_000,
            duplicate_ppm: 100_000,
        }
    }

    #[test]
    fn jitter_reorders_and_loss_and_duplication_happen_at_their_rates() {
        let model = jitter_model();
        assert_eq!(
            model.spread_ppm(),
            800_000,
            "4 in 5 delays of 1..=5 exceed 1"
        );
        let mut n = net(model);
        let (mut lost, mut dup) = (0, 0);
        for id in 0..10_000 {
            match send(&mut n, 0, msg(id, 1, 2)) {
                (SendFate::Lost, _) => lost += 1,
                (_, true) => dup += 1,
                _ => {}
            }
        }
        assert!((800..1200).contains(&lost), "{lost}");
        assert!((700..1100).contains(&dup), "{dup}");
        let tally = n.tally();
        assert_eq!((tally.sends, tally.lost), (10_000, lost as u64));
        assert_eq!(
            (tally.kept, tally.duplicated),
            (10_000 - lost as u64, dup as u64)
        );
        assert_eq!(tally.delays, tally.kept + tally.duplicated);
        assert_eq!((tally.tails, tally.usual_delays), (0, tally.delays));
        let spread = tally.spread_delays * 1000 / tally.usual_delays;
        assert!((760..840).contains(&spread), "{spread}");
        assert_eq!(
            n.set_model(LinkModel::constant(1)),
            tally,
            "set_model hands the tally over"
        );
        assert_eq!(n.tally(), Tally::default());
        let mut inbox = Vec::new();
        for t in 1..=5 {
            n.collect(t, NodeId(2), &mut inbox);
        }
        assert_eq!(inbox.len(), 10_000 - lost + dup);
        assert!(
            inbox.windows(2).any(|w| w[0].id() > w[1].id()),
            "jitter reorders"
        );
    }

    #[test]
    fn partitions_are_directed_and_clogs_hold_messages() {
        let mut n = net(LinkModel::constant(1));
        n.set_blocked(NodeId(1), NodeId(2), true);
        assert_eq!(send(&mut n, 0, msg(1, 1, 2)).0, SendFate::Partitioned);
        assert_eq!(send(&mut n, 0, msg(2, 2, 1)).0, SendFate::Queued, "one-way");
        n.set_blocked(NodeId(1), NodeId(2), false);
        n.clog(NodeId(1), NodeId(2), 10);
        send(&mut n, 0, msg(3, 1, 2));
        let mut inbox = Vec::new();
        for t in 1..10 {
            n.collect(t, NodeId(2), &mut inbox);
        }
        assert!(inbox.is_empty());
        n.collect(10, NodeId(2), &mut inbox);
        assert_eq!(inbox.len(), 1);
    }

    /// The calendar delivers exactly what a priority queue on (delivery tick, send order)
    /// delivers, at the same ticks, also for delays far past its window (long tails, clogs) and
    /// when a receiver is drained after a gap of several ticks.
    #[test]
    fn calendar_matches_a_priority_queue_on_tick_and_send_order() {
        use rand_core::RngCore;
        let mut rng = stream(7, Consumer::Link(NodeId(1), NodeId(2)));
        let mut calendar = Calendar::new();
        let mut reference: BTreeMap<(Tick, u64), u64> = BTreeMap::new();
        let mut order = 0;
        let mut now = 0;
        while now < 2_000 {
            let step = 1 + rng.next_u64() % 3;
            now += step;
            let mut got = Vec::new();
            calendar.drain(now, |due| got.extend(due.drain(..).map(|m| m.id())));
            let due: Vec<(Tick, u64)> = reference.range(..(now + 1, 0)).map(|(k, _)| *k).collect();
            let want: Vec<u64> = due.iter().map(|k| reference.remove(k).unwrap()).collect();
            assert_eq!(got, want, "tick {now}");
            for _ in 0..rng.next_u64() % 4 {
                let delay = match rng.next_u64() % 10 {
                    0 => 1 + rng.next_u64() % (4 * CALENDAR_TICKS as u64),
                    _ => 1 + rng.next_u64() % 8,
                };
                order += 1;
                calendar.push(now + delay, order, msg(order, 1, 2));
                reference.insert((now + delay, order), order);
            }
        }
    }

    #[test]
    fn messages_due_for_a_node_that_is_down_are_lost() {
        let mut n = net(LinkModel::constant(1));
        send(&mut n, 0, msg(1, 1, 2));
        send(&mut n, 0, msg(2, 1, 3));
        let mut inbox = Vec::new();
        n.collect(1, NodeId(3), &mut inbox);
        n.discard_due(1, NodeId(2));
        n.collect(2, NodeId(2), &mut inbox);
        assert_eq!(inbox.iter().map(|m| m.id()).collect::<Vec<_>>(), [2]);
    }
}
