//! The system under test: gossip membership, the consistent-hashing ring and the key-value store,
//! written as pure synchronous step functions.
//!
//! A [`Node`] is a state machine. Its driver (the simulator, or one day a real network runtime)
//! calls [`Node::step`] with one [`Input`] at a time, the node's current time and the node's own
//! random stream; the node pushes what it wants done into a caller-owned [`Outbox`]. Nothing else
//! reaches the node: no I/O, no clock, no threads, no hidden randomness.

pub mod agreement;
pub mod bugs;
pub mod client;
pub mod ids;
pub mod membership;
pub mod message;
pub mod observation;
pub mod params;
pub mod random;
pub mod ring;
pub mod store;

pub use client::{Ack, ClientReply, OpKind, Reason, Request};
pub use ids::{Address, Incarnation, NodeId, OpId, Tick};
pub use message::{Digest, Input, Message, Outbox};
pub use observation::{Observation, Role};
pub use params::{Params, PlantedBug, Variant};

use membership::Membership;
use rand_core::RngCore;
use ring::Ring;
use std::rc::Rc;
use store::classic::ClassicStore;
use store::versioned::{Env, VersionedStore};

/// A replica's copy of one key, as drivers and checkers see it whatever the store variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// The key.
    pub key: Rc<str>,
    /// Its value; `None` for a tombstone.
    pub value: Option<Rc<str>>,
    /// Version of the state (0 where the variant does not version values).
    pub version: u64,
}

/// The store layer of a node, by variant.
#[derive(Debug, Clone)]
enum Store {
    Classic(ClassicStore),
    Versioned(Box<VersionedStore>),
}

/// One node: membership plus the store.
#[derive(Debug, Clone)]
pub struct Node {
    id: NodeId,
    incarnation: Incarnation,
    params: Rc<Params>,
    membership: Membership,
    store: Store,
}

impl Node {
    /// A node that has not started yet. `incarnation` is 0 at first start and one more at every
    /// restart (the driver counts restarts; the node keeps nothing across them).
    pub fn new(id: NodeId, incarnation: Incarnation, params: Rc<Params>) -> Node {
        let store = match params.variant {
            Variant::Classic => Store::Classic(ClassicStore::default()),
            Variant::Versioned => Store::Versioned(Box::new(VersionedStore::new(
                agreement::Replica { id, incarnation },
                &params,
            ))),
        };
        Node {
            id,
            incarnation,
            params,
            membership: Membership::new(id),
            store,
        }
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The node's incarnation.
    pub fn incarnation(&self) -> Incarnation {
        self.incarnation
    }

    /// The membership layer (view, failure detector state).
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// The ring this node last built from its view.
    pub fn ring(&self) -> &Ring {
        match &self.store {
            Store::Classic(s) => s.ring(),
            Store::Versioned(s) => s.ring(),
        }
    }

    /// The keys this node stores, sorted by key.
    pub fn stored(&self) -> Vec<StoredEntry> {
        match &self.store {
            Store::Classic(s) => s
                .entries()
                .map(|(k, v)| StoredEntry {
                    key: Rc::clone(k),
                    value: Some(Rc::clone(v)),
                    version: 0,
                })
                .collect(),
            Store::Versioned(s) => s.stored(),
        }
    }

    /// The store's protocol state beyond what it stores, one line per item, for a person
    /// reading a state dump (`versioned`: each range's seat, epoch and replicas, and the rounds
    /// in flight; `classic` keeps nothing beyond its values).
    pub fn store_summary(&self) -> Vec<String> {
        match &self.store {
            Store::Classic(_) => Vec::new(),
            Store::Versioned(s) => s.summary(),
        }
    }

    /// Whether the node's stabilization hand-overs are done. The classic store's hand-overs
    /// are messages sent once, so it is always done; the versioned store is done when it drives
    /// no hand-over round and none of its seats is frozen in one.
    pub fn handovers_done(&self) -> bool {
        match &self.store {
            Store::Classic(_) => true,
            Store::Versioned(s) => s.handovers_done(),
        }
    }

    /// How many client operations this node coordinates and has not answered.
    pub fn pending_ops(&self) -> usize {
        match &self.store {
            Store::Classic(s) => s.pending_ops(),
            Store::Versioned(s) => s.pending_ops(),
        }
    }

    /// Feeds one input at time `now`; effects are pushed into `out`.
    pub fn step<R: RngCore + ?Sized>(
        &mut self,
        now: Tick,
        input: Input,
        rng: &mut R,
        out: &mut Outbox,
    ) {
        let params = Rc::clone(&self.params);
        match input {
            Input::Start => self
                .membership
                .start(now, self.incarnation, &params, rng, out),
            Input::Tick => {
                self.membership.tick(now, &params, rng, out);
                let view_version = self.membership.version();
                let view = self.membership.view();
                match &mut self.store {
                    Store::Classic(s) => s.tick(self.id, now, view, view_version, &params, out),
                    Store::Versioned(s) => s.on_tick(&mut Env {
                        now,
                        membership: &self.membership,
                        params: &params,
                        rng,
                        out,
                    }),
                }
            }
            Input::Deliver { from, message } => {
                if !self
                    .membership
                    .on_message(now, from, &message, &params, out)
                {
                    match &mut self.store {
                        Store::Classic(s) => {
                            s.on_message(self.id, from, &message, &params, out);
                        }
                        Store::Versioned(s) => {
                            let env = &mut Env {
                                now,
                                membership: &self.membership,
                                params: &params,
                                rng,
                                out,
                            };
                            s.on_message(from, &message, env);
                        }
                    }
                }
            }
            Input::Client { op, request } => {
                let (view, view_version) = (self.membership.view(), self.membership.version());
                match &mut self.store {
                    Store::Classic(s) => {
                        s.sync_ring(view, view_version);
                        s.on_client(now, op, request, &params, out);
                    }
                    Store::Versioned(s) => s.on_client(
                        op,
                        request,
                        &mut Env {
                            now,
                            membership: &self.membership,
                            params: &params,
                            rng,
                            out,
                        },
                    ),
                }
            }
        }
    }
}
