//! The search's lookahead for register models, from tables built once per search.
//!
//! An operation that needs the register to hold a value when it is linearized (a read that saw
//! it, a compare-and-set that expected it) can only be linearized before its completion if the
//! register holds that value now, or if an operation not yet linearized that was invoked before
//! that completion may write it. Asked of every pending entry in every configuration, as
//! [`Model::may_finish`] is, that is a walk of the whole list each time. Here each needing
//! operation gets, once, the list of operations that could write its value in time, so a
//! configuration only looks at the needing operations still pending and, for each, at its
//! writers until one is still pending (usually the first).

use crate::history::HistoryOp;
use crate::model::{Model, RegisterAccess};

/// A required operation with a completion that needs the register to hold `value`.
struct Needer<S> {
    op: u32,
    value: S,
    /// Its writers, as a range of [`RegisterLookahead::writers`].
    writers: std::ops::Range<usize>,
}

/// The tables of one search.
pub(crate) struct RegisterLookahead<S> {
    needers: Vec<Needer<S>>,
    /// The operations that may write each needer's value and were invoked before it completed.
    writers: Vec<u32>,
}

impl<S: Copy + Eq> RegisterLookahead<S> {
    /// The tables for `ops`, or `None` if the model is not a register model. `call_at` and
    /// `return_at` give each operation's place in real-time order (`None`: no completion);
    /// `optional[i]` says whether operation `i` need not be linearized.
    pub fn new<M: Model<State = S>>(
        model: &M,
        ops: &[HistoryOp<M::Op>],
        optional: &[bool],
        call_at: &[u32],
        return_at: &[Option<u32>],
    ) -> Option<RegisterLookahead<S>> {
        let access: Vec<RegisterAccess<S>> = ops
            .iter()
            .map(|op| model.register_access(&op.op))
            .collect::<Option<_>>()?;
        let mut lookahead = RegisterLookahead {
            needers: Vec::new(),
            writers: Vec::new(),
        };
        for (i, needs) in access.iter().enumerate() {
            let (Some(value), Some(done), false) = (needs.needs, return_at[i], optional[i]) else {
                continue;
            };
            let start = lookahead.writers.len();
            lookahead.writers.extend(
                (0..ops.len())
                    .filter(|&j| access[j].writes == Some(value) && call_at[j] < done)
                    .map(|j| j as u32),
            );
            lookahead.needers.push(Needer {
                op: i as u32,
                value,
                writers: start..lookahead.writers.len(),
            });
        }
        Some(lookahead)
    }

    /// Whether every needing operation not yet linearized can still be, from `state`; `done`
    /// is the bit set of the operations linearized (or dropped).
    pub fn may_finish(&self, state: S, done: &[u64]) -> bool {
        let pending = |op: u32| done[op as usize / 64] & 1 << (op % 64) == 0;
        self.needers.iter().all(|needer| {
            !pending(needer.op)
                || needer.value == state
                || self.writers[needer.writers.clone()]
                    .iter()
                    .any(|&j| pending(j))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{events, line_stamp};
    use crate::models::etcd::{EtcdModel, EtcdOp};

    /// An operation on lines `invoke..=complete` (`None`: open).
    fn op(invoke: usize, complete: Option<usize>, op: EtcdOp) -> HistoryOp<EtcdOp> {
        HistoryOp {
            id: invoke as u64,
            client: 0,
            invoke: line_stamp(invoke),
            complete: complete.map(line_stamp),
            op,
        }
    }

    fn lookahead(m: &EtcdModel, ops: &[HistoryOp<EtcdOp>]) -> RegisterLookahead<u32> {
        let (mut call_at, mut return_at) = (vec![0; ops.len()], vec![None; ops.len()]);
        for (e, event) in events(ops).iter().enumerate() {
            if event.is_return {
                return_at[event.op as usize] = Some(e as u32);
            } else {
                call_at[event.op as usize] = e as u32;
            }
        }
        let optional: Vec<bool> = ops.iter().map(|o| o.complete.is_none()).collect();
        RegisterLookahead::new(m, ops, &optional, &call_at, &return_at).unwrap()
    }

    #[test]
    fn a_read_cannot_complete_if_nobody_left_can_write_its_value() {
        let mut m = EtcdModel::default();
        let (one, two) = (m.value(Some(1)), m.value(Some(2)));
        // A read of 1, and a write of 1 invoked before it completed, or after.
        let before = [
            op(1, Some(4), EtcdOp::Read(one)),
            op(2, Some(3), EtcdOp::Write(one)),
        ];
        let after = [
            op(1, Some(2), EtcdOp::Read(one)),
            op(3, Some(4), EtcdOp::Write(one)),
        ];
        let (nothing_done, write_done) = ([0u64], [0b10u64]);
        assert!(lookahead(&m, &before).may_finish(two, &nothing_done));
        assert!(!lookahead(&m, &before).may_finish(two, &write_done));
        assert!(lookahead(&m, &before).may_finish(one, &write_done));
        assert!(!lookahead(&m, &after).may_finish(two, &nothing_done));
        // A read already linearized needs nothing more.
        assert!(lookahead(&m, &after).may_finish(two, &[0b01]));
        // An open compare-and-set may write it too.
        let cas = [
            op(1, None, EtcdOp::MaybeCas { from: two, to: one }),
            op(2, Some(3), EtcdOp::Read(one)),
        ];
        assert!(lookahead(&m, &cas).may_finish(two, &nothing_done));
    }
}
