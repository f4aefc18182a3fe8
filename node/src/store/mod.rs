//! The key-value store layers that run on top of membership, behind one interface.
//!
//! A [`crate::Node`] composes its membership with one [`Store`] and forwards every input to it
//! without knowing which variant it is: the variant is chosen once, in [`new_store`]. A new
//! variant brings its own module, one line there and one entry in [`Variant`]'s catalog.

pub mod classic;
pub mod versioned;

use crate::agreement::Replica;
use crate::client::Request;
use crate::ids::{NodeId, OpId, Tick};
use crate::membership::Membership;
use crate::message::{Message, Outbox};
use crate::params::{Params, Variant};
use crate::ring::Ring;
use classic::ClassicStore;
use rand_core::RngCore;
use std::fmt;
use std::rc::Rc;
use versioned::VersionedStore;

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

/// What one step gives a store besides its own state: the same shape for every variant.
pub struct Env<'a> {
    /// The node's current time.
    pub now: Tick,
    /// The node's membership: its view, the view's version, and the incarnation of every member.
    pub membership: &'a Membership,
    /// The protocol parameters.
    pub params: &'a Params,
    /// The node's random stream (a store that draws nothing ignores it).
    pub rng: &'a mut dyn RngCore,
    /// Where effects go.
    pub out: &'a mut Outbox,
}

/// A store variant: the state a node keeps beside its membership, and how inputs change it.
///
/// Membership sees every input first; a store gets ticks after membership's, the messages
/// membership did not take, and every client request.
pub trait Store: fmt::Debug {
    /// The ring this node last built from its view.
    fn ring(&self) -> &Ring;

    /// The keys this node stores, sorted by key.
    fn stored(&self) -> Vec<StoredEntry>;

    /// The protocol state beyond what it stores, one line per item, for a person reading a
    /// state dump (empty for a store that keeps nothing beyond its values).
    fn summary(&self) -> Vec<String>;

    /// Whether the node's stabilization hand-overs are done (for convergence).
    fn handovers_done(&self) -> bool;

    /// How many client operations this node coordinates and has not answered.
    fn pending_ops(&self) -> usize;

    /// One tick of the node's clock (after membership's tick).
    fn on_tick(&mut self, env: &mut Env);

    /// A message membership did not take.
    fn on_message(&mut self, from: NodeId, message: &Message, env: &mut Env);

    /// A client asks this node to coordinate an operation.
    fn on_client(&mut self, op: OpId, request: Request, env: &mut Env);
}

/// The store of node `me` for `params.variant`: the one place that maps variants to stores.
pub fn new_store(me: Replica, params: &Params) -> Box<dyn Store> {
    match params.variant {
        Variant::Classic => Box::new(ClassicStore::started(me)),
        Variant::Versioned => Box::new(VersionedStore::new(me, params)),
    }
}
