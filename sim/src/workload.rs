//! Closed-loop clients: each issues an operation, waits for its answer, thinks, and goes again.
//!
//! Every client draws from its own random stream (its operations, keys, coordinators and think
//! times), so removing one client's tail while shrinking leaves every other client's operations
//! as they were.

use crate::scenario::Workload;
use crate::streams::{stream, Consumer};
use crate::world::World;
use node::random::{below, between};
use node::{OpId, Request, Tick};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One client.
#[derive(Debug, Clone)]
struct Client {
    rng: ChaCha8Rng,
    issued: u32,
    pending: Option<OpId>,
    next_at: Tick,
}

/// The clients of a run and the operations they have open.
#[derive(Debug)]
pub struct Clients {
    spec: Workload,
    /// The final reads' coordinators.
    rng: ChaCha8Rng,
    clients: Vec<Client>,
    owner: BTreeMap<OpId, usize>,
    next_op: OpId,
}

/// A random live coordinator, or `None` when no node runs.
fn coordinator(world: &World, rng: &mut ChaCha8Rng) -> Option<node::NodeId> {
    let live = world.live_ids();
    (!live.is_empty()).then(|| live[below(rng, live.len() as u64) as usize])
}

/// A client's coordinator: the node that (re)started within `fresh_node_ticks`, if any (see
/// [`Workload::fresh_node_ticks`]), else [`coordinator`]. The random draw is made either way,
/// so that the window does not shift the client's later operations.
fn client_coordinator(
    world: &World,
    rng: &mut ChaCha8Rng,
    fresh_node_ticks: Tick,
) -> Option<node::NodeId> {
    let drawn = coordinator(world, rng)?;
    if fresh_node_ticks == 0 {
        return Some(drawn);
    }
    Some(world.freshest_within(fresh_node_ticks).unwrap_or(drawn))
}

impl Clients {
    /// The clients of `spec` in the run with root seed `seed`.
    pub fn new(spec: &Workload, seed: u64) -> Clients {
        let clients = (0..spec.clients)
            .map(|i| Client {
                rng: stream(seed, Consumer::Client(i)),
                issued: 0,
                pending: None,
                next_at: spec.start_tick,
            })
            .collect();
        Clients {
            spec: spec.clone(),
            rng: stream(seed, Consumer::Workload),
            clients,
            owner: BTreeMap::new(),
            next_op: 0,
        }
    }

    /// Whether no operation is open.
    pub fn idle(&self) -> bool {
        self.owner.is_empty()
    }

    fn invoke(
        &mut self,
        world: &mut World,
        client: usize,
        coordinator: node::NodeId,
        request: Request,
    ) -> OpId {
        self.next_op += 1;
        let op = self.next_op;
        self.owner.insert(op, client);
        world.invoke(op, client as u64, coordinator, request);
        op
    }

    /// Clients whose think time is over issue their next operation.
    pub fn issue(&mut self, world: &mut World) {
        let now = world.now();
        let mix = self.spec.mix;
        for i in 0..self.clients.len() {
            let c = &mut self.clients[i];
            if c.pending.is_some() || c.issued == self.spec.ops_per_client || now < c.next_at {
                continue;
            }
            let Some(to) = client_coordinator(world, &mut c.rng, self.spec.fresh_node_ticks) else {
                return;
            };
            let draw = below(&mut c.rng, mix.total());
            let key = self.spec.key(below(&mut c.rng, u64::from(self.spec.keys)));
            // Unique values, so every read can be attributed to the write it saw.
            let value: Rc<str> = format!("c{i}v{}", c.issued).into();
            let (create, read, update) = (
                u64::from(mix.create),
                u64::from(mix.read),
                u64::from(mix.update),
            );
            let request = if draw < create {
                Request::Create { key, value }
            } else if draw < create + read {
                Request::Read { key }
            } else if draw < create + read + update {
                Request::Update { key, value }
            } else {
                Request::Delete { key }
            };
            c.issued += 1;
            let op = self.invoke(world, i, to, request);
            self.clients[i].pending = Some(op);
        }
    }

    /// Frees the clients whose operations were answered.
    pub fn on_answered(&mut self, ops: &[OpId], world: &World) {
        let now = world.now();
        let think_ticks_max = self.spec.think_ticks_max.max(1);
        for op in ops {
            if let Some(c) = self.owner.remove(op).and_then(|i| self.clients.get_mut(i)) {
                c.pending = None;
                c.next_at = now.saturating_add(between(&mut c.rng, 1, think_ticks_max));
            }
        }
    }

    /// Operations whose coordinator crashed stay open in the history; their clients move on.
    pub fn on_orphaned(&mut self, ops: &[OpId]) {
        for op in ops {
            if let Some(c) = self.owner.remove(op).and_then(|i| self.clients.get_mut(i)) {
                c.pending = None;
            }
        }
    }

    /// The quiet phase's read of every key, each by a client of its own.
    pub fn final_reads(&mut self, world: &mut World) {
        for k in 0..self.spec.keys {
            let client = self.clients.len() + k as usize;
            if let Some(to) = coordinator(world, &mut self.rng) {
                self.invoke(
                    world,
                    client,
                    to,
                    Request::Read {
                        key: self.spec.key(u64::from(k)),
                    },
                );
            }
        }
    }
}
