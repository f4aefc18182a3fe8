//! Client operations at their coordinator: queued behind the key's round or started as one,
//! what each proposes (create if absent, update or delete if present, read), and the answer the
//! client gets once its round is decided or gives up.

use super::{Env, VersionedStore};
use crate::agreement::{OpRef, Versioned, WriteId};
use crate::client::{Ack, ClientReply, OpKind, Reason, Request, TxnId};
use crate::ids::{OpId, Tick};
use crate::observation::{Observation, Role};
use std::rc::Rc;

/// A client operation queued behind another round on its key.
#[derive(Debug, Clone)]
pub(super) struct Waiting {
    pub(super) op: OpId,
    pub(super) request: Request,
    pub(super) deadline: Tick,
}

/// What a decided client round tells the client.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    /// The write took effect.
    Wrote,
    /// The read saw this value.
    Read(Rc<str>),
    /// Refused for a semantic reason (with the value seen, for an existing key).
    Refused(Reason, Option<Rc<str>>),
    /// A repair: nobody to tell.
    Repaired,
}

/// A client operation in its round.
#[derive(Debug, Clone)]
pub(super) struct ClientOp {
    pub(super) op: OpId,
    pub(super) txn: TxnId,
    pub(super) request: Request,
    /// The version its first changed state was built on, once an attempt proposed one: from
    /// then on the operation may have taken effect. A later attempt that finds its write in the
    /// lineage of the newest state is done; one that does not may apply it again (if the
    /// earlier vote ever joins the chain, the new one cannot be chosen, and the other way
    /// round), as long as the lineage reaches back to that version; beyond it, unknown.
    pub(super) first_base: Option<u64>,
}

impl ClientOp {
    /// Whether the operation may have taken effect.
    pub(super) fn may_have_written(&self) -> bool {
        self.first_base.is_some()
    }
}

/// The state a client operation proposes, and what it will answer once that is chosen.
pub(super) fn apply(
    request: &Request,
    current: &Versioned,
    writer: WriteId,
) -> (Versioned, Answer) {
    match (request, &current.value) {
        (Request::Create { value, .. }, None) => {
            (current.next(Some(Rc::clone(value)), writer), Answer::Wrote)
        }
        (Request::Update { value, .. }, Some(_)) => {
            (current.next(Some(Rc::clone(value)), writer), Answer::Wrote)
        }
        (Request::Delete { .. }, Some(_)) => (current.next(None, writer), Answer::Wrote),
        (Request::Read { .. }, Some(v)) => (current.clone(), Answer::Read(Rc::clone(v))),
        (Request::Create { .. }, Some(v)) => (
            current.clone(),
            Answer::Refused(Reason::Exists, Some(Rc::clone(v))),
        ),
        (Request::Read { .. } | Request::Update { .. } | Request::Delete { .. }, None) => {
            (current.clone(), Answer::Refused(Reason::NotFound, None))
        }
    }
}

/// A client answer: (success, definite rejection, reason, value, acks).
pub(super) struct Verdict {
    pub(super) success: bool,
    pub(super) rejected: bool,
    pub(super) reason: Reason,
    pub(super) value: Option<Rc<str>>,
    pub(super) acks: Vec<Ack>,
}

impl Verdict {
    /// A failure that says only whether the operation surely had no effect.
    pub(super) fn failed(rejected: bool, reason: Reason) -> Verdict {
        Verdict {
            success: false,
            rejected,
            reason,
            value: None,
            acks: Vec::new(),
        }
    }
}

/// Answers a client and logs the coordinator's decision.
pub(super) fn answer_client(
    op: OpId,
    txn: TxnId,
    request: &Request,
    verdict: Verdict,
    env: &mut Env,
) {
    let kind = request.kind();
    env.out.observations.push(Observation::StoreOp {
        role: Role::Coordinator,
        kind,
        txn,
        key: Rc::clone(request.key()),
        value: match kind {
            OpKind::Read => verdict.value.clone(),
            OpKind::Create | OpKind::Update | OpKind::Delete => request.value().cloned(),
        },
        success: verdict.success,
    });
    env.out.replies.push(ClientReply {
        op,
        success: verdict.success,
        rejected: verdict.rejected,
        reason: verdict.reason,
        value: verdict.value,
        acks: verdict.acks,
    });
}

/// Why a key round runs.
#[derive(Debug, Clone)]
pub(super) enum Purpose {
    Client(ClientOp),
    Repair,
}

impl Purpose {
    /// What an accept of this round says it carries: the client operation, or nothing (a repair).
    pub(super) fn op_ref(&self) -> Option<OpRef> {
        match self {
            Purpose::Client(c) => Some(OpRef {
                kind: c.request.kind(),
                txn: c.txn,
            }),
            Purpose::Repair => None,
        }
    }
}

impl VersionedStore {
    /// A client request arrives.
    pub(super) fn client_request(&mut self, op: OpId, request: Request, env: &mut Env) {
        let key = Rc::clone(request.key());
        let deadline = env.now + env.params.op_timeout_ticks;
        if self.targets[self.range_of(&key)].is_empty() {
            // Too few live nodes to place the key: nothing was sent, so nothing happened.
            let txn = self.take_txn();
            return answer_client(
                op,
                txn,
                &request,
                Verdict::failed(true, Reason::NoQuorum),
                env,
            );
        }
        match self.key_rounds.get(&key) {
            Some(round) if round.is_client() => {
                self.waiting.entry(key).or_default().push_back(Waiting {
                    op,
                    request,
                    deadline,
                });
            }
            _ => self.start_client(op, request, deadline, env),
        }
    }

    pub(super) fn take_txn(&mut self) -> TxnId {
        let txn = self.next_txn;
        self.next_txn = self.next_txn.wrapping_add(1);
        txn
    }

    pub(super) fn start_client(
        &mut self,
        op: OpId,
        request: Request,
        deadline: Tick,
        env: &mut Env,
    ) {
        let key = Rc::clone(request.key());
        let txn = self.take_txn();
        let purpose = Purpose::Client(ClientOp {
            op,
            txn,
            request,
            first_base: None,
        });
        self.start_key_round(key, purpose, deadline, env);
    }

    /// Ends a client round with an answer and starts the next operation waiting on the key.
    pub(super) fn finish_client(&mut self, key: &Rc<str>, verdict: Verdict, env: &mut Env) {
        if let Some(Purpose::Client(c)) = self.key_rounds.remove(key).map(|r| r.purpose) {
            answer_client(c.op, c.txn, &c.request, verdict, env);
        }
        self.next_waiting(key, env);
    }

    pub(super) fn next_waiting(&mut self, key: &Rc<str>, env: &mut Env) {
        let Some(queue) = self.waiting.get_mut(key) else {
            return;
        };
        let next = queue.pop_front();
        if queue.is_empty() {
            self.waiting.remove(key);
        }
        if let Some(w) = next {
            self.start_client(w.op, w.request, w.deadline, env);
        }
    }

    /// Answers the queued operations whose deadline passed before their turn: nothing was sent
    /// for them, so they surely had no effect.
    pub(super) fn expire_waiting(&mut self, env: &mut Env) {
        let now = env.now;
        let mut expired = Vec::new();
        for queue in self.waiting.values_mut() {
            while queue.front().is_some_and(|w| now >= w.deadline) {
                expired.extend(queue.pop_front());
            }
        }
        self.waiting.retain(|_, q| !q.is_empty());
        for w in expired {
            let txn = self.take_txn();
            answer_client(
                w.op,
                txn,
                &w.request,
                Verdict::failed(true, Reason::Timeout),
                env,
            );
        }
    }
}
