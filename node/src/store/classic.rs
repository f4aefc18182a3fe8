//! The `classic` store, faithful to the original assignment.
//!
//! The node that receives a client request coordinates it: it forwards the request to the key's
//! replicas and decides exactly once, on a quorum of positive replies (for a read: a quorum of
//! replies carrying the same value), on a quorum of negative replies, or on its timeout.
//! Replicas keep plain values. Stabilization re-creates keys on nodes that became replicas when
//! the ring changed, and drops keys this node no longer replicates, so nothing is over-replicated.
//! Planted bugs (`Params::bug`) change single decisions here; each is named where it acts.

use crate::client::{Ack, ClientReply, OpKind, Reason, Request, TxnId};
use crate::ids::{NodeId, OpId, Tick};
use crate::message::{Message, Outbox};
use crate::observation::{Observation, Role};
use crate::params::{Params, PlantedBug};
use crate::ring::{key_position, Ring};
use crate::store::{Env, Store, StoredEntry};
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

/// One replica's answer, kept until the coordinator decides.
#[derive(Debug, Clone)]
struct ReplyFrom {
    from: NodeId,
    success: bool,
    reason: Reason,
    value: Option<Rc<str>>,
}

/// An operation this node coordinates and has not decided yet.
#[derive(Debug, Clone)]
struct Pending {
    op: OpId,
    request: Request,
    replicas: Vec<NodeId>,
    replies: Vec<ReplyFrom>,
    deadline: Tick,
}

/// A coordinator's decision and the replies it counted for it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    success: bool,
    reason: Reason,
    value: Option<Rc<str>>,
    counted: Vec<NodeId>,
}

impl Decision {
    fn failure(reason: Reason) -> Decision {
        Decision {
            success: false,
            reason,
            value: None,
            counted: Vec::new(),
        }
    }
}

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
    /// Keys this replica deleted, and when (its last tick): a hand-over still in flight from a
    /// peer that had not seen the delete yet must not re-create the key. Kept for twice the
    /// operation timeout, far longer than any message delay a sane configuration allows.
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
    pub fn new(me: NodeId) -> ClassicStore {
        ClassicStore {
            me,
            data: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_txn: 0,
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

    /// A client request: forward it to the key's replicas under a fresh transaction id.
    fn client_request(
        &mut self,
        now: Tick,
        op: OpId,
        request: Request,
        params: &Params,
        out: &mut Outbox,
    ) {
        let txn = self.next_txn;
        self.next_txn = match params.bug {
            PlantedBug::TxnIdReuse => (self.next_txn + 1) % 2,
            _ => self.next_txn.wrapping_add(1),
        };
        let mut replicas = Vec::with_capacity(params.replicas);
        replicas_at(
            &self.ring,
            key_position(request.key()),
            params,
            &mut replicas,
        );
        let targets: Rc<[NodeId]> = Rc::from(&replicas[..]);
        for &to in &replicas {
            out.sends.push((
                to,
                Message::KvRequest {
                    txn,
                    request: request.clone(),
                    targets: Rc::clone(&targets),
                },
            ));
        }
        let pending = Pending {
            op,
            request,
            replicas,
            replies: Vec::new(),
            deadline: now + params.op_timeout_ticks,
        };
        if pending.replicas.len() < params.quorum {
            decide(txn, pending, Decision::failure(Reason::NoQuorum), out);
            return;
        }
        // A reused transaction id replaces the operation still waiting under it.
        self.pending.insert(txn, pending);
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
                    self.forward_to_unknown_replicas(me, request, targets, params, out);
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
            (Request::Read { .. } | Request::Update { .. } | Request::Delete { .. }, None) => {
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
        out.sends.push((
            coordinator,
            Message::KvReply {
                txn,
                success,
                reason,
                value: reply_value,
            },
        ));
        success
    }

    /// After a successful write: if this replica's ring names a replica the coordinator's did not
    /// (a create routed with a ring from before a view change, say), pass the resulting state on
    /// to it, since the ring-change hand-over may already have run without this key.
    fn forward_to_unknown_replicas(
        &self,
        me: NodeId,
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
            out.sends.push((
                to,
                Message::Forward {
                    key: Rc::clone(key),
                    value: value.clone(),
                },
            ));
            out.observations.push(Observation::WriteForwarded {
                key: Rc::clone(key),
                to,
            });
        }
    }

    fn on_reply(&mut self, txn: TxnId, reply: ReplyFrom, params: &Params, out: &mut Outbox) {
        let Some(pending) = self.pending.get_mut(&txn) else {
            return; // late or extra reply: already decided
        };
        if !pending.replicas.contains(&reply.from)
            || pending.replies.iter().any(|r| r.from == reply.from)
        {
            return; // not asked, or a duplicate
        }
        pending.replies.push(reply);
        let Some(decision) = verdict(pending, params) else {
            return;
        };
        let pending = self.pending.remove(&txn).expect("pending checked above");
        decide(txn, pending, decision, out);
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
        } else if params.sweep_interval_ticks > 0
            && (now + u64::from(me.0)).is_multiple_of(params.sweep_interval_ticks)
        {
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
                out.sends.push((
                    to,
                    Message::Replicate {
                        key: Rc::clone(key),
                        value: Rc::clone(&stored.value),
                    },
                ));
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

/// The decision a coordinator can take with the replies so far, if any.
fn verdict(pending: &Pending, params: &Params) -> Option<Decision> {
    let replies = &pending.replies;
    let quorum = match params.bug {
        PlantedBug::OneReplyQuorum => 1,
        _ => params.quorum,
    };
    let all_in = replies.len() == pending.replicas.len();
    if pending.request.kind() == OpKind::Read {
        let positive: Vec<&ReplyFrom> = replies.iter().filter(|r| r.success).collect();
        if params.bug == PlantedBug::ReadAnyTwo && positive.len() >= quorum {
            let counted = positive.iter().take(quorum).map(|r| r.from).collect();
            return Some(Decision {
                success: true,
                reason: Reason::Ok,
                value: positive[0].value.clone(),
                counted,
            });
        }
        // Group the answers by what they say: a value, or "missing".
        for r in replies {
            let agreeing: Vec<NodeId> = replies
                .iter()
                .filter(|o| o.success == r.success && (!r.success || o.value == r.value))
                .map(|o| o.from)
                .collect();
            if agreeing.len() >= quorum {
                return Some(if r.success {
                    Decision {
                        success: true,
                        reason: Reason::Ok,
                        value: r.value.clone(),
                        counted: agreeing,
                    }
                } else {
                    Decision::failure(r.reason)
                });
            }
        }
        return all_in.then(|| Decision::failure(Reason::NoQuorum));
    }
    let positive: Vec<NodeId> = replies
        .iter()
        .filter(|r| r.success)
        .map(|r| r.from)
        .collect();
    if positive.len() >= quorum {
        return Some(Decision {
            success: true,
            reason: Reason::Ok,
            value: None,
            counted: positive,
        });
    }
    let negatives: Vec<Reason> = replies
        .iter()
        .filter(|r| !r.success)
        .map(|r| r.reason)
        .collect();
    if negatives.len() >= params.quorum {
        let reason = if negatives.iter().all(|&r| r == negatives[0]) {
            negatives[0]
        } else {
            Reason::NoQuorum
        };
        return Some(Decision::failure(reason));
    }
    all_in.then(|| Decision::failure(Reason::NoQuorum))
}

/// Answers the client, once, and logs the coordinator's decision.
fn decide(txn: TxnId, pending: Pending, decision: Decision, out: &mut Outbox) {
    let kind = pending.request.kind();
    let logged_value = match kind {
        OpKind::Read => decision.value.clone(),
        _ => pending.request.value().cloned(),
    };
    out.observations.push(Observation::StoreOp {
        role: Role::Coordinator,
        kind,
        txn,
        key: Rc::clone(pending.request.key()),
        value: logged_value,
        success: decision.success,
    });
    // The evidence for `quorum`: each counted replica with the value it reported.
    let acks = decision
        .counted
        .iter()
        .filter_map(|from| pending.replies.iter().find(|r| r.from == *from))
        .map(|r| Ack {
            from: r.from,
            value: r.value.clone(),
        })
        .collect();
    out.replies.push(ClientReply {
        op: pending.op,
        success: decision.success,
        rejected: false,
        reason: decision.reason,
        value: decision.value,
        acks,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn params() -> Params {
        Params::original(10)
    }

    fn key(s: &str) -> Rc<str> {
        s.into()
    }

    /// A replica's answer to one forwarded request: (success, reason, value).
    fn serve(store: &mut ClassicStore, request: Request) -> (bool, Reason, Option<Rc<str>>) {
        let mut out = Outbox::default();
        store.serve(NodeId(5), NodeId(9), 1, &request, &params(), &mut out);
        match out.sends.pop() {
            Some((
                NodeId(9),
                Message::KvReply {
                    success,
                    reason,
                    value,
                    ..
                },
            )) => (success, reason, value),
            other => panic!("expected a reply to the coordinator, got {other:?}"),
        }
    }

    #[test]
    fn replica_semantics_for_every_operation_and_outcome() {
        let mut s = ClassicStore::new(NodeId(1));
        let k = key("k");
        let read = Request::Read { key: k.clone() };
        assert_eq!(serve(&mut s, read.clone()), (false, Reason::NotFound, None));
        assert_eq!(
            serve(
                &mut s,
                Request::Update {
                    key: k.clone(),
                    value: key("x")
                }
            ),
            (false, Reason::NotFound, None)
        );
        assert_eq!(
            serve(&mut s, Request::Delete { key: k.clone() }),
            (false, Reason::NotFound, None)
        );
        assert_eq!(
            serve(
                &mut s,
                Request::Create {
                    key: k.clone(),
                    value: key("v1")
                }
            ),
            (true, Reason::Ok, None)
        );
        assert_eq!(
            serve(
                &mut s,
                Request::Create {
                    key: k.clone(),
                    value: key("v2")
                }
            ),
            (false, Reason::Exists, None)
        );
        assert_eq!(
            serve(&mut s, read.clone()),
            (true, Reason::Ok, Some(key("v1"))),
            "a refused create keeps the old value"
        );
        assert_eq!(
            serve(
                &mut s,
                Request::Update {
                    key: k.clone(),
                    value: key("v3")
                }
            ),
            (true, Reason::Ok, None)
        );
        assert_eq!(
            serve(&mut s, read.clone()),
            (true, Reason::Ok, Some(key("v3")))
        );
        assert_eq!(
            serve(&mut s, Request::Delete { key: k.clone() }),
            (true, Reason::Ok, None)
        );
        assert_eq!(serve(&mut s, read), (false, Reason::NotFound, None));
    }

    /// A coordinator with a full 10-node ring, and the replicas of `k`.
    fn coordinator() -> (ClassicStore, Vec<NodeId>) {
        let mut s = ClassicStore::new(NodeId(1));
        let view: Vec<NodeId> = (1..=10).map(NodeId).collect();
        s.tick(0, &view, 1, &params(), &mut Outbox::default());
        let replicas = s.ring().replicas_of("k", 3);
        (s, replicas)
    }

    fn reply(
        s: &mut ClassicStore,
        from: NodeId,
        success: bool,
        reason: Reason,
        value: Option<&str>,
        out: &mut Outbox,
    ) {
        let message = Message::KvReply {
            txn: 0,
            success,
            reason,
            value: value.map(key),
        };
        s.handle(from, &message, &params(), out);
    }

    #[test]
    fn a_write_decides_once_at_two_positive_replies() {
        let (mut s, r) = coordinator();
        let mut out = Outbox::default();
        s.client_request(
            0,
            7,
            Request::Create {
                key: key("k"),
                value: key("v"),
            },
            &params(),
            &mut out,
        );
        assert_eq!(out.sends.len(), 3, "forwarded to the 3 replicas");
        reply(&mut s, r[0], true, Reason::Ok, None, &mut out);
        reply(&mut s, r[0], true, Reason::Ok, None, &mut out);
        assert!(
            out.replies.is_empty(),
            "a duplicate reply does not make a quorum"
        );
        reply(&mut s, r[1], true, Reason::Ok, None, &mut out);
        reply(&mut s, r[2], true, Reason::Ok, None, &mut out);
        assert_eq!(
            out.replies.len(),
            1,
            "decided exactly once; the late reply is ignored"
        );
        let answer = &out.replies[0];
        assert!(answer.success);
        assert_eq!(
            answer.acks.iter().map(|a| a.from).collect::<Vec<_>>(),
            [r[0], r[1]]
        );
    }

    #[test]
    fn a_write_fails_at_two_negative_replies_with_their_reason() {
        let (mut s, r) = coordinator();
        let mut out = Outbox::default();
        s.client_request(
            0,
            7,
            Request::Update {
                key: key("k"),
                value: key("v"),
            },
            &params(),
            &mut out,
        );
        reply(&mut s, r[0], false, Reason::NotFound, None, &mut out);
        assert!(out.replies.is_empty());
        reply(&mut s, r[2], false, Reason::NotFound, None, &mut out);
        assert_eq!(out.replies.len(), 1);
        assert!(!out.replies[0].success);
        assert_eq!(out.replies[0].reason, Reason::NotFound);
    }

    #[test]
    fn a_read_needs_two_equal_values_and_waits_for_the_third_on_disagreement() {
        let (mut s, r) = coordinator();
        let mut out = Outbox::default();
        s.client_request(0, 7, Request::Read { key: key("k") }, &params(), &mut out);
        reply(&mut s, r[0], true, Reason::Ok, Some("a"), &mut out);
        reply(&mut s, r[1], true, Reason::Ok, Some("b"), &mut out);
        assert!(
            out.replies.is_empty(),
            "two different values are not a quorum"
        );
        reply(&mut s, r[2], true, Reason::Ok, Some("b"), &mut out);
        assert_eq!(out.replies.len(), 1);
        assert_eq!(out.replies[0].value.as_deref(), Some("b"));
        assert_eq!(
            out.replies[0].acks.len(),
            2,
            "only the replicas that returned the value count"
        );

        let mut out = Outbox::default();
        s.client_request(0, 8, Request::Read { key: key("k") }, &params(), &mut out);
        let txn = 1;
        for (from, value) in [(r[0], Some("a")), (r[1], Some("b"))] {
            let m = Message::KvReply {
                txn,
                success: true,
                reason: Reason::Ok,
                value: value.map(key),
            };
            s.handle(from, &m, &params(), &mut out);
        }
        let m = Message::KvReply {
            txn,
            success: false,
            reason: Reason::NotFound,
            value: None,
        };
        s.handle(r[2], &m, &params(), &mut out);
        assert_eq!(out.replies.len(), 1);
        assert_eq!(
            (out.replies[0].success, out.replies[0].reason),
            (false, Reason::NoQuorum)
        );
    }

    #[test]
    fn an_undecided_operation_times_out() {
        let (mut s, r) = coordinator();
        let p = params();
        let mut out = Outbox::default();
        s.client_request(10, 7, Request::Delete { key: key("k") }, &p, &mut out);
        reply(&mut s, r[0], true, Reason::Ok, None, &mut out);
        let view: Vec<NodeId> = (1..=10).map(NodeId).collect();
        s.tick(10 + p.op_timeout_ticks - 1, &view, 1, &p, &mut out);
        assert!(out.replies.is_empty());
        s.tick(10 + p.op_timeout_ticks, &view, 1, &p, &mut out);
        assert_eq!(
            (out.replies[0].success, out.replies[0].reason),
            (false, Reason::Timeout)
        );
    }

    #[test]
    fn too_small_a_ring_fails_at_once() {
        let mut s = ClassicStore::new(NodeId(1));
        s.tick(
            0,
            &[NodeId(1), NodeId(2)],
            1,
            &params(),
            &mut Outbox::default(),
        );
        let mut out = Outbox::default();
        s.client_request(0, 7, Request::Read { key: key("k") }, &params(), &mut out);
        assert!(out.sends.is_empty());
        assert_eq!(out.replies[0].reason, Reason::NoQuorum);
    }

    /// Stabilization: a replica hands a key to the new replicas, and a node that is no longer a
    /// replica drops it, so nothing is over-replicated.
    #[test]
    fn stabilization_re_creates_on_new_replicas_and_drops_old_copies() {
        let p = params();
        let full: Vec<NodeId> = (1..=10).map(NodeId).collect();
        let ring = Ring::new(full.iter().copied());
        let replicas = ring.replicas_of("k", 3);
        let outsider = full
            .iter()
            .copied()
            .find(|n| !replicas.contains(n))
            .unwrap();
        // The outsider holds the key (say a stale view made it a replica once) and the ring
        // changes: it hands the key to the 3 replicas and drops it.
        let mut s = ClassicStore::new(outsider);
        let mut out = Outbox::default();
        s.handle(
            NodeId(99),
            &Message::Replicate {
                key: key("k"),
                value: key("v"),
            },
            &p,
            &mut out,
        );
        let mut out = Outbox::default();
        s.tick(0, &full, 1, &p, &mut out);
        let mut targets: Vec<NodeId> = out
            .sends
            .iter()
            .filter_map(|(to, m)| matches!(m, Message::Replicate { .. }).then_some(*to))
            .collect();
        targets.sort();
        let mut expected = replicas.clone();
        expected.sort();
        assert_eq!(targets, expected);
        assert_eq!(
            s.entries().count(),
            1,
            "kept while views may still disagree"
        );
        // A sweep interval later it is still not a replica: the copy goes.
        let sweep = p.sweep_interval_ticks;
        let next_sweep = (1..=sweep)
            .map(|d| sweep + d)
            .find(|t| (t + u64::from(outsider.0)) % sweep == 0)
            .unwrap();
        s.tick(next_sweep, &full, 1, &p, &mut out);
        assert_eq!(s.entries().count(), 0, "no over-replication");

        // A replica keeps its copy and sends it to the other two after a ring change; a
        // replica that already holds a newer value is not overwritten by the hand-over.
        let mut r0 = ClassicStore::new(replicas[0]);
        r0.handle(
            NodeId(99),
            &Message::Replicate {
                key: key("k"),
                value: key("v"),
            },
            &p,
            &mut out,
        );
        let mut out = Outbox::default();
        r0.tick(0, &full, 1, &p, &mut out);
        assert_eq!(out.sends.len(), 2);
        assert_eq!(r0.entries().count(), 1);
        r0.handle(
            NodeId(99),
            &Message::Replicate {
                key: key("k"),
                value: key("old"),
            },
            &p,
            &mut out,
        );
        assert_eq!(
            r0.entries().next().map(|(_, v)| v.to_string()),
            Some("v".to_string())
        );

        // Without a ring change, a replica's periodic sweep sends nothing.
        let mut out = Outbox::default();
        r0.tick(
            p.sweep_interval_ticks * 10 - u64::from(replicas[0].0),
            &full,
            1,
            &p,
            &mut out,
        );
        assert!(out.sends.is_empty());
    }
}
