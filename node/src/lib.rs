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
pub mod table;

pub use client::{Ack, ClientReply, OpKind, Reason, Request};
pub use ids::{Address, Incarnation, NodeId, OpId, Tick};
pub use message::{Digest, Input, Message, Outbox, Outgoing, SyncDigest, SyncStale};
pub use observation::{Observation, Role};
pub use params::{Params, PlantedBug, Variant};
pub use table::Table;

use membership::Membership;
use rand_core::RngCore;
use ring::Ring;
use std::rc::Rc;
use store::{Env, Store};

pub use store::StoredEntry;

/// One node: membership plus the store, composed; the node forwards to both without knowing
/// the store's variant.
#[derive(Debug)]
pub struct Node {
    id: NodeId,
    incarnation: Incarnation,
    params: Rc<Params>,
    membership: Membership,
    store: Box<dyn Store>,
}

impl Node {
    /// A node that has not started yet. `incarnation` is 0 at first start and one more at every
    /// restart (the driver counts restarts; the node keeps nothing across them).
    pub fn new(id: NodeId, incarnation: Incarnation, params: Rc<Params>) -> Node {
        let store = store::new_store(agreement::Replica { id, incarnation }, &params);
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
        self.store.ring()
    }

    /// The keys this node stores, sorted by key.
    pub fn stored(&self) -> Vec<StoredEntry> {
        self.store.stored()
    }

    /// The store's protocol state beyond what it stores, one line per item, for a person
    /// reading a state dump (`versioned`: each range's seat, epoch and replicas, and the rounds
    /// in flight; `classic` keeps nothing beyond its values).
    pub fn store_summary(&self) -> Vec<String> {
        self.store.summary()
    }

    /// Whether the node's stabilization hand-overs are done. The classic store's hand-overs
    /// are messages sent once, so it is always done; the versioned store is done when it drives
    /// no hand-over round and none of its seats is frozen in one.
    pub fn handovers_done(&self) -> bool {
        self.store.handovers_done()
    }

    /// How many client operations this node coordinates and has not answered.
    pub fn pending_ops(&self) -> usize {
        self.store.pending_ops()
    }

    /// Feeds one input at time `now`; effects are pushed into `out`.
    pub fn step<R: RngCore + ?Sized>(
        &mut self,
        now: Tick,
        input: Input<'_>,
        rng: &mut R,
        out: &mut Outbox,
    ) {
        // Borrowed apart rather than through `self`, so the parameters need no clone of
        // their `Rc` for every step.
        let Node {
            incarnation,
            params,
            membership,
            store,
            ..
        } = self;
        let params: &Params = params;
        match &input {
            Input::Start => return membership.start(now, *incarnation, params, rng, out),
            Input::Tick => membership.tick(now, params, rng, out),
            Input::Deliver { from, message } => {
                if membership.on_message(now, *from, message, params, out) {
                    return; // a membership message
                }
            }
            Input::Client { .. } => {}
        }
        // The store's turn: ticks after membership's, the messages membership did not take,
        // and client requests.
        let mut rng = rng;
        let env = &mut Env {
            now,
            membership,
            params,
            rng: &mut rng,
            out,
        };
        match input {
            Input::Start => {} // membership's alone, handled above
            Input::Tick => store.on_tick(env),
            Input::Deliver { from, message } => store.on_message(from, message, env),
            Input::Client { op, request } => store.on_client(op, request, env),
        }
    }
}
