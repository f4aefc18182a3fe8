//! The deterministic world: virtual time, nodes, the network, and the record of what happened.

use crate::net::{InFlight, Network};
use crate::recorder::{GossipSent, PhaseSend, PhaseSubject, Recorder};
use crate::streams::{stream, Consumer};
use crate::trace::{Event, Trace, TraceLevel};
use node::{
    Input, Message, Node, NodeId, Observation, OpId, Outbox, Outgoing, Params, Request, SyncDigest,
    Tick,
};
use rand_chacha::ChaCha8Rng;
use std::rc::Rc;

/// Where a node is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Waiting for its start tick.
    NotStarted,
    /// Running.
    Up,
    /// Crashed.
    Down,
}

/// One node and what the world keeps for it.
#[derive(Debug)]
pub struct NodeSlot {
    /// The node's id.
    pub id: NodeId,
    /// Its state.
    pub state: NodeState,
    /// The node itself.
    pub node: Node,
    /// When it starts for the first time.
    pub start_tick: Tick,
    /// The world tick at which it last started (first start or restart).
    pub up_since_tick: Tick,
    /// Clock rate in parts per thousand of world time (1000: no skew).
    pub rate_permille: u64,
    /// The node's own clock, in its ticks.
    pub local_now: Tick,
    /// The world tick and local tick at which the current rate took effect: the clock reads
    /// `anchor_local + (now - anchor_world) * rate / 1000`.
    anchor: (Tick, Tick),
    rng: ChaCha8Rng,
    inbox: Vec<InFlight>,
}

/// How to build a world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// Root seed of the run.
    pub seed: u64,
    /// Protocol parameters shared by every node.
    pub params: Params,
    /// The nodes, in index order, with their first start tick.
    pub nodes: Vec<(NodeId, Tick)>,
    /// How much of the trace to keep as lines.
    pub trace: TraceLevel,
}

/// The simulated world of one run.
#[derive(Debug)]
pub struct World {
    seed: u64,
    params: Rc<Params>,
    now: Tick,
    seq: u64,
    slots: Vec<NodeSlot>,
    index: Vec<Option<usize>>,
    net: Network,
    trace: Trace,
    recorder: Recorder,
    outbox: Outbox,
    inbox_scratch: Vec<InFlight>,
    /// The digest of the `Sync` being delivered, while its receiver steps: its answer is judged
    /// against it (for `sync-listing`).
    answering: Option<SyncDigest>,
    answered: Vec<OpId>,
}

impl World {
    /// A world at tick 0 with no node started yet.
    pub fn new(config: WorldConfig, net: Network) -> World {
        let params = Rc::new(config.params);
        let mut index = vec![None; 256];
        let slots = config
            .nodes
            .iter()
            .enumerate()
            .map(|(i, &(id, start_tick))| {
                index[usize::from(id.0)] = Some(i);
                NodeSlot {
                    id,
                    state: NodeState::NotStarted,
                    node: Node::new(id, 0, Rc::clone(&params)),
                    start_tick,
                    up_since_tick: start_tick,
                    rate_permille: 1000,
                    local_now: start_tick,
                    anchor: (start_tick, start_tick),
                    rng: stream(config.seed, Consumer::Node(id, 0)),
                    inbox: Vec::new(),
                }
            })
            .collect();
        World {
            seed: config.seed,
            params,
            now: 0,
            seq: 0,
            slots,
            index,
            net,
            trace: Trace::new(config.trace),
            recorder: Recorder::default(),
            outbox: Outbox::default(),
            inbox_scratch: Vec::new(),
            answering: None,
            answered: Vec::new(),
        }
    }

    /// The current tick.
    pub fn now(&self) -> Tick {
        self.now
    }

    /// The parameters every node runs with.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Every node, in index order.
    pub fn slots(&self) -> &[NodeSlot] {
        &self.slots
    }

    /// The slot of a node.
    pub fn slot(&self, id: NodeId) -> &NodeSlot {
        &self.slots[self.index_of(id)]
    }

    fn index_of(&self, id: NodeId) -> usize {
        self.index[usize::from(id.0)]
            .unwrap_or_else(|| panic!("node {id} is not part of this world"))
    }

    /// The running nodes' slots, in index order.
    pub fn running(&self) -> impl Iterator<Item = &NodeSlot> {
        self.slots.iter().filter(|s| s.state == NodeState::Up)
    }

    /// Ids of the running nodes, in index order.
    pub fn live_ids(&self) -> Vec<NodeId> {
        self.running().map(|s| s.id).collect()
    }

    /// The running node that started (or restarted) last, if it did so at most `ticks` ago;
    /// of two that started in one tick, the later in index order.
    pub fn freshest_within(&self, ticks: Tick) -> Option<NodeId> {
        self.running()
            .filter(|s| self.now - s.up_since_tick <= ticks)
            .max_by_key(|s| s.up_since_tick)
            .map(|s| s.id)
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Keeps, from now on, what a picture of the run draws.
    pub fn capture_picture(&mut self) {
        self.trace.capture_picture();
    }

    /// What was recorded so far.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Allocates the next global sequence number (for events recorded outside the world).
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Runs tick `now` in EmulNet's order: every started node collects its messages (index
    /// order), then every node starts, or handles its messages and ticks (reverse index order).
    pub fn run_tick(&mut self) {
        let now = self.now;
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            if slot.state == NodeState::Up {
                self.net.collect(now, slot.id, &mut slot.inbox);
            } else {
                self.net.discard_due(now, slot.id);
            }
        }
        for i in (0..self.slots.len()).rev() {
            match self.slots[i].state {
                NodeState::NotStarted if self.slots[i].start_tick == now => self.start(i),
                NodeState::Up => {
                    // Swap the inbox with a scratch buffer so neither is reallocated every tick.
                    let mut inbox = std::mem::take(&mut self.inbox_scratch);
                    std::mem::swap(&mut inbox, &mut self.slots[i].inbox);
                    for msg in &inbox {
                        match &msg.message {
                            Message::SyncReply { range, stale, .. } if !stale.is_empty() => {
                                self.recorder.stale_reply(now, msg.to(), range.0);
                            }
                            Message::Sync { digest, .. } => {
                                self.answering = Some(Rc::clone(digest))
                            }
                            _ => {}
                        }
                        let event = Event::Deliver {
                            id: msg.id(),
                            from: msg.from(),
                            to: msg.to(),
                        };
                        self.trace.record(now, &event);
                        self.step(
                            i,
                            Input::Deliver {
                                from: msg.from(),
                                message: &msg.message,
                            },
                        );
                        self.answering = None;
                    }
                    inbox.clear();
                    self.inbox_scratch = inbox;
                    // A skewed clock gives the node 0, 1 or 2 ticks of its own per world tick.
                    let target = self.local_target(i);
                    self.trace.timer_step();
                    while self.slots[i].local_now < target {
                        self.slots[i].local_now += 1;
                        self.step(i, Input::Tick);
                    }
                }
                NodeState::NotStarted | NodeState::Down => {}
            }
        }
    }

    /// Moves to the next tick.
    pub fn advance(&mut self) {
        self.now += 1;
    }

    /// Where node `i`'s clock should be at the current world tick.
    fn local_target(&self, i: usize) -> Tick {
        let slot = &self.slots[i];
        let (world, local) = slot.anchor;
        local + self.now.saturating_sub(world) * slot.rate_permille / 1000
    }

    /// Sets a node's clock rate (parts per thousand of world time) from now on.
    pub fn set_clock_rate(&mut self, id: NodeId, rate_permille: u64) {
        let i = self.index_of(id);
        let now = self.now;
        let slot = &mut self.slots[i];
        // Re-anchor so the node's clock continues from where it is.
        slot.anchor = (now, slot.local_now);
        slot.rate_permille = rate_permille.max(1);
        self.recorder.clock_rate(now, id, slot.rate_permille);
        let what = format!("clock n{id} rate={rate_permille}permille");
        self.trace.record(now, &Event::Fault { what: &what });
    }

    /// The network, for fault injection.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// Records an environment change in the trace.
    pub fn note_fault(&mut self, what: &str) {
        self.trace.record(self.now, &Event::Fault { what });
    }

    fn start(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        slot.state = NodeState::Up;
        slot.up_since_tick = self.now;
        slot.local_now = self.now;
        slot.anchor = (self.now, self.now);
        let event = Event::Start {
            node: slot.id,
            incarnation: slot.node.incarnation(),
        };
        self.trace.record(self.now, &event);
        self.step(i, Input::Start);
    }

    /// Crashes a running node: it stops stepping and loses what it had not handled yet. Returns
    /// the operations it was coordinating, which stay open (their effect is unknown).
    pub fn crash(&mut self, id: NodeId) -> Vec<OpId> {
        let i = self.index_of(id);
        let slot = &mut self.slots[i];
        slot.state = NodeState::Down;
        slot.inbox.clear();
        self.trace.record(self.now, &Event::Crash { node: id });
        self.seq += 1;
        self.recorder.crash(self.now, self.seq, id)
    }

    /// Restarts a crashed node with an empty store and the next incarnation.
    pub fn restart(&mut self, id: NodeId) {
        let i = self.index_of(id);
        let incarnation = self.slots[i].node.incarnation() + 1;
        let params = Rc::clone(&self.params);
        let slot = &mut self.slots[i];
        slot.node = Node::new(id, incarnation, params);
        slot.rng = stream(self.seed, Consumer::Node(id, incarnation));
        slot.inbox.clear();
        self.seq += 1;
        self.recorder.restart(self.now, self.seq, id);
        self.start(i);
    }

    /// A client asks `coordinator` to run `request` as operation `op`.
    pub fn invoke(&mut self, op: OpId, client: u64, coordinator: NodeId, request: Request) {
        let i = self.index_of(coordinator);
        self.trace.record(
            self.now,
            &Event::Invoke {
                op,
                node: coordinator,
                request: &request,
            },
        );
        self.seq += 1;
        self.recorder
            .invoke(self.now, self.seq, op, client, coordinator, &request);
        self.step(i, Input::Client { op, request });
    }

    /// Inlined, so that each caller's `Input` is built where the node's step takes it: passed
    /// down, it was copied from the caller's stack in loads wider than the stores that wrote
    /// it, which stalled on every delivery.
    #[inline(always)]
    fn step(&mut self, i: usize, input: Input<'_>) {
        let now = self.now;
        let slot = &mut self.slots[i];
        slot.node.step(now, input, &mut slot.rng, &mut self.outbox);
        self.absorb(i);
    }

    /// Takes the outputs of node `i`'s step into the network, the trace and the record.
    fn absorb(&mut self, i: usize) {
        let now = self.now;
        // Borrow the fields apart instead of moving the outbox out and back: this runs for
        // every input of every node.
        let World {
            outbox,
            trace,
            recorder,
            net,
            seq,
            answered,
            slots,
            answering,
            ..
        } = self;
        let (from, membership) = (slots[i].id, slots[i].node.membership());
        if !outbox.observations.is_empty() {
            for observation in outbox.observations.drain(..) {
                trace.record(
                    now,
                    &Event::Observe {
                        node: from,
                        observation: &observation,
                    },
                );
                *seq += 1;
                recorder.observe(now, *seq, from, observation);
            }
        }
        if !outbox.sends.is_empty() {
            // Gossip sent in this step, to members of the sender's view and to nodes outside
            // it, with the last send of each (for `gossip-fanout`). The view is the one the
            // step ended with: a tick changes it only before it gossips.
            let mut gossip = GossipSent::default();
            let mut last = (0, 0);
            for Outgoing { message, to } in outbox.sends.drain(..) {
                *seq += 1;
                let id = *seq;
                // Decide the message's fate, record the send from a borrow, then hand the
                // message over: no copy of the payload for the trace.
                let route = net.route(now, from, to, &message);
                let (fate, duplicated) = (route.fate, route.duplicated());
                trace.record(
                    now,
                    &Event::Send {
                        id,
                        from,
                        to,
                        message: &message,
                        fate,
                        duplicated,
                    },
                );
                recorder.count_send(fate, duplicated);
                match message {
                    Message::JoinRequest { .. } => recorder.join_requested(now, id, from, to),
                    Message::Sync { range, .. } => recorder.synced(now, from, range.0),
                    Message::Query { range } => recorder.queried(now, from, range.0),
                    Message::Install { ref votes, .. } => recorder.installed(now, from, to, votes),
                    Message::SyncReply {
                        range, ref stale, ..
                    } => {
                        if let Some(digest) = answering {
                            recorder.sync_answered(now, from, to, range.0, digest, stale);
                        }
                    }
                    Message::Gossip { .. } if membership.member(to).is_some() => {
                        gossip.members += 1;
                        last.0 = id;
                    }
                    Message::Gossip { .. } => {
                        gossip.outsiders += 1;
                        last.1 = id;
                    }
                    _ => {
                        if let Some((subject, ballot)) = PhaseSubject::of(&message) {
                            let kind = message.type_name();
                            let send = PhaseSend {
                                from,
                                to,
                                kind,
                                ballot,
                                subject,
                            };
                            recorder.phase_sent(now, send);
                        }
                    }
                }
                net.take(&route, id, from, to, message);
            }
            if gossip != GossipSent::default() {
                recorder.gossiped(now, last, from, gossip);
            }
        }
        if !outbox.replies.is_empty() {
            for reply in outbox.replies.drain(..) {
                trace.record(
                    now,
                    &Event::Reply {
                        node: from,
                        reply: &reply,
                    },
                );
                *seq += 1;
                recorder.complete(now, *seq, &reply);
                answered.push(reply.op);
            }
        }
    }

    /// The operations answered since the last call, in answer order.
    pub fn take_answered(&mut self) -> Vec<OpId> {
        std::mem::take(&mut self.answered)
    }

    /// Every observation recorded so far, with its stamp and node.
    pub fn observations(&self) -> &[(Tick, u64, NodeId, Observation)] {
        self.recorder.observations()
    }
}
