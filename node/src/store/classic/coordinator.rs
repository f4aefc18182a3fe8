//! The classic coordinator: it forwards a client request to the key's replicas under a fresh
//! transaction id, keeps their replies, and decides exactly once, on a quorum of positive
//! replies (for a read: of replies carrying the same value), on a quorum of negative ones, or
//! on its timeout.

use super::{replicas_at, ClassicStore};
use crate::client::{Ack, ClientReply, OpKind, Reason, Request, TxnId};
use crate::ids::{NodeId, OpId, Tick};
use crate::message::{Message, Outbox};
use crate::observation::{Observation, Role};
use crate::params::{Params, PlantedBug};
use crate::ring::key_position;
use std::rc::Rc;

/// One replica's answer, kept until the coordinator decides.
#[derive(Debug, Clone)]
pub(super) struct ReplyFrom {
    pub(super) from: NodeId,
    pub(super) success: bool,
    pub(super) reason: Reason,
    pub(super) value: Option<Rc<str>>,
}

/// An operation this node coordinates and has not decided yet.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub(super) op: OpId,
    pub(super) request: Request,
    pub(super) replicas: Vec<NodeId>,
    pub(super) replies: Vec<ReplyFrom>,
    pub(super) deadline: Tick,
}

/// A coordinator's decision and the replies it counted for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Decision {
    pub(super) success: bool,
    pub(super) reason: Reason,
    pub(super) value: Option<Rc<str>>,
    pub(super) counted: Vec<NodeId>,
}

impl Decision {
    pub(super) fn failure(reason: Reason) -> Decision {
        Decision {
            success: false,
            reason,
            value: None,
            counted: Vec::new(),
        }
    }
}

/// The decision a coordinator can take with the replies so far, if any.
pub(super) fn verdict(pending: &Pending, params: &Params) -> Option<Decision> {
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

/// Planted bug `txn-id-reuse`: the id after `txn` when a coordinator has only two, so a late
/// reply to an earlier operation counts for a later one.
fn reused_txn_id(txn: TxnId) -> TxnId {
    (txn + 1) % 2
}

/// Answers the client, once, and logs the coordinator's decision.
pub(super) fn decide(txn: TxnId, pending: Pending, decision: Decision, out: &mut Outbox) {
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

impl ClassicStore {
    /// A client request: forward it to the key's replicas under a fresh transaction id.
    pub(super) fn client_request(
        &mut self,
        now: Tick,
        op: OpId,
        request: Request,
        params: &Params,
        out: &mut Outbox,
    ) {
        let txn = self.next_txn;
        self.next_txn = match params.bug {
            PlantedBug::TxnIdReuse => reused_txn_id(self.next_txn),
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
        let skipped = if params.bug == PlantedBug::ForwardSkipsReplica {
            skipped_replica(&request, &replicas)
        } else {
            None
        };
        let sent: Vec<NodeId> = replicas
            .iter()
            .copied()
            .filter(|&to| Some(to) != skipped)
            .collect();
        if request.kind() != OpKind::Read {
            out.observations.push(Observation::WriteRouted {
                key: Rc::clone(request.key()),
                to: Rc::from(&sent[..]),
                txn,
            });
        }
        for to in sent {
            out.send(
                to,
                Message::KvRequest {
                    txn,
                    request: request.clone(),
                    targets: Rc::clone(&targets),
                },
            );
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

    pub(super) fn on_reply(
        &mut self,
        txn: TxnId,
        reply: ReplyFrom,
        params: &Params,
        out: &mut Outbox,
    ) {
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
}

/// The replica planted bug `forward-skips-replica` leaves out: a write never goes to the key's
/// third replica (reads still go to all).
fn skipped_replica(request: &Request, replicas: &[NodeId]) -> Option<NodeId> {
    (request.kind() != OpKind::Read)
        .then(|| replicas.get(2).copied())
        .flatten()
}
