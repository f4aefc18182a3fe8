//! The store's key-value model: create only if absent, update and delete only if present, read.
//!
//! Each key is its own register whose state is absent (id 0) or an interned value. Outcomes map
//! to operations as design.md says:
//! - `ok`: the operation took effect, so its precondition held (a create found the key absent);
//!   a read saw exactly its output;
//! - `rejected`: it did not take effect, and its reason is an observation of the state: `exists`
//!   saw the key present (with the value in `output`, when the store reported it), `not-found`
//!   saw it absent; a rejection for any other reason observes nothing and is dropped;
//! - `unknown`: it may take effect once, any time after its invocation, or never; when it does,
//!   it behaves as the store would (a create of a present key does nothing). An unknown read
//!   carries nothing and is dropped.

use crate::history::{HistoryOp, Partition};
use crate::intern::Interner;
use crate::model::{Explain, Model, RegisterAccess, Token, Tokens};
use crate::record::{KvInput, Operation, Outcome, Reason};
use std::collections::BTreeMap;

/// An interned value; 0 is "absent".
pub type Value = u32;

const ABSENT: Value = 0;

/// The token of "the key was created": what an update, a delete or an `exists` rejection needs
/// someone to have done. Value ids never reach it.
const CREATED: Token = Token::MAX;

/// What the client asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Create with this value, only if absent.
    Create(Value),
    /// Update to this value, only if present.
    Update(Value),
    /// Delete, only if present.
    Delete,
    /// Read.
    Read,
}

/// What the answer says about the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A write took effect (its precondition held).
    Done,
    /// A read saw this value (`0`: absent).
    Saw(Value),
    /// Rejected because the key was present (holding this value, if the store said which).
    SawPresent(Option<Value>),
    /// Rejected because the key was absent.
    SawAbsent,
    /// Outcome unknown: may take effect once, or never.
    Unknown,
}

/// One operation of the key-value model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvOp {
    /// The request.
    pub ask: Ask,
    /// The answer.
    pub answer: Answer,
}

/// The key-value model; holds the value interner shared by all keys of one history.
#[derive(Debug, Clone, Default)]
pub struct KvModel {
    values: Interner<String>,
}

impl KvModel {
    /// Splits a store history into one partition per key (sorted by key), in the model's terms.
    /// Operations that carry nothing (unknown reads, rejections for a non-semantic reason) are
    /// left out. An operation whose outcome is definite but that has no completion stamp (a
    /// recorder slip) is kept open, which can only make the verdict more lenient.
    pub fn partitions(ops: &[Operation]) -> (KvModel, Vec<Partition<KvOp>>) {
        let mut model = KvModel::default();
        let mut by_key: BTreeMap<&str, Vec<HistoryOp<KvOp>>> = BTreeMap::new();
        for op in ops {
            let Some(kv_op) = model.convert(op) else {
                continue;
            };
            let complete = match kv_op.answer {
                Answer::Unknown => None,
                Answer::Done | Answer::Saw(_) | Answer::SawPresent(_) | Answer::SawAbsent => {
                    op.complete
                }
            };
            by_key.entry(op.input.key()).or_default().push(HistoryOp {
                id: op.id,
                client: op.client,
                invoke: op.invoke,
                complete,
                op: kv_op,
            });
        }
        let partitions = by_key
            .into_iter()
            .map(|(key, ops)| Partition {
                key: key.to_string(),
                ops,
            })
            .collect();
        (model, partitions)
    }

    fn convert(&mut self, op: &Operation) -> Option<KvOp> {
        let ask = match &op.input {
            KvInput::Create { value, .. } => Ask::Create(self.values.intern(value)),
            KvInput::Update { value, .. } => Ask::Update(self.values.intern(value)),
            KvInput::Delete { .. } => Ask::Delete,
            KvInput::Read { .. } => Ask::Read,
        };
        let output = op.output.as_ref().map(|v| self.values.intern(v));
        let answer = match (op.outcome, ask) {
            (Outcome::Ok, Ask::Read) => Answer::Saw(output.unwrap_or(ABSENT)),
            (Outcome::Ok, _) => Answer::Done,
            (Outcome::Rejected, _) => match op.reason {
                Reason::Exists => Answer::SawPresent(output),
                Reason::NotFound => Answer::SawAbsent,
                Reason::Ok | Reason::NoQuorum | Reason::Timeout | Reason::CoordinatorCrashed => {
                    return None
                }
            },
            (Outcome::Unknown, Ask::Read) => return None,
            (Outcome::Unknown, _) => Answer::Unknown,
        };
        Some(KvOp { ask, answer })
    }

    fn text(&self, value: Value) -> String {
        match self.values.value(value) {
            Some(v) => v.clone(),
            None => "absent".to_string(),
        }
    }
}

impl Model for KvModel {
    type State = Value;
    type Op = KvOp;

    fn init(&self) -> Value {
        ABSENT
    }

    #[inline]
    fn step(&mut self, state: Value, op: &KvOp) -> Option<Value> {
        let present = state != ABSENT;
        match (op.answer, op.ask) {
            (Answer::Done, Ask::Create(v)) => (!present).then_some(v),
            (Answer::Done, Ask::Update(v)) => present.then_some(v),
            (Answer::Done, Ask::Delete) => present.then_some(ABSENT),
            (Answer::Done, Ask::Read) | (Answer::Unknown, Ask::Read) => Some(state),
            (Answer::Saw(v), _) | (Answer::SawPresent(Some(v)), _) => (state == v).then_some(state),
            (Answer::SawPresent(None), _) => present.then_some(state),
            (Answer::SawAbsent, _) => (!present).then_some(state),
            (Answer::Unknown, Ask::Create(v)) => Some(if present { state } else { v }),
            (Answer::Unknown, Ask::Update(v)) => Some(if present { v } else { state }),
            (Answer::Unknown, Ask::Delete) => Some(ABSENT),
        }
    }

    #[inline]
    fn is_observation(&self, op: &KvOp) -> bool {
        matches!(
            op.answer,
            Answer::Saw(_) | Answer::SawPresent(_) | Answer::SawAbsent
        )
    }

    fn register_access(&self, op: &KvOp) -> Option<RegisterAccess<Value>> {
        Some(RegisterAccess {
            writes: match (op.answer, op.ask) {
                (Answer::Done | Answer::Unknown, Ask::Create(v) | Ask::Update(v)) => Some(v),
                (Answer::Done | Answer::Unknown, Ask::Delete) => Some(ABSENT),
                _ => None,
            },
            needs: match (op.answer, op.ask) {
                (Answer::Saw(v) | Answer::SawPresent(Some(v)), _) => Some(v),
                (Answer::SawAbsent, _) | (Answer::Done, Ask::Create(_)) => Some(ABSENT),
                _ => None,
            },
        })
    }
}

impl Explain for KvModel {
    fn kind(&self, op: &KvOp) -> &'static str {
        match op.ask {
            Ask::Create(_) => "create",
            Ask::Update(_) => "update",
            Ask::Delete => "delete",
            Ask::Read => "read",
        }
    }

    fn describe(&self, op: &KvOp) -> String {
        match op.ask {
            Ask::Create(v) => format!("create {}", self.text(v)),
            Ask::Update(v) => format!("update {}", self.text(v)),
            Ask::Delete => "delete".to_string(),
            Ask::Read => "read".to_string(),
        }
    }

    fn outcome(&self, op: &KvOp) -> String {
        match op.answer {
            Answer::Done => "ok".to_string(),
            Answer::Saw(v) => format!("ok, saw {}", self.text(v)),
            Answer::SawPresent(None) => "rejected: exists".to_string(),
            Answer::SawPresent(Some(v)) => format!("rejected: exists, saw {}", self.text(v)),
            Answer::SawAbsent => "rejected: not found".to_string(),
            Answer::Unknown => "unknown".to_string(),
        }
    }

    fn describe_state(&self, state: Value) -> String {
        self.text(state)
    }

    fn tokens(&self, op: &KvOp) -> Tokens {
        let mut tokens = Tokens::default();
        match (op.answer, op.ask) {
            (Answer::Done | Answer::Unknown, Ask::Create(v)) => {
                tokens.produced.extend([v, CREATED]);
            }
            (Answer::Done | Answer::Unknown, Ask::Update(v)) => tokens.produced.push(v),
            _ => {}
        }
        match (op.answer, op.ask) {
            (Answer::Done, Ask::Update(_) | Ask::Delete) | (Answer::SawPresent(None), _) => {
                tokens.needed.push(CREATED);
            }
            (Answer::Saw(v) | Answer::SawPresent(Some(v)), _) if v != ABSENT => {
                tokens.needed.push(v);
            }
            _ => {}
        }
        tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(ask: Ask, answer: Answer) -> KvOp {
        KvOp { ask, answer }
    }

    #[test]
    fn preconditions_follow_the_store() {
        let mut m = KvModel::default();
        let a = m.values.intern(&"a".to_string());
        let b = m.values.intern(&"b".to_string());
        let done = Answer::Done;
        assert_eq!(m.step(ABSENT, &op(Ask::Create(a), done)), Some(a));
        assert_eq!(m.step(a, &op(Ask::Create(b), done)), None);
        assert_eq!(m.step(ABSENT, &op(Ask::Update(b), done)), None);
        assert_eq!(m.step(a, &op(Ask::Update(b), done)), Some(b));
        assert_eq!(m.step(ABSENT, &op(Ask::Delete, done)), None);
        assert_eq!(m.step(b, &op(Ask::Delete, done)), Some(ABSENT));
        assert_eq!(m.step(b, &op(Ask::Read, Answer::Saw(a))), None);
        assert_eq!(m.step(b, &op(Ask::Read, Answer::Saw(b))), Some(b));
    }

    #[test]
    fn rejections_are_observations() {
        let mut m = KvModel::default();
        let a = m.values.intern(&"a".to_string());
        let exists = op(Ask::Create(a), Answer::SawPresent(None));
        let missing = op(Ask::Delete, Answer::SawAbsent);
        assert_eq!(m.step(a, &exists), Some(a));
        assert_eq!(m.step(ABSENT, &exists), None);
        assert_eq!(m.step(ABSENT, &missing), Some(ABSENT));
        assert_eq!(m.step(a, &missing), None);
        assert!(m.is_observation(&missing));
        assert!(!m.is_observation(&op(Ask::Delete, Answer::Unknown)));
    }

    #[test]
    fn unknown_writes_act_only_when_the_store_would_accept_them() {
        let mut m = KvModel::default();
        let a = m.values.intern(&"a".to_string());
        let b = m.values.intern(&"b".to_string());
        let maybe_create = op(Ask::Create(b), Answer::Unknown);
        assert_eq!(m.step(a, &maybe_create), Some(a));
        assert_eq!(m.step(ABSENT, &maybe_create), Some(b));
        assert_eq!(
            m.step(ABSENT, &op(Ask::Update(b), Answer::Unknown)),
            Some(ABSENT)
        );
    }

    #[test]
    fn updates_and_deletes_need_a_create_and_reads_need_their_writer() {
        let mut m = KvModel::default();
        let a = m.values.intern(&"a".to_string());
        let create = m.tokens(&op(Ask::Create(a), Answer::Done));
        let delete = m.tokens(&op(Ask::Delete, Answer::Done));
        let read = m.tokens(&op(Ask::Read, Answer::Saw(a)));
        assert!(create.produced.contains(&CREATED) && create.produced.contains(&a));
        assert_eq!(delete.needed, vec![CREATED]);
        assert_eq!(read.needed, vec![a]);
        assert!(m
            .tokens(&op(Ask::Read, Answer::Saw(ABSENT)))
            .needed
            .is_empty());
    }
}
