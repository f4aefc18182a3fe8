//! The `versioned` store: linearizable create / read / update / delete on the classic ring.
//!
//! Same ring, 3 replicas and quorums of 2 as `classic`, hardened in three layers (the README's
//! "The versioned store" section has the safety argument in full):
//!
//! 1. **Per-key single-decree consensus, CASPaxos style.** Every client operation is a round at
//!    a quorum of the key's replicas: phase 1 (prepare / promise) learns the newest state, phase
//!    2 (accept) installs `f(state)`, where `f` is create-if-absent, update- or delete-if-present,
//!    or the identity (reads, and refused operations, so that what they observed is chosen).
//!    Deletes write versioned tombstones, so an older state can never look newer than a delete.
//! 2. **Ranges with epochs.** Keys are grouped in ranges: the arcs between successive seed nodes
//!    on the ring, which every ring of live nodes maps to one replica set. Each range has a
//!    configuration (its replica seats, each a node *in one incarnation*, and an epoch).
//!    Epoch 0 is the introducer alone; each later one is chosen by a *seal* round at a
//!    quorum of the previous one, whose acceptors stop voting on the range's keys and hand their
//!    votes over. Ballots carry the epoch, and acceptors refuse ballots of other epochs, so no
//!    proposal made from a stale view is accepted past a handover.
//! 3. **Readiness per range.** A node votes on a key only if it is a voter of the key's range in
//!    the proposal's epoch: the epoch-0 voter is the introducer in incarnation 0; everyone else
//!    became a voter by installing the range's votes from a sealed quorum (or a copy of a voter's
//!    votes). A restarted node holds no seat (seats name incarnations) and a new replica has not
//!    installed the epoch, so neither answers "I have nothing" for a key it has never seen.
//!
//! Stabilization is driven per range by its *steward* (the first live seat): it re-seals the
//! range onto the replicas its ring names, and otherwise sends a digest of its key ballots to
//! the other seats (anti-entropy), runs an identity round for every key that differs, and
//! installs seats that have not recovered the range. Nodes that hold a range they should not,
//! or should hold one they do not, ask the nodes their ring names ([`Message::Query`]).
//!
//! Where the code is: this file holds the store's state, dispatch and the sweep; the acceptor
//! side is `acceptor` (seats, key votes) and `range_acceptor` (seals, installs, syncs); the
//! proposer side is `client_op` (client operations and their answers), `key_round` (per-key
//! rounds), `handover` (seal and install rounds) and `anti_entropy` (the steward's syncs), with
//! what both kinds of round share (tallies, refusals, backoff, round trips) in `round`.

mod acceptor;
mod anti_entropy;
mod client_op;
mod handover;
mod key_round;
mod range_acceptor;
mod round;
#[cfg(test)]
mod tests;

use super::{Env, Store, StoredEntry};
use crate::agreement::{Ballot, Config, RangeId, Replica, Vote};
use crate::client::{Request, TxnId};
use crate::ids::{NodeId, OpId, Tick};
use crate::message::Message;
use crate::params::Params;
use crate::ring::Ring;
use acceptor::{RangeState, Seat};
use client_op::Waiting;
use handover::RangeRound;
use key_round::KeyRound;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

/// What the versioned store asks of its environment.
impl Env<'_> {
    fn send(&mut self, to: NodeId, message: Message) {
        self.out.send(to, message);
    }

    /// The seat a member of the view holds now, if it is in the view.
    fn seat_of(&self, id: NodeId) -> Option<Replica> {
        self.membership.member(id).map(|m| Replica {
            id,
            incarnation: m.incarnation,
        })
    }

    /// Whether the seat's node is in the view in that incarnation.
    fn alive(&self, seat: Replica) -> bool {
        self.seat_of(seat.id) == Some(seat)
    }
}

/// One node's `versioned` store: its seats in every range, and the rounds it drives.
#[derive(Debug, Clone)]
pub struct VersionedStore {
    me: Replica,
    /// The ring of all seed nodes: it defines the ranges.
    seeds: Ring,
    ranges: Vec<RangeState>,
    ring: Ring,
    ring_version: Option<u64>,
    /// Per range, the seats the ring names for it (empty when the ring is too small): a
    /// function of the view's members and incarnations alone, so it is rebuilt with the ring.
    targets: Vec<Rc<[Replica]>>,
    /// Whether the view changed since the last sweep (which then runs at once).
    view_changed: bool,
    key_rounds: BTreeMap<Rc<str>, KeyRound>,
    waiting: BTreeMap<Rc<str>, VecDeque<Waiting>>,
    range_rounds: BTreeMap<RangeId, RangeRound>,
    /// The highest ballot seen per key, so that a new attempt outbids the competition.
    seen: BTreeMap<Rc<str>, Ballot>,
    /// Round counter shared by all of this incarnation's ballots: never reused, so a ballot
    /// names one proposal even when the node proposes again in an epoch it left and came back to.
    /// It never falls behind the local clock, so that a proposer usually outbids promises left
    /// behind by rounds that gave up earlier (safety does not depend on clocks: only liveness).
    next_round: u64,
    next_txn: TxnId,
    /// Smoothed round trip of this node's rounds (ticks), for resends and backoffs.
    rtt_ticks: Tick,
}

impl Store for VersionedStore {
    /// The ring this node last built from its view.
    fn ring(&self) -> &Ring {
        &self.ring
    }

    /// Every key this node holds as a voter (or a sealed voter not yet handed off), with its
    /// accepted state, sorted by key. Keys never written are left out; a tombstone has no value.
    fn stored(&self) -> Vec<StoredEntry> {
        let mut entries: Vec<StoredEntry> = self
            .ranges
            .iter()
            .filter(|r| !matches!(r.seat, Seat::Outside))
            .flat_map(|r| r.keys.iter())
            .filter_map(|(key, slot)| {
                let state = &slot.vote.as_ref()?.state;
                (state.version > 0).then(|| StoredEntry {
                    key: Rc::clone(key),
                    value: state.value.clone(),
                    version: state.version,
                })
            })
            .collect();
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        entries
    }

    /// One line per range (seat, epoch, replicas, establishment, keys held) and per round in
    /// flight, for state dumps.
    fn summary(&self) -> Vec<String> {
        let seats = |c: &Config| {
            c.members
                .iter()
                .map(|m| format!("n{}.{}", m.id, m.incarnation))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut lines: Vec<String> = self
            .ranges
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let seat = match &r.seat {
                    Seat::Voter(c) => format!("voter e{} [{}]", c.epoch, seats(c)),
                    Seat::Frozen { config, since } => {
                        format!("frozen e{} [{}] since {since}", config.epoch, seats(config))
                    }
                    Seat::Outside => "outside".to_string(),
                };
                format!(
                    "range{i}: {seat}; newest e{} [{}]{}; {} keys",
                    r.newest.epoch,
                    seats(&r.newest),
                    if r.established { " established" } else { "" },
                    r.keys.len()
                )
            })
            .collect();
        lines.extend(
            self.range_rounds
                .iter()
                .map(|(range, round)| format!("range{} round: {}", range.0, round.describe())),
        );
        lines.extend(
            self.key_rounds
                .iter()
                .map(|(key, round)| format!("{key} round: {}", round.describe())),
        );
        lines
    }

    /// Whether this node drives no hand-over and none of its seats is frozen in one: what
    /// "handovers done" means for convergence.
    fn handovers_done(&self) -> bool {
        self.range_rounds.is_empty()
            && self
                .ranges
                .iter()
                .all(|r| !matches!(r.seat, Seat::Frozen { .. }))
    }

    /// How many client operations this node coordinates and has not answered.
    fn pending_ops(&self) -> usize {
        self.key_rounds.values().filter(|r| r.is_client()).count()
            + self.waiting.values().map(VecDeque::len).sum::<usize>()
    }

    /// Timers of the rounds in flight, and the periodic stabilization sweep.
    fn on_tick(&mut self, env: &mut Env) {
        let mark = env.out.sends.len();
        self.refresh_ring(env);
        self.key_timers(env);
        self.range_timers(env);
        for range in 0..self.ranges.len() {
            if self.ranges[range].resync_at.is_some_and(|at| env.now >= at) {
                self.send_sync(range, env);
            }
        }
        let sweep = env.params.sweep_interval_ticks;
        let view_changed = std::mem::take(&mut self.view_changed);
        // Staggered by id, like membership's probes (an interval of 0 is never due).
        if view_changed || (env.now + u64::from(self.me.id.0)).is_multiple_of(sweep) {
            self.sweep(view_changed, env);
        }
        self.deliver_loopback(mark, env);
    }

    /// A message for the store (others are ignored).
    fn on_message(&mut self, from: NodeId, message: &Message, env: &mut Env) {
        let mark = env.out.sends.len();
        self.refresh_ring(env);
        self.handle(from, message, env);
        self.deliver_loopback(mark, env);
    }

    /// A client request: queue it behind the key's current round, or start it.
    fn on_client(&mut self, op: OpId, request: Request, env: &mut Env) {
        let mark = env.out.sends.len();
        self.refresh_ring(env);
        self.client_request(op, request, env);
        self.deliver_loopback(mark, env);
    }
}

impl VersionedStore {
    /// The store of node `me` before it knows anything.
    ///
    /// Every range is born on the introducer alone (incarnation 0), the node every other node
    /// joins through: a single seat is trivially safe, and the introducer hands each range to
    /// the replicas its ring names as soon as the ring has enough members. A genesis on the
    /// ring of all seed nodes would count seats of nodes that have not started yet (late
    /// joiners), which could leave a range without a live quorum from the start.
    pub fn new(me: Replica, params: &Params) -> VersionedStore {
        let seeds = Ring::new(params.seed_nodes.iter().copied());
        let genesis = Replica {
            id: params.introducer,
            incarnation: 0,
        };
        let ranges = (0..seeds.len())
            .map(|slot| {
                let config = Rc::new(Config {
                    range: RangeId(slot as u16),
                    epoch: 0,
                    members: vec![genesis],
                });
                RangeState::new(config, me)
            })
            .collect();
        VersionedStore {
            me,
            seeds,
            ranges,
            ring: Ring::default(),
            ring_version: None,
            targets: Vec::new(),
            view_changed: false,
            key_rounds: BTreeMap::new(),
            waiting: BTreeMap::new(),
            range_rounds: BTreeMap::new(),
            seen: BTreeMap::new(),
            next_round: 0,
            next_txn: 0,
            rtt_ticks: params.op_timeout_ticks / 4,
        }
    }

    /// Hands the messages this step addressed to this very node (from index `mark` of the
    /// outbox on) to the store at once, in order, instead of through the network: a node's
    /// rounds are its own seat's first voter, and a message to oneself is never lost.
    fn deliver_loopback(&mut self, mark: usize, env: &mut Env) {
        while let Some(at) = env.out.sends[mark..]
            .iter()
            .position(|sent| sent.to == self.me.id)
        {
            let message = env.out.sends.remove(mark + at).message;
            self.handle(self.me.id, &message, env);
        }
    }

    /// Dispatches one store message (others are ignored).
    fn handle(&mut self, from: NodeId, message: &Message, env: &mut Env) {
        if from != self.me.id {
            self.observe_reply(message, env.now); // (a loopback answer says nothing of the network)
        }
        match message {
            Message::Prepare { key, ballot } => self.on_prepare(from, key, *ballot, env),
            Message::Accept {
                key,
                ballot,
                state,
                op,
            } => self.on_accept(from, key, *ballot, state, *op, env),
            Message::Commit { key, vote } => self.on_commit(key, vote, env),
            Message::SealPrepare { range, ballot } => {
                self.on_seal_prepare(from, *range, *ballot, env)
            }
            Message::SealAccept {
                range,
                ballot,
                next,
            } => self.on_seal_accept(from, *range, *ballot, next, env),
            Message::Install {
                config,
                votes,
                established,
            } => self.on_install(from, config, votes, *established, env),
            Message::Established { config } => self.on_established(config, env),
            Message::Sync {
                range,
                epoch,
                sync,
                digest,
            } => self.on_sync(from, *range, (*epoch, *sync), digest, env),
            Message::Query { range } => self.on_query(from, *range, env),
            Message::Promise { key, ballot, vote } => {
                self.on_promise(from, key, *ballot, vote.as_deref(), env)
            }
            Message::Accepted { key, ballot } => self.on_accepted(from, key, *ballot, env),
            Message::Refuse { key, ballot, why } => self.on_refuse(from, key, *ballot, why, env),
            Message::SealPromise {
                range,
                ballot,
                vote,
            } => self.on_seal_promise(from, *range, *ballot, vote.as_ref(), env),
            Message::SealAccepted {
                range,
                ballot,
                votes,
            } => self.on_seal_accepted(from, *range, *ballot, votes, env),
            Message::SealRefuse { range, ballot, why } => {
                self.on_seal_refuse(from, *range, *ballot, why, env)
            }
            Message::Installed { range, epoch } => self.on_installed(from, *range, *epoch, env),
            Message::SyncReply {
                range,
                epoch,
                sync,
                standing,
                stale,
            } => self.on_sync_reply(from, *range, (*epoch, *sync), *standing, stale, env),
            Message::JoinRequest { .. }
            | Message::JoinReply { .. }
            | Message::Gossip { .. }
            | Message::KvRequest { .. }
            | Message::KvReply { .. }
            | Message::Replicate { .. }
            | Message::Forward { .. } => {}
        }
    }

    /// Rebuilds the ring when the view changed (and notes it for the next sweep).
    fn refresh_ring(&mut self, env: &Env) {
        let version = env.membership.version();
        if self.ring_version != Some(version) {
            self.ring_version = Some(version);
            self.ring = Ring::new(env.membership.view().iter().copied());
            self.targets = (0..self.ranges.len())
                .map(|range| self.place(range, env).into())
                .collect();
            self.view_changed = true;
        }
    }

    /// The range a key belongs to.
    fn range_of(&self, key: &str) -> usize {
        self.seeds
            .slot_at(crate::ring::key_position(key))
            .expect("ranges exist whenever keys are used: the seed list is not empty")
    }

    /// The seats the ring of this node's view names for a range (empty if the ring is too
    /// small), as of the last [`Self::refresh_ring`], which every step begins with.
    fn target(&self, range: usize) -> Vec<Replica> {
        self.targets[range].to_vec()
    }

    /// Where the ring of this node's view places a range: its seats, or none if the ring has
    /// too few members.
    fn place(&self, range: usize, env: &Env) -> Vec<Replica> {
        let mut ids = Vec::new();
        self.ring.replicas_at(
            self.seeds.slot_position(range),
            env.params.replicas,
            &mut ids,
        );
        let seats: Vec<Replica> = ids.iter().filter_map(|&id| env.seat_of(id)).collect();
        if seats.len() == env.params.replicas {
            seats
        } else {
            Vec::new()
        }
    }

    /// Whether this node is the steward of a configuration: its first seat alive in the view.
    fn is_steward(&self, config: &Config, env: &Env) -> bool {
        config.members.iter().find(|&&m| env.alive(m)) == Some(&self.me)
    }

    /// Stabilization, per range: stewards re-seal ranges onto the replicas the ring names and
    /// keep the seats in sync; nodes in the wrong place ask to be handed the range or let go.
    /// When the view changed, stewards also tell every member of the view where their ranges
    /// are, so that a node that just (re)joined routes its first prepare right.
    fn sweep(&mut self, view_changed: bool, env: &mut Env) {
        for range in 0..self.ranges.len() {
            let target = Rc::clone(&self.targets[range]);
            if target.is_empty() {
                continue; // too few live nodes to place the range
            }
            let state = &self.ranges[range];
            let newest_epoch = state.newest.epoch;
            let established = state.established;
            let mut query = false;
            match &state.seat {
                Seat::Voter(config) => {
                    let config = Rc::clone(config);
                    if config.epoch < newest_epoch {
                        query = true; // the range moved on without this node noticing
                    } else if self.is_steward(&config, env) {
                        // Sync even when a handover is due: it installs seats that missed
                        // theirs, without which the seal may not find a quorum of voters.
                        self.send_sync(range, env);
                        if view_changed && established {
                            for &id in env.membership.view() {
                                if !config.has_node(id) {
                                    let config = Rc::clone(&config);
                                    env.send(id, Message::Established { config });
                                }
                            }
                        }
                        if !config.same_seats(&target) {
                            self.start_range_round(config, target.to_vec(), false, env);
                        }
                    }
                    query |= !target.contains(&self.me);
                }
                Seat::Frozen { config, since } => {
                    // Sealed but not released (by an install or an establishment): learn where
                    // the range went, and finish the handover in case its proposer gave up;
                    // only the first live seat does, so that seats do not duel over the seal.
                    query = true;
                    let config = Rc::clone(config);
                    if env.now >= since + env.params.sweep_interval_ticks
                        && self.is_steward(&config, env)
                    {
                        self.start_range_round(config, target.to_vec(), true, env);
                    }
                }
                // Named by the ring, or by the newest configuration (whose handover it missed).
                Seat::Outside => query = target.contains(&self.me) || state.newest.has(self.me),
            }
            if query {
                self.send_query(range, &target, env);
            }
        }
    }

    /// Asks the nodes the ring names, and the newest known seats, about a range.
    fn send_query(&self, range: usize, target: &[Replica], env: &mut Env) {
        let mut to: Vec<NodeId> = target
            .iter()
            .chain(self.ranges[range].newest.members.iter())
            .map(|m| m.id)
            .filter(|&id| id != self.me.id)
            .collect();
        to.sort_unstable();
        to.dedup();
        for id in to {
            env.send(
                id,
                Message::Query {
                    range: RangeId(range as u16),
                },
            );
        }
    }

    /// A fresh ballot in `epoch` that outbids `seen`.
    fn new_ballot(&mut self, seen: Ballot, epoch: u64, now: Tick) -> Ballot {
        let floor = if seen.epoch == epoch { seen.round } else { 0 };
        self.next_round = self.next_round.max(floor).max(now) + 1;
        Ballot {
            epoch,
            round: self.next_round,
            node: self.me.id,
            incarnation: self.me.incarnation,
        }
    }

    /// Remembers a ballot seen for a key.
    fn note_ballot(&mut self, key: &Rc<str>, ballot: Ballot) {
        match self.seen.get_mut(key) {
            Some(seen) => *seen = (*seen).max(ballot),
            None => {
                self.seen.insert(Rc::clone(key), ballot);
            }
        }
    }

    /// Learns that a range has (at least) this configuration.
    fn learn_config(&mut self, config: &Rc<Config>) {
        let state = &mut self.ranges[usize::from(config.range.0)];
        if config.epoch > state.newest.epoch {
            state.newest = Rc::clone(config);
        }
    }
}

/// The newest of a set of votes (`None` when none accepted anything).
fn newest_vote<'a>(votes: impl IntoIterator<Item = Option<&'a Vote>>) -> Option<&'a Vote> {
    votes.into_iter().flatten().max_by_key(|v| v.ballot)
}
