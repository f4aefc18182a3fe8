//! The second driver of [`node::Node`]: everything a node process does between its socket and
//! the step function, with no socket and no clock of its own.
//!
//! How the node is kept pure on a real network (the review note the issue asks for): the only
//! things that reach [`Node::step`] are its arguments, and this module builds each of them from
//! its own inputs alone. `now` is the count of [`Driver::tick`] calls (the process loop calls it
//! once per wall-clock tick, so a paused process's clock simply stops, as a skewed clock does in
//! the simulator); the random stream is the simulator's own `Node(id, incarnation)` ChaCha
//! stream of the cluster's seed; inputs are decoded datagrams. The driver reads no clock, draws
//! no randomness of its own, and keeps every table in a `BTreeMap`/`BTreeSet`. The test
//! `the_driver_is_a_function_of_its_inputs` holds it to that: two drivers fed the same ticks and
//! datagrams send byte-identical datagrams.

use super::layout::ClusterFile;
use super::wire::{self, Command, Counters, Packet, Refused, Status};
use crate::streams::{stream, Consumer};
use node::{Input, Node, NodeId, Observation, OpId, Outbox, Outgoing, Params, Tick};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::rc::Rc;

/// Datagrams to send: (destination, bytes).
pub type Datagrams = Vec<(SocketAddr, Vec<u8>)>;

/// A node and what its process keeps around it.
#[derive(Debug)]
pub struct Driver {
    cluster: ClusterFile,
    node: Node,
    rng: ChaCha8Rng,
    now: Tick,
    outbox: Outbox,
    blocked: BTreeSet<NodeId>,
    /// Operations the node coordinates: the driver's op id -> (client address, client's op id).
    /// Clients choose their own op ids, so two clients may use the same one; the node sees the
    /// driver's.
    pending: BTreeMap<OpId, (SocketAddr, u64)>,
    next_op: OpId,
    counters: Counters,
    log: Vec<String>,
}

/// The protocol parameters of a local cluster: the simulator's defaults for its size.
pub fn cluster_params(cluster: &ClusterFile) -> Params {
    Params {
        variant: cluster.variant,
        bug: cluster.bug,
        ..Params::original(cluster.nodes)
    }
}

impl Driver {
    /// Node `id` in `incarnation`, started (its join request is already in `out`).
    pub fn start(cluster: ClusterFile, id: NodeId, incarnation: u32, out: &mut Datagrams) -> Self {
        let params = Rc::new(cluster_params(&cluster));
        let mut driver = Driver {
            node: Node::new(id, incarnation, params),
            rng: stream(cluster.seed, Consumer::Node(id, incarnation)),
            cluster,
            now: 0,
            outbox: Outbox::default(),
            blocked: BTreeSet::new(),
            pending: BTreeMap::new(),
            next_op: 1,
            counters: Counters::default(),
            log: Vec::new(),
        };
        driver
            .log
            .push(format!("[{:>6}] start incarnation={incarnation}", 0));
        driver.step(Input::Start, out);
        driver
    }

    /// One tick of the node's clock passed.
    pub fn tick(&mut self, out: &mut Datagrams) {
        self.now += 1;
        self.step(Input::Tick, out);
    }

    /// A datagram arrived from `src`.
    pub fn receive(&mut self, bytes: &[u8], src: SocketAddr, out: &mut Datagrams) {
        self.counters.received += 1;
        let packet = match wire::decode(bytes) {
            Ok(packet) => packet,
            Err(Refused::Oversized) => {
                self.counters.oversized += 1;
                return;
            }
            Err(Refused::Malformed) => {
                self.counters.malformed += 1;
                return;
            }
        };
        match packet {
            Packet::Peer { from, message } => {
                if self.cluster.node_at(src) != Some(from) {
                    self.counters.foreign += 1;
                } else if self.blocked.contains(&from) {
                    self.counters.partitioned += 1;
                } else {
                    self.counters.delivered += 1;
                    self.step(
                        Input::Deliver {
                            from,
                            message: &message,
                        },
                        out,
                    );
                }
            }
            Packet::Request { op, request } => {
                self.counters.requests += 1;
                let local = self.next_op;
                self.next_op += 1;
                self.pending.insert(local, (src, op));
                self.step(Input::Client { op: local, request }, out);
            }
            Packet::Control { nonce, command } => {
                if let Command::Block { peers } = command {
                    self.blocked = peers.into_iter().collect();
                    self.log
                        .push(format!("[{:>6}] block {:?}", self.now, self.blocked));
                }
                let status = self.status();
                send(
                    out,
                    src,
                    &Packet::Status { nonce, status },
                    &mut self.counters,
                );
            }
            Packet::Reply { .. } | Packet::Status { .. } => self.counters.foreign += 1,
        }
    }

    /// The node's state as the control channel reports it.
    pub fn status(&self) -> Status {
        Status {
            id: self.node.id(),
            incarnation: self.node.incarnation(),
            now_ticks: self.now,
            view: sorted(self.node.membership().view()),
            handovers_done: self.node.handovers_done(),
            pending_ops: self.node.pending_ops(),
            blocked: self.blocked.iter().copied().collect(),
            stored_keys: self.node.stored().len(),
            counters: self.counters,
        }
    }

    /// Log lines written since the last call.
    pub fn take_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }

    fn step(&mut self, input: Input<'_>, out: &mut Datagrams) {
        self.node
            .step(self.now, input, &mut self.rng, &mut self.outbox);
        let me = self.node.id();
        for Outgoing { message, to } in std::mem::take(&mut self.outbox.sends) {
            if self.blocked.contains(&to) || !self.cluster.contains(to) {
                self.counters.partitioned += 1;
                continue;
            }
            let packet = Packet::Peer { from: me, message };
            if send(out, self.cluster.addr(to), &packet, &mut self.counters) {
                self.counters.sent += 1;
            }
        }
        let view = sorted(self.node.membership().view());
        for mut reply in std::mem::take(&mut self.outbox.replies) {
            let Some((client, op)) = self.pending.remove(&reply.op) else {
                continue;
            };
            reply.op = op;
            let packet = Packet::Reply {
                reply,
                incarnation: self.node.incarnation(),
                view: view.clone(),
            };
            send(out, client, &packet, &mut self.counters);
        }
        for observation in std::mem::take(&mut self.outbox.observations) {
            if is_logged(&observation) {
                self.log.push(format!("[{:>6}] {observation:?}", self.now));
            }
        }
    }
}

/// Whether an observation goes to the node's log: membership changes and client operations;
/// per-replica bookkeeping would make the log mostly noise.
fn is_logged(observation: &Observation) -> bool {
    !matches!(
        observation,
        Observation::ReplicaStored { .. }
            | Observation::HandedOver { .. }
            | Observation::WriteForwarded { .. }
            | Observation::BallotConflict { .. }
            | Observation::ReadRepair { .. }
            | Observation::Voted { .. }
            | Observation::Decided { .. }
            | Observation::WriteRouted { .. }
    )
}

fn sorted(view: &[NodeId]) -> Vec<NodeId> {
    let mut view = view.to_vec();
    view.sort();
    view
}

/// Queues `packet` for `to`; counts and skips it if it does not fit in a datagram.
fn send(out: &mut Datagrams, to: SocketAddr, packet: &Packet, counters: &mut Counters) -> bool {
    match wire::encode(packet) {
        Some(bytes) => {
            out.push((to, bytes));
            true
        }
        None => {
            counters.send_failed += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node::{Message, PlantedBug, Request, Table, Variant};

    fn cluster() -> ClusterFile {
        ClusterFile {
            nodes: 3,
            base_port: 40_000,
            variant: Variant::Versioned,
            seed: 7,
            tick_ms: 10,
            bug: PlantedBug::None,
        }
    }

    /// Three drivers wired to each other in memory, in a fixed order, with a client request.
    fn run() -> Vec<(SocketAddr, Vec<u8>)> {
        let cluster = cluster();
        let mut sent = Vec::new();
        let mut queue: Datagrams = Vec::new();
        let mut drivers: Vec<Driver> = cluster
            .ids()
            .map(|id| Driver::start(cluster.clone(), id, 0, &mut queue))
            .collect();
        let client: SocketAddr = "127.0.0.1:1".parse().unwrap();
        for round in 0..60 {
            if round == 40 {
                let request = wire::encode(&Packet::Request {
                    op: 5,
                    request: Request::Create {
                        key: Rc::from("k"),
                        value: Rc::from("v"),
                    },
                })
                .unwrap();
                queue.push((cluster.addr(NodeId(2)), request));
            }
            let mut next = Vec::new();
            for (to, bytes) in queue.drain(..) {
                sent.push((to, bytes.clone()));
                let Some(target) = cluster.node_at(to) else {
                    continue;
                };
                let from = wire::decode(&bytes).ok().and_then(|p| match p {
                    Packet::Peer { from, .. } => Some(cluster.addr(from)),
                    _ => None,
                });
                let src = from.unwrap_or(client);
                drivers[usize::from(target.0) - 1].receive(&bytes, src, &mut next);
            }
            for driver in &mut drivers {
                driver.tick(&mut next);
            }
            queue = next;
        }
        sent
    }

    #[test]
    fn the_driver_is_a_function_of_its_inputs() {
        let first = run();
        assert_eq!(first, run());
        let replies: Vec<Packet> = first
            .iter()
            .filter(|(to, _)| to.port() == 1)
            .filter_map(|(_, bytes)| wire::decode(bytes).ok())
            .collect();
        assert!(
            matches!(&replies[..], [Packet::Reply { reply, .. }] if reply.op == 5 && reply.success),
            "{replies:?}"
        );
    }

    #[test]
    fn foreign_and_blocked_peers_are_counted_and_dropped() {
        let cluster = cluster();
        let mut out = Vec::new();
        let mut driver = Driver::start(cluster.clone(), NodeId(1), 0, &mut out);
        let gossip = |from: u8| {
            wire::encode(&Packet::Peer {
                from: NodeId(from),
                message: Message::Gossip {
                    members: Table::from(vec![]),
                },
            })
            .unwrap()
        };
        // Node 9 is outside the cluster; node 2's id from node 3's address is a forgery.
        driver.receive(&gossip(9), "127.0.0.1:40009".parse().unwrap(), &mut out);
        driver.receive(&gossip(2), cluster.addr(NodeId(3)), &mut out);
        let block = wire::encode(&Packet::Control {
            nonce: 1,
            command: Command::Block {
                peers: vec![NodeId(2)],
            },
        })
        .unwrap();
        driver.receive(&block, "127.0.0.1:1".parse().unwrap(), &mut out);
        driver.receive(&gossip(2), cluster.addr(NodeId(2)), &mut out);
        driver.receive(&gossip(3), cluster.addr(NodeId(3)), &mut out);
        let counters = driver.status().counters;
        assert_eq!(
            (counters.foreign, counters.partitioned, counters.delivered),
            (2, 1, 1)
        );
        assert_eq!(driver.status().blocked, vec![NodeId(2)]);
    }
}
