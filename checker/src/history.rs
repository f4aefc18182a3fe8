//! Histories as the linearizability search sees them: operations with closed real-time intervals.
//!
//! An operation is invoked at one [`Stamp`] and, if its outcome is definite, completes at a later
//! (or equal) one. Intervals are closed: two operations whose intervals touch at an endpoint are
//! concurrent, so either may be ordered first. An operation with no completion is *open*: its
//! outcome is unknown, so it may take effect once at any point after its invocation, or never
//! (design.md, "Outcomes and histories").

use crate::record::Stamp;

/// One operation of a history, carrying the model's description of what it asked and observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOp<O> {
    /// The operation's id in its source (op id, or line number of the invocation).
    pub id: u64,
    /// The client (process) that issued it; only for display.
    pub client: u64,
    /// When it was invoked.
    pub invoke: Stamp,
    /// When it completed with a definite outcome; `None` keeps it open to the end of the history
    /// (outcome unknown: it need not be linearized at all).
    pub complete: Option<Stamp>,
    /// What it did, in the model's terms.
    pub op: O,
}

/// The operations on one key. Linearizability is P-compositional for the models here, so each
/// key is checked on its own and one key's blow-up does not stall the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition<O> {
    /// The key (or register name) shared by the operations.
    pub key: String,
    /// The operations, in any order.
    pub ops: Vec<HistoryOp<O>>,
}

/// A position on the time axis of a line-oriented log that has no clock of its own: each line is
/// its own instant, so real-time order is line order.
pub fn line_stamp(line: usize) -> Stamp {
    Stamp {
        tick: line as u64,
        seq: line as u64,
    }
}

/// One endpoint of an operation's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Event {
    /// Where on the time axis.
    pub at: Stamp,
    /// `false` for an invocation, `true` for a completion: at equal stamps invocations sort
    /// first, which is what makes touching intervals concurrent.
    pub is_return: bool,
    /// Index of the operation in its slice.
    pub op: u32,
}

/// Every invocation and definite completion of `ops`, in real-time order.
///
/// The invocations go in first, then the completions: histories list their operations in
/// invocation order, so the list is two sorted runs (or nearly), which the stable sort finds
/// and merges in linear time. (No two events are equal, so the order is the same either way.)
pub(crate) fn events<O>(ops: &[HistoryOp<O>]) -> Vec<Event> {
    let mut events = Vec::with_capacity(ops.len() * 2);
    events.extend(ops.iter().enumerate().map(|(i, op)| Event {
        at: op.invoke,
        is_return: false,
        op: i as u32,
    }));
    events.extend(ops.iter().enumerate().filter_map(|(i, op)| {
        op.complete.map(|at| Event {
            at,
            is_return: true,
            op: i as u32,
        })
    }));
    events.sort();
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(invoke: u64, complete: Option<u64>) -> HistoryOp<()> {
        HistoryOp {
            id: invoke,
            client: 0,
            invoke: line_stamp(invoke as usize),
            complete: complete.map(|c| line_stamp(c as usize)),
            op: (),
        }
    }

    #[test]
    fn touching_intervals_put_the_invocation_first() {
        // Op 0 completes at 5, op 1 is invoked at 5: closed intervals make them concurrent, so
        // the invocation of 1 must precede the completion of 0.
        let events = events(&[op(1, Some(5)), op(5, Some(7))]);
        let order: Vec<(u32, bool)> = events.iter().map(|e| (e.op, e.is_return)).collect();
        assert_eq!(order, vec![(0, false), (1, false), (0, true), (1, true)]);
    }

    #[test]
    fn open_operations_have_no_completion_event() {
        let events = events(&[op(1, None), op(2, Some(3))]);
        assert_eq!(events.len(), 3);
        assert!(events.iter().all(|e| !(e.op == 0 && e.is_return)));
    }
}
