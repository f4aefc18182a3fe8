//! The system under test: gossip membership, the consistent-hashing ring and the key-value store,
//! written as pure synchronous step functions.
//!
//! A [`Node`] is a state machine. Its driver (the simulator, or one day a real network runtime)
//! calls [`Node::step`] with one [`Input`] at a time, the node's current time and the node's own
//! random stream; the node pushes what it wants done into a caller-owned [`Outbox`]. Nothing else
//! reaches the node: no I/O, no clock, no threads, no hidden randomness.

pub mod ids;
pub mod membership;
pub mod message;
pub mod params;
pub mod random;
pub mod ring;
pub mod store;

pub use ids::{Address, Incarnation, NodeId, OpId, Tick};
pub use message::{
    Ack, ClientReply, Digest, Input, Message, Observation, OpKind, Outbox, Reason, Request, Role,
};
pub use params::{Params, PlantedBug, Variant};

use membership::Membership;
use rand_core::RngCore;
use std::rc::Rc;
use store::classic::ClassicStore;

/// One node: membership plus the store.
#[derive(Debug, Clone)]
pub struct Node {
    id: NodeId,
    incarnation: Incarnation,
    params: Rc<Params>,
    membership: Membership,
    store: ClassicStore,
}

impl Node {
    /// A node that has not started yet. `incarnation` is 0 at first start and one more at every
    /// restart (the driver counts restarts; the node keeps nothing across them).
    pub fn new(id: NodeId, incarnation: Incarnation, params: Rc<Params>) -> Node {
        Node {
            id,
            incarnation,
            params,
            membership: Membership::new(id),
            store: ClassicStore::default(),
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

    /// The store layer (replica table, pending operations).
    pub fn store(&self) -> &ClassicStore {
        &self.store
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
                self.store.tick(
                    self.id,
                    now,
                    self.membership.view(),
                    view_version,
                    &params,
                    out,
                );
            }
            Input::Deliver { from, message } => {
                if !self.membership.on_message(now, from, &message, out) {
                    self.store.on_message(from, &message, &params, out);
                }
            }
            Input::Client { op, request } => self.store.on_client(now, op, request, &params, out),
        }
    }
}
