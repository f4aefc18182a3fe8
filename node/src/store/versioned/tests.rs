//! Tests of the `versioned` store: acceptor rules on one node, and whole-protocol scenarios on a
//! small deterministic cluster (seeded delays, reordering, loss, partitions, crashes and
//! restarts) whose client histories are checked for linearizability by a tiny brute-force
//! checker written from the key-value model's definition.
//!
//! Over 500 lines on purpose: the scenarios share one cluster harness and one checker, and
//! splitting them would spread that harness over files for no reader's benefit.

use crate::agreement::{Ballot, RangeId, Refusal, Versioned, Vote};
use crate::client::{ClientReply, Reason, Request};
use crate::ids::{NodeId, OpId, Tick};
use crate::message::{Input, Message, Outbox, Outgoing};
use crate::observation::Observation;
use crate::params::{Params, Variant};
use crate::random::{below, chance_ppm};
use crate::ring::Ring;
use crate::{Node, StoredEntry};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

fn params(nodes: u8) -> Params {
    let mut p = Params::original(nodes);
    p.variant = Variant::Versioned;
    p
}

fn s(text: &str) -> Rc<str> {
    text.into()
}

/// One client operation as the cluster recorded it.
#[derive(Debug, Clone)]
struct Recorded {
    request: Request,
    invoke: u64,
    /// (completion stamp, reply), if answered.
    reply: Option<(u64, ClientReply)>,
}

/// A handful of nodes on a simulated network: every message gets a random delay (so messages
/// reorder), may be lost, and is dropped on cut links and at crashed nodes.
struct Cluster {
    /// The seed the cluster was built from, for failure messages.
    seed: u64,
    params: Rc<Params>,
    nodes: Vec<Option<Node>>,
    incarnations: Vec<u32>,
    rngs: Vec<ChaCha8Rng>,
    net: ChaCha8Rng,
    now: Tick,
    /// (deliver at, sequence, from, to, message)
    queue: Vec<(Tick, u64, NodeId, NodeId, Message)>,
    seq: u64,
    loss_ppm: u32,
    max_delay: Tick,
    cut: BTreeSet<(NodeId, NodeId)>,
    ops: BTreeMap<OpId, Recorded>,
    observations: Vec<(Tick, NodeId, Observation)>,
    /// (tick, node) of every promise or acceptance a node sent.
    votes: Vec<(Tick, NodeId)>,
    next_op: OpId,
}

impl Cluster {
    fn new(n: u8, seed: u64) -> Cluster {
        let params = Rc::new(params(n));
        let mut c = Cluster {
            nodes: (1..=n)
                .map(|i| Some(Node::new(NodeId(i), 0, Rc::clone(&params))))
                .collect(),
            params,
            seed,
            incarnations: vec![0; usize::from(n)],
            rngs: (1..=n)
                .map(|i| ChaCha8Rng::seed_from_u64(seed * 1000 + u64::from(i)))
                .collect(),
            net: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            queue: Vec::new(),
            seq: 0,
            loss_ppm: 0,
            max_delay: 1,
            cut: BTreeSet::new(),
            ops: BTreeMap::new(),
            observations: Vec::new(),
            votes: Vec::new(),
            next_op: 0,
        };
        for i in 1..=n {
            c.input(NodeId(i), Input::Start);
        }
        c
    }

    fn index(id: NodeId) -> usize {
        usize::from(id.0) - 1
    }

    fn input(&mut self, id: NodeId, input: Input<'_>) {
        let i = Cluster::index(id);
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        let mut out = Outbox::default();
        node.step(self.now, input, &mut self.rngs[i], &mut out);
        for Outgoing { message, to } in out.sends {
            if matches!(
                message,
                Message::Promise { .. }
                    | Message::Accepted { .. }
                    | Message::SealPromise { .. }
                    | Message::SealAccepted { .. }
            ) {
                self.votes.push((self.now, id));
            }
            self.seq += 1;
            let delay = 1 + below(&mut self.net, self.max_delay);
            if !chance_ppm(&mut self.net, self.loss_ppm) && !self.cut.contains(&(id, to)) {
                self.queue
                    .push((self.now + delay, self.seq, id, to, message));
            }
        }
        for reply in out.replies {
            self.seq += 1;
            let op = self.ops.get_mut(&reply.op).expect("reply to a known op");
            assert!(op.reply.is_none(), "op {} answered twice", reply.op);
            op.reply = Some((self.seq, reply));
        }
        for o in out.observations {
            self.observations.push((self.now, id, o));
        }
    }

    /// One tick: deliver what is due (in send order), then tick every live node.
    fn step(&mut self) {
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|(at, ..)| *at <= now);
        self.queue = later;
        let mut due = due;
        due.sort_by_key(|(at, seq, ..)| (*at, *seq));
        for (_, _, from, to, message) in due {
            self.input(
                to,
                Input::Deliver {
                    from,
                    message: &message,
                },
            );
        }
        for i in 1..=self.nodes.len() as u8 {
            self.input(NodeId(i), Input::Tick);
        }
        self.now += 1;
    }

    fn run(&mut self, ticks: Tick) {
        for _ in 0..ticks {
            self.step();
        }
    }

    fn invoke(&mut self, at: NodeId, request: Request) -> OpId {
        self.next_op += 1;
        self.seq += 1;
        let op = self.next_op;
        self.ops.insert(
            op,
            Recorded {
                request: request.clone(),
                invoke: self.seq,
                reply: None,
            },
        );
        self.input(at, Input::Client { op, request });
        op
    }

    /// Runs until the operation is answered (panics after a generous bound).
    fn wait(&mut self, op: OpId) -> ClientReply {
        for _ in 0..200 {
            if let Some((_, reply)) = &self.ops[&op].reply {
                return reply.clone();
            }
            self.step();
        }
        panic!("op {op} never answered: {:?}", self.ops[&op]);
    }

    fn call(&mut self, at: u8, request: Request) -> ClientReply {
        let op = self.invoke(NodeId(at), request);
        self.wait(op)
    }

    /// Repeats a read until it gets a definite answer (a timeout says nothing about the state).
    fn read_definite(&mut self, at: u8, key: &str) -> ClientReply {
        for _ in 0..10 {
            let reply = self.call(at, read(key));
            if reply.success || reply.reason == Reason::NotFound {
                return reply;
            }
        }
        panic!("no definite read of {key}");
    }

    fn crash(&mut self, id: NodeId) {
        self.nodes[Cluster::index(id)] = None;
        self.queue.retain(|(_, _, _, to, _)| *to != id);
    }

    fn restart(&mut self, id: NodeId) {
        let i = Cluster::index(id);
        self.incarnations[i] += 1;
        self.nodes[i] = Some(Node::new(id, self.incarnations[i], Rc::clone(&self.params)));
        self.input(id, Input::Start);
    }

    fn live(&self) -> Vec<NodeId> {
        self.nodes.iter().flatten().map(Node::id).collect()
    }

    fn node(&self, id: u8) -> &Node {
        self.nodes[usize::from(id) - 1].as_ref().expect("live node")
    }

    fn views_converged(&self) -> bool {
        let live = self.live();
        self.nodes
            .iter()
            .flatten()
            .all(|n| n.membership().view() == live.as_slice())
    }

    /// Why the stored copies do not match what stabilization promises (`None`: they do): every
    /// live key on exactly the 3 replicas the ring of live nodes names, all with its newest
    /// state; tombstones allowed on replicas only.
    fn stabilization_gap(&self) -> Option<String> {
        let ring = Ring::new(self.live());
        let mut holders: BTreeMap<Rc<str>, Vec<(NodeId, StoredEntry)>> = BTreeMap::new();
        for node in self.nodes.iter().flatten() {
            for e in node.stored() {
                holders
                    .entry(Rc::clone(&e.key))
                    .or_default()
                    .push((node.id(), e));
            }
        }
        for (key, copies) in &holders {
            let newest = copies.iter().map(|(_, e)| e.version).max().unwrap_or(0);
            let newest_entry = &copies.iter().find(|(_, e)| e.version == newest)?.1;
            let replicas = ring.replicas_of(key, 3);
            if copies.iter().any(|(n, _)| !replicas.contains(n)) {
                return Some(format!(
                    "{key} held outside its replicas {replicas:?}: {copies:?}"
                ));
            }
            if newest_entry.value.is_none() {
                continue; // deleted: replicas may keep the tombstone
            }
            let up_to_date = copies
                .iter()
                .filter(|(_, e)| e.version == newest && e.value == newest_entry.value)
                .count();
            if up_to_date != replicas.len() {
                return Some(format!(
                    "{key} not on all of {replicas:?} at its newest: {copies:?}"
                ));
            }
        }
        None
    }

    /// Runs the quiet phase as the simulator does: until views converge and stabilization
    /// holds, then one sweep interval and two round trips more, as the simulator waits before
    /// its final reads (panics after a bound).
    fn settle(&mut self) {
        for _ in 0..600 {
            if self.views_converged() && self.stabilization_gap().is_none() {
                let p = &self.params;
                return self.run(p.sweep_interval_ticks + 4 * self.max_delay + 2);
            }
            self.step();
        }
        self.dump("k1");
        panic!(
            "cluster seed {}: did not settle: views {:?}, gap {:?}",
            self.seed,
            self.nodes
                .iter()
                .flatten()
                .map(|n| n.membership().view().to_vec())
                .collect::<Vec<_>>(),
            self.stabilization_gap()
        );
    }

    /// Prints every node's view, store summary and copy of a key (debugging).
    fn dump(&self, key: &str) {
        for node in self.nodes.iter().flatten() {
            let m = node.membership();
            let view: Vec<_> = m
                .view()
                .iter()
                .map(|id| (id.0, m.member(*id).unwrap().incarnation))
                .collect();
            let copy = node.stored().into_iter().find(|e| &*e.key == key);
            eprintln!(
                "n{}/{} view {view:?} {key} {copy:?}",
                node.id(),
                node.incarnation()
            );
            for line in node.store_summary() {
                eprintln!("  {line}");
            }
        }
    }

    fn observed(&self, pred: impl Fn(&Observation) -> bool) -> usize {
        self.observations.iter().filter(|(_, _, o)| pred(o)).count()
    }

    /// Checks the whole history for linearizability, key by key.
    fn assert_linearizable(&self) {
        let mut by_key: BTreeMap<Rc<str>, Vec<&Recorded>> = BTreeMap::new();
        for op in self.ops.values() {
            by_key
                .entry(Rc::clone(op.request.key()))
                .or_default()
                .push(op);
        }
        for (key, ops) in by_key {
            assert!(
                linearizable(&ops),
                "cluster seed {}: history of {key} is not linearizable:\n{}",
                self.seed,
                ops.iter()
                    .map(|o| format!("  {o:?}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

/// What an operation says about the key's state, in the model's terms.
#[derive(Debug, Clone)]
struct ModelOp {
    invoke: u64,
    /// `None`: unknown outcome (may take effect once, any time after invocation, or never).
    complete: Option<u64>,
    request: Request,
    /// For a definite answer: (success, reason, value).
    answer: Option<(bool, Reason, Option<Rc<str>>)>,
}

/// The state after `op` from `state`, or `None` if the op cannot happen there.
fn model_step(state: &Option<Rc<str>>, op: &ModelOp) -> Option<Option<Rc<str>>> {
    let present = state.is_some();
    let effect = match &op.request {
        Request::Create { value, .. } if !present => Some(Rc::clone(value)),
        Request::Update { value, .. } if present => Some(Rc::clone(value)),
        Request::Create { .. } | Request::Update { .. } | Request::Read { .. } => state.clone(),
        Request::Delete { .. } => None,
    };
    match &op.answer {
        None => Some(effect), // unknown: if it happens, it behaves as the store would
        Some((true, _, value)) => match &op.request {
            Request::Read { .. } => (state == value).then(|| state.clone()),
            Request::Create { .. } => (!present).then_some(effect),
            Request::Update { .. } | Request::Delete { .. } => present.then_some(effect),
        },
        Some((false, Reason::Exists, value)) => {
            (present && (value.is_none() || value == state)).then(|| state.clone())
        }
        Some((false, Reason::NotFound, _)) => (!present).then(|| state.clone()),
        Some((false, reason, _)) => panic!("a definite answer with reason {reason:?}"),
    }
}

/// Wing-Gong style search with memoization on (linearized set, state): small histories only.
fn linearizable(ops: &[&Recorded]) -> bool {
    let model: Vec<ModelOp> = ops
        .iter()
        .filter_map(|o| {
            let (complete, answer) = match &o.reply {
                None => (None, None),
                Some((_, r)) if r.success => (Some(()), Some((true, r.reason, r.value.clone()))),
                Some((_, r)) if r.rejected => match r.reason {
                    Reason::Exists | Reason::NotFound => {
                        (Some(()), Some((false, r.reason, r.value.clone())))
                    }
                    _ => return None, // surely no effect, observes nothing
                },
                Some(_) => (None, None),
            };
            if answer.is_none() && matches!(o.request, Request::Read { .. }) {
                return None; // an unknown read carries nothing
            }
            Some(ModelOp {
                invoke: o.invoke,
                complete: complete.and(o.reply.as_ref().map(|(at, _)| *at)),
                request: o.request.clone(),
                answer,
            })
        })
        .collect();
    assert!(
        model.len() <= 60,
        "history too long for the brute-force checker"
    );
    let mut seen = BTreeSet::new();
    search(&model, 0, &None, &mut seen)
}

fn search(
    ops: &[ModelOp],
    done: u64,
    state: &Option<Rc<str>>,
    seen: &mut BTreeSet<(u64, Option<Rc<str>>)>,
) -> bool {
    let pending = |i: usize| done & (1 << i) == 0;
    let definite_left = (0..ops.len()).any(|i| pending(i) && ops[i].complete.is_some());
    if !definite_left {
        return true;
    }
    if !seen.insert((done, state.clone())) {
        return false;
    }
    // An op may go next if no pending definite op completed before it was invoked.
    let horizon = (0..ops.len())
        .filter(|&i| pending(i))
        .filter_map(|i| ops[i].complete)
        .min()
        .unwrap_or(u64::MAX);
    (0..ops.len())
        .filter(|&i| pending(i) && ops[i].invoke < horizon)
        .any(|i| {
            model_step(state, &ops[i]).is_some_and(|next| search(ops, done | (1 << i), &next, seen))
        })
}

fn create(key: &str, value: &str) -> Request {
    Request::Create {
        key: s(key),
        value: s(value),
    }
}

fn update(key: &str, value: &str) -> Request {
    Request::Update {
        key: s(key),
        value: s(value),
    }
}

fn read(key: &str) -> Request {
    Request::Read { key: s(key) }
}

fn delete(key: &str) -> Request {
    Request::Delete { key: s(key) }
}

fn outcome(r: &ClientReply) -> (bool, bool, Reason, Option<&str>) {
    (r.success, r.rejected, r.reason, r.value.as_deref())
}

/// Closed-loop clients: each has at most one operation open, and starts the next one (on a
/// random key, through a random live coordinator) with probability 1 in `pace` per tick.
struct Clients {
    open: Vec<Option<OpId>>,
    issued: usize,
    limit: usize,
    pace: u64,
}

impl Clients {
    fn new(clients: usize, limit: usize, pace: u64) -> Clients {
        Clients {
            open: vec![None; clients],
            issued: 0,
            limit,
            pace,
        }
    }

    fn issue(&mut self, c: &mut Cluster, keys: &[Rc<str>], rng: &mut ChaCha8Rng) {
        for slot in self.open.iter_mut() {
            if slot.is_some_and(|op| c.ops[&op].reply.is_some()) {
                *slot = None;
            }
            if slot.is_none() && self.issued < self.limit && below(rng, self.pace) == 0 {
                self.issued += 1;
                let key = &keys[below(rng, keys.len() as u64) as usize];
                let value = format!("v{}", self.issued);
                let request = match below(rng, 4) {
                    0 => create(key, &value),
                    1 => update(key, &value),
                    2 => delete(key),
                    _ => read(key),
                };
                let live = c.live();
                let at = live[below(rng, live.len() as u64) as usize];
                *slot = Some(c.invoke(at, request));
            }
        }
    }

    fn finished(&self, c: &Cluster) -> bool {
        self.issued >= self.limit
            && self
                .open
                .iter()
                .flatten()
                .all(|op| c.ops[op].reply.is_some())
    }
}

/// A started cluster whose views have converged.
fn converged(n: u8, seed: u64) -> Cluster {
    let mut c = Cluster::new(n, seed);
    c.run(30);
    assert!(c.views_converged());
    c
}

#[test]
fn every_operation_and_definite_rejection_on_a_calm_cluster() {
    let mut c = converged(5, 1);
    let (ok, exists, missing) = (
        (true, false, Reason::Ok),
        (false, true, Reason::Exists),
        (false, true, Reason::NotFound),
    );
    let script = [
        (1, read("k"), missing, None),
        (2, create("k", "v1"), ok, None),
        (3, create("k", "v2"), exists, Some("v1")), // a refused create reports what it saw
        (4, read("k"), ok, Some("v1")),
        (5, update("k", "v3"), ok, None),
        (1, delete("k"), ok, None),
        (2, update("k", "v4"), missing, None),
        (3, delete("k"), missing, None),
        (4, create("k", "v5"), ok, None),
    ];
    for (at, request, (success, rejected, reason), value) in script {
        let what = format!("{request:?}");
        let reply = c.call(at, request);
        assert_eq!(
            outcome(&reply),
            (success, rejected, reason, value),
            "{what}"
        );
    }
    let read = c.call(5, read("k"));
    assert_eq!(read.value.as_deref(), Some("v5"));
    let replicas = c.node(5).ring().replicas_of("k", 3);
    assert!(read.acks.len() >= 2);
    assert!(read
        .acks
        .iter()
        .all(|a| replicas.contains(&a.from) && a.value == read.value));
    c.settle();
    // Creates, update, delete, create: version 4 on exactly the three replicas.
    let holders: Vec<(NodeId, u64)> = c
        .live()
        .into_iter()
        .flat_map(|id| {
            c.node(id.0)
                .stored()
                .into_iter()
                .map(move |e| (id, e.version))
        })
        .collect();
    assert_eq!(holders.len(), 3);
    assert!(holders.iter().all(|(n, v)| replicas.contains(n) && *v == 4));
    c.assert_linearizable();
}

#[test]
fn concurrent_creates_on_one_key_let_exactly_one_win() {
    for seed in 0..20 {
        let mut c = converged(5, seed);
        c.max_delay = 3;
        c.loss_ppm = 50_000;
        let ops: Vec<OpId> = (1..=5)
            .map(|i| c.invoke(NodeId(i), create("k", &format!("v{i}"))))
            .collect();
        for &op in &ops {
            c.wait(op);
        }
        let replies: Vec<ClientReply> = ops.iter().map(|op| c.wait(*op)).collect();
        let winners = replies.iter().filter(|r| r.success).count();
        assert!(winners <= 1, "seed {seed}: {replies:?}");
        for r in &replies {
            assert!(r.success || r.rejected || r.reason != Reason::Ok);
        }
        c.loss_ppm = 0;
        let read = c.read_definite(1, "k");
        if let Some(w) = replies.iter().position(|r| r.success) {
            let expected = format!("v{}", w + 1);
            assert_eq!(
                read.value.as_deref(),
                Some(expected.as_str()),
                "seed {seed}: {read:?} after {replies:?}"
            );
        }
        c.assert_linearizable();
    }
}

/// Several clients on two keys over a lossy, reordering network: every history linearizable,
/// and every key placed by stabilization once the network is clean again.
#[test]
fn random_workloads_on_a_lossy_network_are_linearizable_and_stabilize() {
    for seed in 0..12 {
        let mut c = converged(6, 100 + seed);
        c.max_delay = 3;
        c.loss_ppm = 80_000;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let keys = [s("a"), s("b")];
        let mut clients = Clients::new(4, 48, 3);
        while !clients.finished(&c) {
            clients.issue(&mut c, &keys, &mut rng);
            c.step();
        }
        c.assert_linearizable();
        c.loss_ppm = 0;
        c.settle();
        assert!(c.observed(|o| matches!(o, Observation::BallotConflict { .. })) > 0);
    }
}

/// The `default` budget in miniature, over many seeds: loss, reordering, one-way and
/// symmetric partitions of one node that heal, and crashes (some restarted with an empty
/// store) one at a time with a repair window between them, under a closed-loop workload;
/// then a quiet phase. Every history must be linearizable, every final read definite, and
/// stabilization must hold.
#[test]
fn fault_schedules_within_the_budget_keep_every_promise() {
    // ok, rejected, unknown answers; handovers done; ranges recovered.
    let mut seen = [0usize; 5];
    for seed in 0..400 {
        budget_schedule(seed, &mut seen);
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "the schedules exercised too little: {seen:?}"
    );
}

/// One seed of [`fault_schedules_within_the_budget_keep_every_promise`].
fn budget_schedule(seed: u64, seen: &mut [usize; 5]) {
    let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
    let n = 5 + below(&mut rng, 3) as u8;
    let mut c = converged(n, 2000 + seed);
    c.max_delay = 1 + below(&mut rng, 3);
    c.loss_ppm = [0, 20_000, 50_000][below(&mut rng, 3) as usize];
    let keys: Vec<Rc<str>> = (0..2 + below(&mut rng, 3))
        .map(|k| s(&format!("k{k}")))
        .collect();
    let fault_ticks = 300;
    let mut down: Option<(NodeId, Tick)> = None; // crashed node, restart time
    let mut next_crash = 40 + below(&mut rng, 40);
    let mut heal_at: Option<Tick> = None;
    let mut clients = Clients::new(3, 45, 4);
    let start = c.now;
    while c.now < start + fault_ticks {
        let t = c.now - start;
        // Crashes: one node at a time, restarted (or not), then a repair window.
        if down.is_none() && t >= next_crash {
            let victim = c.live()[below(&mut rng, c.live().len() as u64) as usize];
            c.crash(victim);
            let back = t + 1 + below(&mut rng, 60);
            down = Some((victim, back));
            next_crash = back + 100 + below(&mut rng, 40);
        }
        if let Some((victim, back)) = down {
            if t >= back {
                c.restart(victim);
                down = None;
            }
        }
        // Partitions of one live node, one-way or both ways, healing within 40 ticks.
        if heal_at.is_none() && below(&mut rng, 60) == 0 {
            let live = c.live();
            let isolated = live[below(&mut rng, live.len() as u64) as usize];
            let both = below(&mut rng, 2) == 0;
            for other in live.into_iter().filter(|&o| o != isolated) {
                c.cut.insert((isolated, other));
                if both {
                    c.cut.insert((other, isolated));
                }
            }
            heal_at = Some(t + 5 + below(&mut rng, 40));
        }
        if heal_at.is_some_and(|h| t >= h) {
            c.cut.clear();
            heal_at = None;
        }
        clients.issue(&mut c, &keys, &mut rng);
        c.step();
    }
    if let Some((victim, _)) = down {
        c.restart(victim);
    }

    c.cut.clear();
    c.loss_ppm = 0;
    c.settle();
    // Availability once converged: each operation alone on its key gets a definite answer.
    for (i, key) in keys.iter().enumerate() {
        let live = c.live();
        let at = live[i % live.len()].0;
        for request in [read(key), update(key, "last"), read(key), delete(key)] {
            let what = format!("{request:?}");
            let reply = c.call(at, request);
            let definite =
                reply.success || matches!(reply.reason, Reason::Exists | Reason::NotFound);
            if !definite {
                c.dump(key);
            }
            assert!(definite, "seed {seed}: {what} answered {reply:?}");
        }
    }
    c.assert_linearizable();
    assert_eq!(c.stabilization_gap(), None, "seed {seed}");
    let replies = c
        .ops
        .values()
        .filter_map(|o| o.reply.as_ref().map(|(_, r)| r));
    for r in replies {
        let kind = match (r.success, r.rejected) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        };
        seen[kind] += 1;
    }
    seen[3] += c.observed(|o| matches!(o, Observation::HandoverDone { .. }));
    seen[4] += c.observed(|o| matches!(o, Observation::RangeRecovered { .. }));
}

/// A restarted replica is a new seat: it refuses to vote until a handover installs the range,
/// and the data survives a later crash of another original replica.
#[test]
fn a_restarted_replica_recovers_before_voting_and_keeps_data_durable() {
    let mut c = converged(5, 7);
    assert!(c.call(1, create("k", "v1")).success);
    let replicas = c.node(1).ring().replicas_of("k", 3);
    let (first, second) = (replicas[0], replicas[1]);
    c.crash(first);
    c.run(3);
    let restarted_at = c.now;
    c.restart(first);
    // Before its handover the new incarnation holds nothing and refuses to vote.
    c.run(2);
    assert!(c.node(first.0).stored().is_empty());
    c.settle();
    assert!(
        c.observations
            .iter()
            .any(|(_, n, o)| *n == first && matches!(o, Observation::RangeRecovered { .. })),
        "the restarted node recovered the range"
    );
    let recovered_at = c
        .observations
        .iter()
        .find(|(t, n, o)| {
            *n == first && *t >= restarted_at && matches!(o, Observation::RangeRecovered { .. })
        })
        .map(|(t, ..)| *t)
        .unwrap();
    assert!(
        !c.votes
            .iter()
            .any(|&(t, n)| n == first && (restarted_at..recovered_at).contains(&t)),
        "no vote before recovery"
    );
    assert_eq!(
        c.node(first.0).stored().first().map(|e| e.value.clone()),
        Some(Some(s("v1")))
    );
    // Now lose another of the original replicas for good: the key survives on the others.
    c.crash(second);
    c.run(60);
    c.settle();
    let reader = c.live()[0].0;
    assert_eq!(c.call(reader, read("k")).value.as_deref(), Some("v1"));
    c.assert_linearizable();
}

/// Keys never written must stay safe across two sequential restarts of replicas of their
/// range: readiness is per range, so a restarted node never answers "absent" for a key it has
/// simply not seen.
#[test]
fn untouched_ranges_survive_sequential_restarts() {
    let mut c = converged(5, 11);
    let replicas = c.node(1).ring().replicas_of("fresh", 3);
    for victim in [replicas[0], replicas[1]] {
        c.crash(victim);
        c.run(5);
        c.restart(victim);
        c.settle();
        c.run(40); // let stewards re-seal every range onto the new seats
    }
    let coordinator = c.live()[0].0;
    assert!(c.call(coordinator, create("fresh", "x")).success);
    assert_eq!(
        c.call(coordinator, read("fresh")).value.as_deref(),
        Some("x")
    );
    assert!(c.observed(|o| matches!(o, Observation::HandoverDone { .. })) > 0);
}

/// A replica removed from the ring hands its ranges over; a node cut off symmetrically for
/// longer than the removal timeout comes back and gets its ranges again.
#[test]
fn removal_and_partition_hand_ranges_over() {
    let mut c = converged(6, 3);
    for (i, key) in ["a", "b", "c", "d"].iter().enumerate() {
        assert!(c.call(1 + i as u8, create(key, "v")).success);
    }
    let victim = c.node(1).ring().replicas_of("a", 3)[0];
    c.crash(victim);
    c.run(60);
    c.settle();
    let coordinator = c.live()[0].0;
    assert_eq!(c.call(coordinator, read("a")).value.as_deref(), Some("v"));
    // Partition another node from everyone both ways for a while, keep writing, then heal.
    let isolated = c.live()[1];
    for other in c.live() {
        c.cut.insert((isolated, other));
        c.cut.insert((other, isolated));
    }
    c.run(40);
    let writer = c.live().into_iter().find(|&n| n != isolated).unwrap();
    assert!(c.call(writer.0, update("b", "w")).success);
    c.cut.clear();
    c.settle();
    assert_eq!(c.call(isolated.0, read("b")).value.as_deref(), Some("w"));
    c.assert_linearizable();
}

/// Acceptor rules, one node at a time.
mod acceptor {
    use super::*;

    fn started(id: u8, incarnation: u32) -> (Node, ChaCha8Rng) {
        let mut node = Node::new(NodeId(id), incarnation, Rc::new(params(5)));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        node.step(0, Input::Start, &mut rng, &mut Outbox::default());
        (node, rng)
    }

    fn deliver(node: &mut Node, rng: &mut ChaCha8Rng, message: Message) -> Outbox {
        let mut out = Outbox::default();
        node.step(
            1,
            Input::Deliver {
                from: NodeId(9),
                message: &message,
            },
            rng,
            &mut out,
        );
        out
    }

    fn ballot(epoch: u64, round: u64) -> Ballot {
        Ballot {
            epoch,
            round,
            node: NodeId(9),
            incarnation: 0,
        }
    }

    /// A key whose epoch-0 replicas (the seed ring of 5) include node `id`.
    fn key_on(id: u8) -> Rc<str> {
        let seeds = Ring::new((1..=5).map(NodeId));
        (0..)
            .map(|i| format!("k{i}"))
            .find(|k| seeds.replicas_of(k, 3).contains(&NodeId(id)))
            .unwrap()
            .into()
    }

    fn prepare(key: &Rc<str>, epoch: u64, round: u64) -> Message {
        Message::Prepare {
            key: Rc::clone(key),
            ballot: ballot(epoch, round),
        }
    }

    fn accept(key: &Rc<str>, ballot: Ballot, state: Versioned) -> Message {
        Message::Accept {
            key: Rc::clone(key),
            ballot,
            state: Box::new(state),
            op: None,
        }
    }

    fn answer(out: &Outbox) -> &Message {
        &out.sends.last().expect("an answer").message
    }

    #[test]
    fn promises_refuse_lower_ballots_and_report_the_vote() {
        let (mut n, mut rng) = started(1, 0);
        let key = key_on(1);
        let out = deliver(&mut n, &mut rng, prepare(&key, 0, 5));
        assert!(matches!(answer(&out), Message::Promise { vote: None, .. }));
        let out = deliver(&mut n, &mut rng, prepare(&key, 0, 4));
        assert!(
            matches!(answer(&out), Message::Refuse { why: Refusal::Promised(b), .. } if *b == ballot(0, 5))
        );
        let state = Versioned {
            value: Some(s("v")),
            version: 1,
            writers: Rc::from([]),
        };
        let out = deliver(
            &mut n,
            &mut rng,
            Message::Accept {
                key: key.clone(),
                ballot: ballot(0, 5),
                state: Box::new(state.clone()),
                op: None,
            },
        );
        assert!(matches!(answer(&out), Message::Accepted { .. }));
        assert!(out.observations.contains(&Observation::ReplicaStored {
            key: key.clone(),
            value: Some(s("v"))
        }));
        let out = deliver(&mut n, &mut rng, prepare(&key, 0, 6));
        assert!(matches!(answer(&out), Message::Promise { vote: Some(v), .. } if v.state == state));
        assert_eq!(n.stored()[0].version, 1);
    }

    #[test]
    fn a_restarted_node_refuses_to_vote_until_it_recovers_the_range() {
        let (mut n, mut rng) = started(1, 1);
        let key = key_on(1);
        let out = deliver(&mut n, &mut rng, prepare(&key, 0, 1));
        assert!(matches!(
            answer(&out),
            Message::Refuse {
                why: Refusal::NotReady,
                ..
            }
        ));
        assert!(out
            .observations
            .iter()
            .any(|o| matches!(o, Observation::NotRecovered { .. })));
        let out = deliver(
            &mut n,
            &mut rng,
            Message::Accept {
                key,
                ballot: ballot(0, 1),
                state: Box::default(),
                op: None,
            },
        );
        assert!(matches!(
            answer(&out),
            Message::Refuse {
                why: Refusal::NotReady,
                ..
            }
        ));
    }

    #[test]
    fn sealing_freezes_the_range_and_a_newer_epoch_redirects_older_proposals() {
        let (mut n, mut rng) = started(1, 0);
        let key = key_on(1);
        let range = {
            let seeds = Ring::new((1..=5).map(NodeId));
            RangeId(seeds.slot_at(crate::ring::key_position(&key)).unwrap() as u16)
        };
        let vote = Vote {
            ballot: ballot(0, 2),
            state: Versioned {
                value: Some(s("v")),
                version: 1,
                writers: Rc::from([]),
            },
        };
        deliver(
            &mut n,
            &mut rng,
            accept(&key, vote.ballot, vote.state.clone()),
        );
        let out = deliver(
            &mut n,
            &mut rng,
            Message::SealPrepare {
                range,
                ballot: ballot(0, 3),
            },
        );
        assert!(matches!(
            answer(&out),
            Message::SealPromise { vote: None, .. }
        ));
        let me = crate::agreement::Replica {
            id: NodeId(1),
            incarnation: 0,
        };
        let next = Rc::new(crate::agreement::Config {
            range,
            epoch: 1,
            members: vec![
                me,
                crate::agreement::Replica {
                    id: NodeId(9),
                    incarnation: 0,
                },
            ],
        });
        let out = deliver(
            &mut n,
            &mut rng,
            Message::SealAccept {
                range,
                ballot: ballot(0, 3),
                next: next.clone(),
            },
        );
        let Message::SealAccepted { votes, .. } = answer(&out) else {
            panic!("{out:?}")
        };
        assert_eq!(&votes[..], &[(key.clone(), vote.clone())]);
        // Frozen: no more key votes in epoch 0.
        let out = deliver(&mut n, &mut rng, prepare(&key, 0, 9));
        assert!(matches!(
            answer(&out),
            Message::Refuse {
                why: Refusal::NotReady,
                ..
            }
        ));
        // Installed in epoch 1: epoch-0 proposals are told where the range went.
        let out = deliver(
            &mut n,
            &mut rng,
            Message::Install {
                config: next.clone(),
                votes: votes.clone(),
                established: false,
            },
        );
        assert!(matches!(answer(&out), Message::Installed { epoch: 1, .. }));
        let out = deliver(&mut n, &mut rng, prepare(&key, 0, 10));
        assert!(
            matches!(answer(&out), Message::Refuse { why: Refusal::Moved(c), .. } if c.epoch == 1)
        );
        assert!(out
            .observations
            .iter()
            .any(|o| matches!(o, Observation::EpochRefused { epoch: 0, .. })));
        let out = deliver(
            &mut n,
            &mut rng,
            Message::Prepare {
                key,
                ballot: ballot(1, 1),
            },
        );
        assert!(matches!(answer(&out), Message::Promise { vote: Some(v), .. } if **v == vote));
    }

    #[test]
    fn a_commit_is_adopted_only_if_newer() {
        let (mut n, mut rng) = started(1, 0);
        let key = key_on(1);
        let newer = Vote {
            ballot: ballot(0, 7),
            state: Versioned {
                value: Some(s("new")),
                version: 2,
                writers: Rc::from([]),
            },
        };
        let older = Vote {
            ballot: ballot(0, 3),
            state: Versioned {
                value: Some(s("old")),
                version: 1,
                writers: Rc::from([]),
            },
        };
        deliver(
            &mut n,
            &mut rng,
            Message::Commit {
                key: key.clone(),
                vote: Box::new(newer),
            },
        );
        deliver(
            &mut n,
            &mut rng,
            Message::Commit {
                key,
                vote: Box::new(older),
            },
        );
        assert_eq!(n.stored()[0].value.as_deref(), Some("new"));
    }
}
