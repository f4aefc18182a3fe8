//! The model of Jepsen's etcd histories: one compare-and-set register, initially nil.
//!
//! - `read` sees the value (nil: none);
//! - `write v` sets it;
//! - `cas a b` that succeeded required the value `a` and set `b`; one that failed (`:fail`) is
//!   an observation that the value was not `a`;
//! - an operation of unknown outcome (`:info`) may take effect once, any time after its
//!   invocation, or never.

use crate::intern::Interner;
use crate::model::{Explain, Model, RegisterAccess, Tokens};

/// An interned register value; 0 is nil.
pub type Value = u32;

const NIL: Value = 0;

/// One operation on the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtcdOp {
    /// A read that saw this value.
    Read(Value),
    /// A write that took effect.
    Write(Value),
    /// A compare-and-set that succeeded: the value was `from`, and became `to`.
    Cas {
        /// The expected value.
        from: Value,
        /// The new value.
        to: Value,
    },
    /// A compare-and-set that failed: the value was not `from`.
    CasFailed {
        /// The expected value.
        from: Value,
        /// The value it would have set.
        to: Value,
    },
    /// A write of unknown outcome.
    MaybeWrite(Value),
    /// A compare-and-set of unknown outcome.
    MaybeCas {
        /// The expected value.
        from: Value,
        /// The new value.
        to: Value,
    },
}

/// The register model; holds the interner of the integers the history writes.
#[derive(Debug, Clone, Default)]
pub struct EtcdModel {
    values: Interner<i64>,
}

impl EtcdModel {
    /// The id of a register value (`None`: nil).
    pub fn value(&mut self, value: Option<i64>) -> Value {
        value.map_or(NIL, |v| self.values.intern(&v))
    }

    fn text(&self, value: Value) -> String {
        match self.values.value(value) {
            Some(v) => v.to_string(),
            None => "nil".to_string(),
        }
    }
}

impl Model for EtcdModel {
    type State = Value;
    type Op = EtcdOp;

    fn init(&self) -> Value {
        NIL
    }

    #[inline]
    fn step(&mut self, state: Value, op: &EtcdOp) -> Option<Value> {
        match *op {
            EtcdOp::Read(v) => (state == v).then_some(state),
            EtcdOp::Write(v) | EtcdOp::MaybeWrite(v) => Some(v),
            EtcdOp::Cas { from, to } => (state == from).then_some(to),
            EtcdOp::CasFailed { from, .. } => (state != from).then_some(state),
            EtcdOp::MaybeCas { from, to } => Some(if state == from { to } else { state }),
        }
    }

    #[inline]
    fn is_observation(&self, op: &EtcdOp) -> bool {
        matches!(op, EtcdOp::Read(_) | EtcdOp::CasFailed { .. })
    }

    /// Writes of one value are alike, known or unknown; so are compare-and-sets of one pair (an
    /// unknown one that would change nothing is never made). Observations have no class: the
    /// search takes a legal one at once.
    fn step_class(&self, op: &EtcdOp) -> Option<u64> {
        const WRITE: u64 = 1 << 63;
        match *op {
            EtcdOp::Write(v) | EtcdOp::MaybeWrite(v) => Some(WRITE | u64::from(v)),
            EtcdOp::Cas { from, to } | EtcdOp::MaybeCas { from, to } if from < 1 << 31 => {
                Some(u64::from(from) << 32 | u64::from(to))
            }
            _ => None,
        }
    }

    fn register_access(&self, op: &EtcdOp) -> Option<RegisterAccess<Value>> {
        Some(RegisterAccess {
            writes: match *op {
                EtcdOp::Write(v) | EtcdOp::MaybeWrite(v) => Some(v),
                EtcdOp::Cas { to, .. } | EtcdOp::MaybeCas { to, .. } => Some(to),
                EtcdOp::Read(_) | EtcdOp::CasFailed { .. } => None,
            },
            needs: match *op {
                EtcdOp::Read(v) | EtcdOp::Cas { from: v, .. } => Some(v),
                _ => None,
            },
        })
    }
}

impl Explain for EtcdModel {
    fn kind(&self, op: &EtcdOp) -> &'static str {
        match op {
            EtcdOp::Read(_) => "read",
            EtcdOp::Write(_) | EtcdOp::MaybeWrite(_) => "write",
            EtcdOp::Cas { .. } | EtcdOp::CasFailed { .. } | EtcdOp::MaybeCas { .. } => "cas",
        }
    }

    fn describe(&self, op: &EtcdOp) -> String {
        match *op {
            EtcdOp::Read(_) => "read".to_string(),
            EtcdOp::Write(v) | EtcdOp::MaybeWrite(v) => format!("write {}", self.text(v)),
            EtcdOp::Cas { from, to }
            | EtcdOp::CasFailed { from, to }
            | EtcdOp::MaybeCas { from, to } => {
                format!("cas {} -> {}", self.text(from), self.text(to))
            }
        }
    }

    fn outcome(&self, op: &EtcdOp) -> String {
        match *op {
            EtcdOp::Read(v) => format!("ok, saw {}", self.text(v)),
            EtcdOp::Write(_) | EtcdOp::Cas { .. } => "ok".to_string(),
            EtcdOp::CasFailed { from, .. } => format!("fail: saw not {}", self.text(from)),
            EtcdOp::MaybeWrite(_) | EtcdOp::MaybeCas { .. } => "unknown".to_string(),
        }
    }

    fn describe_state(&self, state: Value) -> String {
        self.text(state)
    }

    fn tokens(&self, op: &EtcdOp) -> Tokens {
        match *op {
            EtcdOp::Read(NIL) | EtcdOp::CasFailed { .. } => Tokens::default(),
            EtcdOp::Read(v) => Tokens {
                produced: vec![],
                needed: vec![v],
            },
            EtcdOp::Write(v) | EtcdOp::MaybeWrite(v) | EtcdOp::MaybeCas { to: v, .. } => Tokens {
                produced: vec![v],
                needed: vec![],
            },
            EtcdOp::Cas { from, to } => Tokens {
                produced: vec![to],
                needed: if from == NIL { vec![] } else { vec![from] },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_sets_only_from_the_expected_value_and_a_failed_cas_saw_another() {
        let mut m = EtcdModel::default();
        let (one, two) = (m.value(Some(1)), m.value(Some(2)));
        let cas = EtcdOp::Cas { from: one, to: two };
        let failed = EtcdOp::CasFailed { from: one, to: two };
        assert_eq!(m.step(one, &cas), Some(two));
        assert_eq!(m.step(NIL, &cas), None);
        assert_eq!(m.step(one, &failed), None);
        assert_eq!(m.step(two, &failed), Some(two));
        assert_eq!(
            m.step(NIL, &EtcdOp::MaybeCas { from: one, to: two }),
            Some(NIL)
        );
        assert_eq!(m.step(NIL, &EtcdOp::Read(NIL)), Some(NIL));
        assert_eq!(m.step(one, &EtcdOp::Read(NIL)), None);
        assert_eq!(m.text(NIL), "nil");
        assert_eq!(m.text(two), "2");
    }

    #[test]
    fn a_successful_cas_needs_the_value_it_expected() {
        let mut m = EtcdModel::default();
        let (one, two) = (m.value(Some(1)), m.value(Some(2)));
        let tokens = m.tokens(&EtcdOp::Cas { from: one, to: two });
        assert_eq!(tokens.needed, vec![one]);
        assert_eq!(tokens.produced, vec![two]);
    }
}
