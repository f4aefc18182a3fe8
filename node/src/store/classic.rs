//! The `classic` store, faithful to the original assignment.
//!
//! The node that receives a client request coordinates it: it forwards the request to the key's
//! replicas and decides exactly once, on a quorum of positive replies (for a read: a quorum of
//! replies carrying the same value), on a quorum of negative replies, or on its timeout.
//! Replicas keep plain values. Stabilization re-creates keys on nodes that became replicas when
//! the ring changed, and drops keys this node no longer replicates, so nothing is over-replicated.
//! Planted bugs (`Params::bug`) change single decisions here; each is named where it acts.

mod coordinator;
#[cfg(test)]
mod tests;

use crate::agreement::Replica;
use crate::client::{OpKind, Reason, Request, TxnId};
use crate::ids::{NodeId, OpId, Tick};
use crate::message::{Message, Outbox};
use crate::observation::{Observation, Role};
use crate::params::{Params, PlantedBug};
use crate::random::chance_ppm;
use crate::ring::{key_position, Ring};
use crate::store::{Env, Store, StoredEntry};
use coordinator::{decide, Decision, Pending, ReplyFrom};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A stored value and its ring position (cached: hashing on every sweep would dominate).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    value: Rc<str>,
    position: u16,
    /// When this node's ring first stopped naming it a replica of the key (reset when it does
    /// again). A key is dropped only after a whole sweep interval of that, since this node's
    /// view may lag its peers' by a few ticks and their hand-overs have already been sent.
    foreign_since: Option<Tick>,
}

/// Transaction ids an incarnation of a classic coordinator has to itself before the next one's
/// begin: far more operations than one incarnation coordinates in any run.
const TXN_IDS_PER_INCARNATION: TxnId = 1 << 16;

/// One node's classic store: its replica table and the operations it coordinates.
#[derive(Debug, Clone)]
pub struct ClassicStore {
    me: NodeId,
    data: BTreeMap<Rc<str>, Stored>,
    pending: BTreeMap<TxnId, Pending>,
    next_txn: TxnId,
    ring: Ring,
    ring_version: Option<u64>,
    stabilized_version: Option<u64>,
    /// Keys this replica deleted or was asked to delete, and when (its last tick): a hand-over
    /// still in flight from a peer that had not seen the delete yet must not re-create the key.
    /// Kept for twice the operation timeout, far longer than any message delay a sane
    /// configuration allows.
    deleted: BTreeMap<Rc<str>, Tick>,
    last_tick: Tick,
    scratch: Vec<NodeId>,
}

/// The replicas of the key at `position` (planted bug `ring-no-wrap`: without wrapping).
fn replicas_at(ring: &Ring, position: u16, params: &Params, out: &mut Vec<NodeId>) {
    match params.bug {
        PlantedBug::RingNoWrap => ring.replicas_at_without_wrap(position, params.replicas, out),
        _ => ring.replicas_at(position, params.replicas, out),
    }
}

/// The store seen from the node: inputs come as an [`Env`]; the work is done by the methods
/// below, which take only what they use (so tests can drive them without a membership).
impl Store for ClassicStore {
    fn ring(&self) -> &Ring {
        &self.ring
    }

    /// Every value this replica holds; classic keeps no versions (0).
    fn stored(&self) -> Vec<StoredEntry> {
        self.entries()
            .map(|(k, v)| StoredEntry {
                key: Rc::clone(k),
                value: Some(Rc::clone(v)),
                version: 0,
            })
            .collect()
    }

    /// Classic keeps nothing beyond its values.
    fn summary(&self) -> Vec<String> {
        Vec::new()
    }

    /// Classic's hand-overs are messages sent once, so they are always done.
    fn handovers_done(&self) -> bool {
        true
    }

    fn pending_ops(&self) -> usize {
        self.pending.len()
    }

    fn on_tick(&mut self, env: &mut Env) {
        if chance_ppm(env.rng, env.params.extra_handover_ppm) {
            // Fault point: forget that this ring was handed over, so this tick hands every key
            // over again, as after a ring change.
            self.stabilized_version = None;
        }
        let membership = env.membership;
        let (view, view_version) = (membership.view(), membership.version());
        self.tick(env.now, view, view_version, env.params, env.out);
    }

    fn on_message(&mut self, from: NodeId, message: &Message, env: &mut Env) {
        self.handle(from, message, env.params, env.out);
    }

    /// Routes with the current view even between the node's own ticks.
    fn on_client(&mut self, op: OpId, request: Request, env: &mut Env) {
        self.sync_ring(env.membership.view(), env.membership.version());
        self.client_request(env.now, op, request, env.params, env.out);
    }
}

impl ClassicStore {
    /// The store of node `me` before it holds anything.
    #[cfg(test)]
    pub fn new(me: NodeId) -> ClassicStore {
        ClassicStore::started(Replica {
            id: me,
            incarnation: 0,
        })
    }

    /// An empty store of node `me` in its incarnation. A restarted coordinator's transaction ids
    /// begin [`TXN_IDS_PER_INCARNATION`] times its incarnation on, not at 0 again: a reply does
    /// not say which incarnation asked, and one to an id of the previous incarnation, still in
    /// flight, would otherwise count for the new operation that reuses it (a success resting on
    /// an answer to another operation). A node that never restarted counts from 0, as before.
    pub fn started(me: Replica) -> ClassicStore {
        ClassicStore {
            me: me.id,
            data: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_txn: me.incarnation.wrapping_mul(TXN_IDS_PER_INCARNATION),
            ring: Ring::default(),
            ring_version: None,
            stabilized_version: None,
            deleted: BTreeMap::new(),
            last_tick: 0,
            scratch: Vec::new(),
        }
    }

    /// The keys and values this replica holds, sorted by key.
    fn entries(&self) -> impl Iterator<Item = (&Rc<str>, &Rc<str>)> {
        self.data.iter().map(|(k, s)| (k, &s.value))
    }

    /// Rebuilds the ring if the view changed since it was built.
    fn sync_ring(&mut self, view: &[NodeId], view_version: u64) {
        if self.ring_version != Some(view_version) {
            self.ring_version = Some(view_version);
            self.ring = Ring::new(view.iter().copied());
        }
    }

    /// A message for the store (others are ignored).
    fn handle(&mut self, from: NodeId, message: &Message, params: &Params, out: &mut Outbox) {
        let me = self.me;
        match message {
            Message::KvRequest {
                txn,
                request,
                targets,
            } => {
                let applied = self.serve(me, from, *txn, request, params, out);
                if applied {
                    let write = (from, *txn);
                    self.forward_to_unknown_replicas(me, write, request, targets, params, out);
                }
            }
            Message::Forward { key, value } => match value {
                Some(value) => self.put(key, value, out),
                None => {
                    if self.data.remove(key).is_some() {
                        out.observations.push(Observation::ReplicaStored {
                            key: Rc::clone(key),
                            value: None,
                        });
                    }
                }
            },
            Message::KvReply {
                txn,
                success,
                reason,
                value,
            } => {
                let reply = ReplyFrom {
                    from,
                    success: *success,
                    reason: *reason,
                    value: value.clone(),
                };
                self.on_reply(*txn, reply, params, out);
            }
            Message::Replicate { key, value } => {
                let overwrite = params.bug == PlantedBug::StabilizeOverwrites;
                let recently_deleted = self.deleted.contains_key(key);
                if overwrite || (!self.data.contains_key(key) && !recently_deleted) {
                    self.put(key, value, out);
                }
            }
            _ => {}
        }
    }

    fn put(&mut self, key: &Rc<str>, value: &Rc<str>, out: &mut Outbox) {
        let stored = Stored {
            value: Rc::clone(value),
            position: key_position(key),
            foreign_since: None,
        };
        self.data.insert(Rc::clone(key), stored);
        out.observations.push(Observation::ReplicaStored {
            key: Rc::clone(key),
            value: Some(Rc::clone(value)),
        });
    }

    /// Whether this node is the key's last replica by its own ring (for `delete-skips-replica`).
    fn is_last_replica(&self, me: NodeId, key: &str, params: &Params) -> bool {
        self.ring.replicas_of(key, params.replicas).last() == Some(&me)
    }

    /// A replica applies a forwarded request and answers the coordinator.
    /// Returns whether the request succeeded.
    fn serve(
        &mut self,
        me: NodeId,
        coordinator: NodeId,
        txn: TxnId,
        request: &Request,
        params: &Params,
        out: &mut Outbox,
    ) -> bool {
        let key = request.key();
        let present = self.data.get(key).map(|s| Rc::clone(&s.value));
        let (success, reason, reply_value) = match (request, &present) {
            (Request::Create { value, .. }, None) => {
                self.put(key, value, out);
                (true, Reason::Ok, None)
            }
            (Request::Create { .. }, Some(_)) => (false, Reason::Exists, None),
            (Request::Read { .. }, Some(v)) => (true, Reason::Ok, Some(Rc::clone(v))),
            (Request::Update { value, .. }, Some(_)) => {
                self.put(key, value, out);
                (true, Reason::Ok, None)
            }
            (Request::Delete { .. }, Some(_)) => {
                let skip = params.bug == PlantedBug::DeleteSkipsReplica
                    && self.is_last_replica(me, key, params);
                if !skip {
                    self.data.remove(key);
                    self.deleted.insert(Rc::clone(key), self.last_tick);
                    out.observations.push(Observation::ReplicaStored {
                        key: Rc::clone(key),
                        value: None,
                    });
                }
                (true, Reason::Ok, None)
            }
            (Request::Delete { .. }, None) => {
                // Not here yet, but deleted at the coordinator's other replicas: a hand-over in
                // flight from a peer that had not seen the delete (this node just became a
                // replica) must not re-create the key here either.
                self.deleted.insert(Rc::clone(key), self.last_tick);
                (false, Reason::NotFound, None)
            }
            (Request::Read { .. } | Request::Update { .. }, None) => {
                (false, Reason::NotFound, None)
            }
        };
        let logged_value = match request.kind() {
            OpKind::Read => reply_value.clone(),
            _ => request.value().cloned(),
        };
        out.observations.push(Observation::StoreOp {
            role: Role::Server,
            kind: request.kind(),
            txn,
            key: Rc::clone(key),
            value: logged_value,
            success,
        });
        out.send(
            coordinator,
            Message::KvReply {
                txn,
                success,
                reason,
                value: reply_value,
            },
        );
        success
    }

    /// After a successful write: if this replica's ring names a replica the coordinator's did not
    /// (a create routed with a ring from before a view change, say), pass the resulting state on
    /// to it, since the ring-change hand-over may already have run without this key.
    fn forward_to_unknown_replicas(
        &self,
        me: NodeId,
        (coordinator, txn): (NodeId, TxnId),
        request: &Request,
        targets: &[NodeId],
        params: &Params,
        out: &mut Outbox,
    ) {
        if request.kind() == OpKind::Read || !targets.contains(&me) {
            return;
        }
        let key = request.key();
        let mut mine = Vec::with_capacity(params.replicas);
        replicas_at(&self.ring, key_position(key), params, &mut mine);
        let value = self.data.get(key).map(|s| Rc::clone(&s.value));
        for &to in mine.iter().filter(|r| **r != me && !targets.contains(r)) {
            out.send(
                to,
                Message::Forward {
                    key: Rc::clone(key),
                    value: value.clone(),
                },
            );
            out.observations.push(Observation::WriteForwarded {
                key: Rc::clone(key),
                to,
                coordinator,
                txn,
            });
        }
    }

    /// Time-outs, and stabilization when the ring changed or a sweep is due.
    fn tick(
        &mut self,
        now: Tick,
        view: &[NodeId],
        view_version: u64,
        params: &Params,
        out: &mut Outbox,
    ) {
        let me = self.me;
        self.last_tick = now;
        let keep_ticks = 2 * params.op_timeout_ticks;
        self.deleted
            .retain(|_, at| now.saturating_sub(*at) < keep_ticks);
        if params.bug != PlantedBug::NoOpTimeout {
            let expired: Vec<TxnId> = self
                .pending
                .iter()
                .filter(|(_, p)| now >= p.deadline)
                .map(|(&t, _)| t)
                .collect();
            for txn in expired {
                let pending = self.pending.remove(&txn).expect("expired txn is pending");
                decide(txn, pending, Decision::failure(Reason::Timeout), out);
            }
        }
        self.sync_ring(view, view_version);
        if params.bug == PlantedBug::NoStabilization {
            return;
        }
        if self.stabilized_version != self.ring_version {
            self.stabilized_version = self.ring_version;
            self.stabilize(me, true, params, out);
        } else if (now + u64::from(me.0)).is_multiple_of(params.sweep_interval_ticks) {
            // (staggered by id, like membership's probes; an interval of 0 is never due)
            self.stabilize(me, false, params, out);
        }
    }

    /// Sends every key to the replicas the current ring names (all of them after a ring change;
    /// only keys this node no longer replicates on a periodic sweep) and drops keys this node
    /// is no longer a replica of.
    fn stabilize(&mut self, me: NodeId, ring_changed: bool, params: &Params, out: &mut Outbox) {
        let mut replicas = std::mem::take(&mut self.scratch);
        let mut dropped = Vec::new();
        let now = self.last_tick;
        for (key, stored) in &mut self.data {
            replicas_at(&self.ring, stored.position, params, &mut replicas);
            if replicas.is_empty() {
                continue; // too few nodes to place the key: keep it
            }
            let mine = replicas.contains(&me);
            if mine {
                stored.foreign_since = None;
            }
            if mine && !ring_changed {
                continue;
            }
            for &to in replicas.iter().filter(|&&r| r != me) {
                out.send(
                    to,
                    Message::Replicate {
                        key: Rc::clone(key),
                        value: Rc::clone(&stored.value),
                    },
                );
                out.observations.push(Observation::HandedOver {
                    key: Rc::clone(key),
                    to,
                });
            }
            if !mine && params.bug != PlantedBug::StaleCopies {
                let since = *stored.foreign_since.get_or_insert(now);
                if now.saturating_sub(since) >= params.sweep_interval_ticks {
                    dropped.push(Rc::clone(key));
                }
            }
        }
        for key in dropped {
            self.data.remove(&key);
            out.observations
                .push(Observation::ReplicaStored { key, value: None });
        }
        self.scratch = replicas;
    }
}
