//! Closed-loop clients: each issues an operation, waits for its answer, thinks, and goes again.

use crate::scenario::Workload;
use crate::world::World;
use node::random::{below, between};
use node::{OpId, Request, Tick};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One client.
#[derive(Debug, Clone)]
struct Client {
    remaining: u32,
    pending: Option<OpId>,
    next_at: Tick,
}

/// The clients of a run and the operations they have open.
#[derive(Debug)]
pub struct Clients {
    spec: Workload,
    rng: ChaCha8Rng,
    clients: Vec<Client>,
    owner: BTreeMap<OpId, usize>,
    next_op: OpId,
    final_reads: Vec<OpId>,
}

impl Clients {
    /// The clients of `spec`, drawing from `rng`.
    pub fn new(spec: &Workload, rng: ChaCha8Rng) -> Clients {
        let clients = (0..spec.clients)
            .map(|_| Client {
                remaining: spec.ops_per_client,
                pending: None,
                next_at: spec.start_tick,
            })
            .collect();
        Clients {
            spec: spec.clone(),
            rng,
            clients,
            owner: BTreeMap::new(),
            next_op: 0,
            final_reads: Vec::new(),
        }
    }

    /// Whether no operation is open.
    pub fn idle(&self) -> bool {
        self.owner.is_empty()
    }

    fn key(&mut self) -> Rc<str> {
        format!("k{}", below(&mut self.rng, u64::from(self.spec.keys))).into()
    }

    fn invoke(&mut self, world: &mut World, client: usize, request: Request) -> bool {
        let live = world.live_ids();
        if live.is_empty() {
            return false;
        }
        let coordinator = live[below(&mut self.rng, live.len() as u64) as usize];
        self.next_op += 1;
        let op = self.next_op;
        self.owner.insert(op, client);
        world.invoke(op, client as u64, coordinator, request);
        true
    }

    /// Clients whose think time is over issue their next operation.
    pub fn issue(&mut self, world: &mut World) {
        let now = world.now();
        for i in 0..self.clients.len() {
            let c = &self.clients[i];
            if c.pending.is_some() || c.remaining == 0 || now < c.next_at {
                continue;
            }
            let sequence = self.spec.ops_per_client - c.remaining;
            let mix = self.spec.mix;
            let draw = below(
                &mut self.rng,
                u64::from(mix.create + mix.read + mix.update + mix.delete),
            ) as u32;
            let key = self.key();
            // Unique values, so every read can be attributed to the write it saw.
            let value: Rc<str> = format!("c{i}v{sequence}").into();
            let request = if draw < mix.create {
                Request::Create { key, value }
            } else if draw < mix.create + mix.read {
                Request::Read { key }
            } else if draw < mix.create + mix.read + mix.update {
                Request::Update { key, value }
            } else {
                Request::Delete { key }
            };
            if self.invoke(world, i, request) {
                let c = &mut self.clients[i];
                c.pending = Some(self.next_op);
                c.remaining -= 1;
            }
        }
    }

    /// Frees the clients whose operations were answered.
    pub fn on_answered(&mut self, ops: &[OpId], world: &mut World) {
        let now = world.now();
        for op in ops {
            if let Some(i) = self.owner.remove(op) {
                if let Some(c) = self.clients.get_mut(i) {
                    c.pending = None;
                    c.next_at = now + between(&mut self.rng, 1, self.spec.think_ticks_max.max(1));
                }
            }
        }
    }

    /// Operations whose coordinator crashed stay open in the history; their clients move on.
    pub fn on_orphaned(&mut self, ops: &[OpId]) {
        for op in ops {
            if let Some(i) = self.owner.remove(op) {
                if let Some(c) = self.clients.get_mut(i) {
                    c.pending = None;
                }
            }
        }
    }

    /// The quiet phase's read of every key, each by a client of its own.
    pub fn final_reads(&mut self, world: &mut World) {
        for k in 0..self.spec.keys {
            let client = self.clients.len() + k as usize;
            if self.invoke(
                world,
                client,
                Request::Read {
                    key: format!("k{k}").into(),
                },
            ) {
                self.final_reads.push(self.next_op);
            }
        }
    }
}
