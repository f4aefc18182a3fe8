//! The linearizability search for one key: Wing & Gong's depth-first search with Lowe's
//! memoization, as Porcupine does it, with prunings of our own.
//!
//! The history is a doubly linked list of invocation and completion entries in real-time order.
//! The operations that may go next are the invocations before the first completion still in the
//! list. Linearizing one lifts its two entries out of the list; backtracking puts them back (an
//! undo, no copying). A configuration (set of linearized operations, model state) that was
//! entered once is never entered again: it either failed, or it is an ancestor on the current
//! path, whose set is strictly smaller.
//!
//! Optional operations need not be linearized: an operation of unknown outcome (no completion:
//! it may take effect any time after its invocation, or never), and, for the witness
//! minimizer, an operation it no longer requires (it may take effect within its interval, or
//! never). The search succeeds once every required operation is linearized. When the first
//! completion in the list is an optional operation's, the one move left besides the candidates
//! before it is to drop that operation for good.
//!
//! Prunings, each of which keeps the verdict exact:
//! - *Optional operations that change nothing are skipped*: linearizing one that would leave
//!   the state as it is gains nothing over leaving it out.
//! - *Legal observations go first.* If a candidate that never changes the state (a read) is legal
//!   in the current state, it is linearized at once and its siblings are not tried: any
//!   linearization from here can move that read to the front and stay legal.
//! - *Hopeless configurations are left at once.* Before trying candidates, the model may look
//!   ahead over everything not yet linearized ([`Model::may_finish`]): a read whose value
//!   nobody left can write, or a string register whose state is no longer a prefix of what a
//!   later get saw, fails every continuation. This is what makes refutation fast: without it
//!   the search must try every order of the pending writes before giving up.
//! - *Of two alike candidates, only the one due first is tried.* If two candidates step alike
//!   ([`Model::step_class`]) and `a` completes no later than `b` (open: never), a linearization
//!   that takes `b` now and `a` later stays one with the two swapped; one that never takes `a`
//!   (optional) stays one that never takes `b`, so `b` is passed over unless `a` is optional and
//!   `b` required. Unknown writes of one value stay open to the end of a history and pile up:
//!   without this the search tries every subset of them in every order.

use crate::budget::Meter;
use crate::history::{events, HistoryOp};
use crate::lookahead::RegisterLookahead;
use crate::memo::Memo;
use crate::model::{Model, Pending};
use rustc_hash::FxHashMap;

/// The answer of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Some order of the operations respects real time and the model.
    Linearizable,
    /// No order does.
    NotLinearizable,
    /// The budget ran out before the search knew.
    Unknown,
}

impl Verdict {
    /// The stable name used in output and in `VERDICTS.tsv`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Linearizable => "linearizable",
            Verdict::NotLinearizable => "not-linearizable",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The list head; entries are numbered from 1.
const HEAD: u32 = 0;
const NO_ENTRY: u32 = u32::MAX;

/// How a move resolved an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// Linearized, chosen among the candidates; its later siblings remain to be tried.
    Chosen,
    /// Linearized as a legal observation, or dropped (optional, at its completion): the only
    /// move worth making from its configuration, so it has no siblings left to try.
    Only,
}

/// One resolved operation on the search stack.
struct Frame<S> {
    op: u32,
    state_before: S,
    kind: Move,
}

/// The entry list and the per-operation facts the loop reads.
struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per entry: the operation index, shifted left once, low bit set for a completion.
    entry: Vec<u32>,
    call_entry: Vec<u32>,
    return_entry: Vec<u32>,
}

impl Entries {
    fn new<O>(ops: &[HistoryOp<O>]) -> Entries {
        let events = events(ops);
        let count = events.len() + 1;
        let mut entries = Entries {
            next: (1..=count as u32).map(|n| n % count as u32).collect(),
            prev: (0..count as u32)
                .map(|p| (p + count as u32 - 1) % count as u32)
                .collect(),
            entry: vec![0; count],
            call_entry: vec![NO_ENTRY; ops.len()],
            return_entry: vec![NO_ENTRY; ops.len()],
        };
        for (i, event) in events.iter().enumerate() {
            let e = i as u32 + 1;
            entries.entry[e as usize] = event.op << 1 | u32::from(event.is_return);
            if event.is_return {
                entries.return_entry[event.op as usize] = e;
            } else {
                entries.call_entry[event.op as usize] = e;
            }
        }
        entries
    }

    #[inline]
    fn is_return(&self, e: u32) -> bool {
        self.entry[e as usize] & 1 == 1
    }

    #[inline]
    fn op(&self, e: u32) -> u32 {
        self.entry[e as usize] >> 1
    }

    #[inline]
    fn unlink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }

    #[inline]
    fn relink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = e;
        self.prev[n as usize] = e;
    }

    #[inline]
    fn lift(&mut self, op: u32) {
        self.unlink(self.call_entry[op as usize]);
        let r = self.return_entry[op as usize];
        if r != NO_ENTRY {
            self.unlink(r);
        }
    }

    /// Undoes [`Entries::lift`]; lifts are undone in the reverse order they were made.
    #[inline]
    fn unlift(&mut self, op: u32) {
        let r = self.return_entry[op as usize];
        if r != NO_ENTRY {
            self.relink(r);
        }
        self.relink(self.call_entry[op as usize]);
    }
}

/// A 64-bit key per operation for the incremental (Zobrist) hash of the linearized set.
fn zobrist(op: usize) -> u64 {
    // SplitMix64 of the index: fixed, so hashing is the same on every run and machine.
    let mut z = (op as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Each operation's [`Model::step_class`], kept only for classes with two operations or more;
/// empty if there are none.
fn shared_classes<M: Model>(model: &M, ops: &[HistoryOp<M::Op>]) -> Vec<Option<u64>> {
    let mut classes: Vec<Option<u64>> = ops.iter().map(|op| model.step_class(&op.op)).collect();
    let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
    for class in classes.iter().flatten() {
        *counts.entry(*class).or_default() += 1;
    }
    if counts.values().all(|&n| n < 2) {
        return Vec::new();
    }
    for class in &mut classes {
        if class.is_some_and(|c| counts[&c] < 2) {
            *class = None;
        }
    }
    classes
}

/// A search in progress on one key; it can stop when its meter runs out and resume later, so
/// that several keys can share one budget in turns.
pub(crate) struct Search<'a, M: Model> {
    ops: &'a [HistoryOp<M::Op>],
    entries: Entries,
    /// Per operation: need not be linearized.
    optional: Vec<bool>,
    observes: Vec<bool>,
    /// Per operation: its [`Model::step_class`] if another operation shares it (empty when no
    /// two do).
    classes: Vec<Option<u64>>,
    keys: Vec<u64>,
    set: Vec<u64>,
    set_hash: u64,
    memo: Memo<M::State>,
    /// The register lookahead's tables, for register models.
    lookahead: Option<RegisterLookahead<M::State>>,
    stack: Vec<Frame<M::State>>,
    state: M::State,
    /// The candidate entry to try next.
    entry: u32,
    /// Right after entering a configuration: look for a legal observation first.
    fresh: bool,
    /// Required operations not yet linearized.
    remaining: usize,
    /// The latest entry that was, in some configuration the search entered, the first
    /// completion not yet passed (see [`Search::reached`]); [`HEAD`] until one is seen.
    reach: u32,
}

impl<'a, M: Model> Search<'a, M> {
    /// A search of `ops` (all on one object) from the model's initial state, where operations
    /// without a completion are optional.
    pub fn new(model: &M, ops: &'a [HistoryOp<M::Op>]) -> Self {
        let optional = ops.iter().map(|op| op.complete.is_none()).collect();
        Search::with_optional(model, ops, optional)
    }

    /// A search where `optional[i]` says whether operation `i` need not be linearized.
    pub fn with_optional(model: &M, ops: &'a [HistoryOp<M::Op>], optional: Vec<bool>) -> Self {
        let words = ops.len().div_ceil(64);
        let remaining = optional.iter().filter(|&&o| !o).count();
        let entries = Entries::new(ops);
        let call_at: Vec<u32> = entries.call_entry.clone();
        let return_at: Vec<Option<u32>> = entries
            .return_entry
            .iter()
            .map(|&e| (e != NO_ENTRY).then_some(e))
            .collect();
        let lookahead = RegisterLookahead::new(model, ops, &optional, &call_at, &return_at);
        Search {
            ops,
            entries,
            lookahead,
            optional,
            observes: ops.iter().map(|op| model.is_observation(&op.op)).collect(),
            classes: shared_classes(model, ops),
            keys: (0..ops.len()).map(zobrist).collect(),
            set: vec![0u64; words],
            set_hash: 0,
            memo: Memo::new(words),
            stack: Vec::with_capacity(ops.len()),
            state: model.init(),
            entry: HEAD,
            fresh: true,
            remaining,
            reach: HEAD,
        }
    }

    /// The index (in [`events`] order) of the latest completion that some configuration the
    /// search entered had not yet passed. That configuration linearizes every operation that
    /// completed before it, so every prefix of the history that ends before this event is
    /// linearizable: the witness's shortest violating prefix ends at or after it. `None`
    /// before the search met any completion.
    pub fn reached(&self) -> Option<usize> {
        (self.reach != HEAD).then(|| self.reach as usize - 1)
    }

    #[inline]
    fn flip(&mut self, op: u32) {
        let i = op as usize;
        self.set[i / 64] ^= 1 << (i % 64);
        self.set_hash ^= self.keys[i];
    }

    /// Searches until a verdict (`Some`) or until `meter` runs out (`None`: call again to go on).
    pub fn run(&mut self, model: &mut M, meter: &mut Meter) -> Option<Verdict> {
        if self.remaining == 0 {
            return Some(Verdict::Linearizable);
        }
        loop {
            if !meter.tick() {
                return None;
            }
            let mut next_move: Option<(u32, M::State, Move)> = None;
            let mut dead_end = false;
            if self.fresh {
                self.fresh = false;
                let mut e = self.entries.next[HEAD as usize];
                while e != HEAD && !self.entries.is_return(e) {
                    let op = self.entries.op(e);
                    if self.observes[op as usize] {
                        if let Some(next) = model.step(self.state, &self.ops[op as usize].op) {
                            next_move = Some((op, next, Move::Only));
                            break;
                        }
                    }
                    e = self.entries.next[e as usize];
                }
                if next_move.is_none() {
                    // `e` is the first completion left: lifting only ever moves it later, so
                    // the configurations that stop here cover every one entered.
                    if e != HEAD {
                        self.reach = self.reach.max(e);
                    }
                    self.entry = self.entries.next[HEAD as usize];
                    dead_end = !self.may_finish(model);
                }
            }
            if next_move.is_none() && !dead_end {
                let entry = self.entry;
                let op = self.entries.op(entry);
                if entry == HEAD {
                    dead_end = true;
                } else if self.entries.is_return(entry) {
                    // The candidates before this completion are exhausted. A required
                    // operation's completion ends the branch; an optional one's can be passed
                    // by dropping that operation.
                    if self.optional[op as usize] {
                        next_move = Some((op, self.state, Move::Only));
                    } else {
                        dead_end = true;
                    }
                } else if self.dominated(op) {
                    self.entry = self.entries.next[entry as usize];
                } else {
                    match model.step(self.state, &self.ops[op as usize].op) {
                        Some(next) if !(self.optional[op as usize] && next == self.state) => {
                            next_move = Some((op, next, Move::Chosen));
                        }
                        _ => self.entry = self.entries.next[entry as usize],
                    }
                }
            }
            if let Some((op, next, kind)) = next_move {
                self.flip(op);
                if self
                    .memo
                    .insert(&self.set, Memo::hash(self.set_hash, &next), next)
                {
                    self.stack.push(Frame {
                        op,
                        state_before: self.state,
                        kind,
                    });
                    self.state = next;
                    self.entries.lift(op);
                    if !self.optional[op as usize] {
                        self.remaining -= 1;
                        if self.remaining == 0 {
                            return Some(Verdict::Linearizable);
                        }
                    }
                    self.fresh = true;
                    continue;
                }
                self.flip(op);
                match kind {
                    // The only move worth making from here was explored before: a dead end.
                    Move::Only => dead_end = true,
                    Move::Chosen => self.entry = self.entries.next[self.entry as usize],
                }
            }
            if dead_end && !self.backtrack() {
                return Some(Verdict::NotLinearizable);
            }
        }
    }

    /// Whether another candidate steps like `b` and is due first, so that trying `b` now gains
    /// nothing over trying it (see the module's prunings).
    fn dominated(&self, b: u32) -> bool {
        let Some(class) = self.classes.get(b as usize).copied().flatten() else {
            return false;
        };
        let (b_due, b_optional) = (
            self.entries.return_entry[b as usize],
            self.optional[b as usize],
        );
        let mut e = self.entries.next[HEAD as usize];
        while e != HEAD && !self.entries.is_return(e) {
            let a = self.entries.op(e);
            if a != b
                && self.classes[a as usize] == Some(class)
                && (self.entries.return_entry[a as usize], a) < (b_due, b)
                && (b_optional || !self.optional[a as usize])
            {
                return true;
            }
            e = self.entries.next[e as usize];
        }
        false
    }

    /// Asks the lookahead whether the current configuration can still succeed.
    fn may_finish(&self, model: &mut M) -> bool {
        if let Some(lookahead) = &self.lookahead {
            return lookahead.may_finish(self.state, &self.set);
        }
        let entries = &self.entries;
        let ops = self.ops;
        let optional = &self.optional;
        let mut e = entries.next[HEAD as usize];
        let pending = std::iter::from_fn(|| loop {
            if e == HEAD {
                return None;
            }
            let i = entries.op(e) as usize;
            let is_return = entries.is_return(e);
            e = entries.next[e as usize];
            // An optional operation's completion binds nothing: it may be dropped.
            match (is_return, optional[i]) {
                (false, _) => return Some(Pending::Invoked(&ops[i].op)),
                (true, false) => return Some(Pending::Completes(&ops[i].op)),
                (true, true) => {}
            }
        });
        model.may_finish(self.state, pending)
    }

    /// Undoes moves until one whose siblings are still worth trying; `false` if none is left.
    fn backtrack(&mut self) -> bool {
        while let Some(frame) = self.stack.pop() {
            self.state = frame.state_before;
            self.flip(frame.op);
            self.entries.unlift(frame.op);
            if !self.optional[frame.op as usize] {
                self.remaining += 1;
            }
            if frame.kind == Move::Chosen {
                let call = self.entries.call_entry[frame.op as usize];
                self.entry = self.entries.next[call as usize];
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Budget;
    use crate::history::line_stamp;
    use crate::models::etcd::{EtcdModel, EtcdOp};
    use proptest::prelude::*;

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

    fn verdict(model: &mut EtcdModel, ops: &[HistoryOp<EtcdOp>]) -> Verdict {
        let mut meter = Meter::new(Budget::Steps(1_000_000));
        Search::new(model, ops).run(model, &mut meter).unwrap()
    }

    #[test]
    fn the_empty_history_is_linearizable() {
        assert_eq!(
            verdict(&mut EtcdModel::default(), &[]),
            Verdict::Linearizable
        );
    }

    #[test]
    fn a_read_may_see_a_concurrent_write_but_not_a_later_one() {
        let mut m = EtcdModel::default();
        let one = m.value(Some(1));
        let concurrent = [
            op(1, Some(4), EtcdOp::Write(one)),
            op(2, Some(3), EtcdOp::Read(one)),
        ];
        assert_eq!(verdict(&mut m, &concurrent), Verdict::Linearizable);
        let later = [
            op(3, Some(4), EtcdOp::Write(one)),
            op(1, Some(2), EtcdOp::Read(one)),
        ];
        assert_eq!(verdict(&mut m, &later), Verdict::NotLinearizable);
    }

    #[test]
    fn touching_intervals_are_concurrent() {
        let mut m = EtcdModel::default();
        let one = m.value(Some(1));
        // The read completes on the line where the write is invoked.
        let ops = [
            op(1, Some(2), EtcdOp::Read(one)),
            op(2, Some(3), EtcdOp::Write(one)),
        ];
        assert_eq!(verdict(&mut m, &ops), Verdict::Linearizable);
    }

    #[test]
    fn an_open_write_may_take_effect_late_or_never() {
        let mut m = EtcdModel::default();
        let (one, nil) = (m.value(Some(1)), m.value(None));
        let late = [
            op(1, None, EtcdOp::MaybeWrite(one)),
            op(5, Some(6), EtcdOp::Read(one)),
        ];
        assert_eq!(verdict(&mut m, &late), Verdict::Linearizable);
        let never = [
            op(1, None, EtcdOp::MaybeWrite(one)),
            op(5, Some(6), EtcdOp::Read(nil)),
        ];
        assert_eq!(verdict(&mut m, &never), Verdict::Linearizable);
        // But not before it was invoked.
        let early = [
            op(5, None, EtcdOp::MaybeWrite(one)),
            op(1, Some(2), EtcdOp::Read(one)),
        ];
        assert_eq!(verdict(&mut m, &early), Verdict::NotLinearizable);
    }

    #[test]
    fn an_open_write_takes_effect_at_most_once() {
        let mut m = EtcdModel::default();
        let (one, two) = (m.value(Some(1)), m.value(Some(2)));
        let ops = [
            op(1, None, EtcdOp::MaybeWrite(one)),
            op(2, Some(3), EtcdOp::Read(one)),
            op(4, Some(5), EtcdOp::Write(two)),
            op(6, Some(7), EtcdOp::Read(one)),
        ];
        assert_eq!(verdict(&mut m, &ops), Verdict::NotLinearizable);
    }

    #[test]
    fn a_paused_search_resumes_where_it_stopped() {
        let mut m = EtcdModel::default();
        let (one, two) = (m.value(Some(1)), m.value(Some(2)));
        let ops = [
            op(1, Some(10), EtcdOp::Write(one)),
            op(2, Some(10), EtcdOp::Write(two)),
            op(3, Some(10), EtcdOp::Read(one)),
            op(11, Some(12), EtcdOp::Read(two)),
        ];
        let mut search = Search::new(&m, &ops);
        let mut slices = 0;
        let verdict = loop {
            slices += 1;
            if let Some(verdict) = search.run(&mut m, &mut Meter::new(Budget::Steps(1))) {
                break verdict;
            }
        };
        assert_eq!(verdict, Verdict::Linearizable);
        assert!(slices > 3);
    }

    /// The etcd model without its step classes: the search with no symmetry to break.
    struct Unclassed(EtcdModel);

    impl Model for Unclassed {
        type State = u32;
        type Op = EtcdOp;
        fn init(&self) -> u32 {
            self.0.init()
        }
        fn step(&mut self, state: u32, op: &EtcdOp) -> Option<u32> {
            self.0.step(state, op)
        }
        fn is_observation(&self, op: &EtcdOp) -> bool {
            self.0.is_observation(op)
        }
        fn register_access(&self, op: &EtcdOp) -> Option<crate::model::RegisterAccess<u32>> {
            self.0.register_access(op)
        }
    }

    #[test]
    fn open_writes_of_one_value_are_tried_once_not_in_every_subset() {
        let mut m = EtcdModel::default();
        let (one, two) = (m.value(Some(1)), m.value(Some(2)));
        // Twelve unknown writes of 1, then thirteen times a write of 2 and a read of 1: each
        // read needs one of the unknown writes, and each of those takes effect at most once.
        // Without symmetry breaking the search tries every subset of the writes before it
        // gives up.
        let mut ops: Vec<_> = (1..=12)
            .map(|line| op(line, None, EtcdOp::MaybeWrite(one)))
            .collect();
        for round in 0..13 {
            let line = 20 + 4 * round;
            ops.push(op(line, Some(line + 1), EtcdOp::Write(two)));
            ops.push(op(line + 2, Some(line + 3), EtcdOp::Read(one)));
        }
        let mut meter = Meter::new(Budget::Steps(2_000));
        let classed = Search::new(&m, &ops).run(&mut m, &mut meter);
        assert_eq!(classed, Some(Verdict::NotLinearizable));
        let mut plain = Unclassed(m);
        let mut meter = Meter::new(Budget::Steps(2_000));
        assert_eq!(Search::new(&plain, &ops).run(&mut plain, &mut meter), None);
    }

    #[test]
    fn an_optional_operation_does_not_stand_in_for_a_required_alike_one() {
        let mut m = EtcdModel::default();
        let (one, two) = (m.value(Some(1)), m.value(Some(2)));
        let cas = EtcdOp::Cas { from: one, to: two };
        // The read of 2 needs a cas now; the required one must be it, since the register
        // never holds 1 again: taking the optional one first (due first) leaves the required
        // one nothing to swap from.
        let ops = [
            op(1, Some(2), EtcdOp::Write(one)),
            op(3, Some(6), cas),
            op(3, Some(8), cas),
            op(4, Some(5), EtcdOp::Read(two)),
        ];
        let optional = vec![false, true, false, false];
        let mut meter = Meter::new(Budget::Steps(1_000));
        let verdict = Search::with_optional(&m, &ops, optional).run(&mut m, &mut meter);
        assert_eq!(verdict, Some(Verdict::Linearizable));
    }

    fn arbitrary_etcd_op() -> impl Strategy<Value = (usize, Option<usize>, u8, u32, u32)> {
        (
            1..12usize,
            prop::option::weighted(0.8, 0..4usize),
            0..6u8,
            0..3u32,
            0..3u32,
        )
            .prop_map(|(invoke, length, kind, a, b)| {
                (invoke, length.map(|l| invoke + l), kind, a, b)
            })
    }

    /// The history of [`arbitrary_etcd_op`]'s draws, on three values.
    fn etcd_history(
        m: &mut EtcdModel,
        raw: &[(usize, Option<usize>, u8, u32, u32)],
    ) -> Vec<HistoryOp<EtcdOp>> {
        let values = [m.value(None), m.value(Some(1)), m.value(Some(2))];
        raw.iter()
            .map(|&(invoke, complete, kind, a, b)| {
                let (a, b) = (values[a as usize], values[b as usize]);
                let (operation, complete) = match kind {
                    0 => (EtcdOp::Read(a), complete),
                    1 => (EtcdOp::Write(a), complete),
                    2 => (EtcdOp::Cas { from: a, to: b }, complete),
                    3 => (EtcdOp::CasFailed { from: a, to: b }, complete),
                    4 => (EtcdOp::MaybeWrite(a), None),
                    _ => (EtcdOp::MaybeCas { from: a, to: b }, None),
                };
                op(invoke, complete.filter(|_| kind < 4), operation)
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// What the witness relies on `reached` for: after a search finds a history not
        /// linearizable, the prefix that ends just before the completion it reports is
        /// linearizable (operations still running there may take effect or not). The test
        /// fails if `reached` names a completion later than the search got to.
        #[test]
        fn every_prefix_before_the_reached_completion_is_linearizable(
            raw in prop::collection::vec(arbitrary_etcd_op(), 1..11),
        ) {
            let mut m = EtcdModel::default();
            let ops = etcd_history(&mut m, &raw);
            let mut meter = Meter::new(Budget::Steps(1_000_000));
            let mut search = Search::new(&m, &ops);
            if search.run(&mut m, &mut meter) != Some(Verdict::NotLinearizable) {
                return Ok(());
            }
            let reached = search.reached().expect("a refuted search met a completion");
            let events = events(&ops);
            prop_assert!(events[reached].is_return);
            let mut call_at = vec![0; ops.len()];
            let mut return_at = vec![usize::MAX; ops.len()];
            for (e, event) in events.iter().enumerate() {
                if event.is_return {
                    return_at[event.op as usize] = e;
                } else {
                    call_at[event.op as usize] = e;
                }
            }
            let prefix: Vec<HistoryOp<EtcdOp>> = (0..ops.len())
                .filter(|&i| call_at[i] < reached)
                .map(|i| {
                    let mut op = ops[i].clone();
                    if return_at[i] >= reached {
                        op.complete = None;
                    }
                    op
                })
                .collect();
            let mut meter = Meter::new(Budget::Steps(1_000_000));
            let verdict = Search::new(&m, &prefix).run(&mut m, &mut meter);
            prop_assert_eq!(verdict, Some(Verdict::Linearizable));
        }

        /// Breaking symmetry between alike operations never changes a verdict: random small
        /// registers with values repeated on purpose, open writes and compare-and-sets, and
        /// some operations optional as the witness minimizer makes them.
        #[test]
        fn step_classes_never_change_a_verdict(
            raw in prop::collection::vec(arbitrary_etcd_op(), 1..11),
            optional_mask in any::<u16>(),
        ) {
            let mut m = EtcdModel::default();
            let ops = etcd_history(&mut m, &raw);
            let optional: Vec<bool> = ops
                .iter()
                .enumerate()
                .map(|(i, o)| o.complete.is_none() || optional_mask & 1 << i != 0)
                .collect();
            let mut meter = Meter::new(Budget::Steps(1_000_000));
            let classed = Search::with_optional(&m, &ops, optional.clone()).run(&mut m, &mut meter);
            let mut plain = Unclassed(m);
            let mut meter = Meter::new(Budget::Steps(1_000_000));
            let unclassed = Search::with_optional(&plain, &ops, optional).run(&mut plain, &mut meter);
            prop_assert_eq!(classed, unclassed);
        }
    }

    #[test]
    fn a_step_budget_gives_unknown() {
        let mut m = EtcdModel::default();
        let one = m.value(Some(1));
        let ops = [
            op(1, Some(4), EtcdOp::Write(one)),
            op(2, Some(3), EtcdOp::Read(one)),
        ];
        let mut meter = Meter::new(Budget::Steps(1));
        assert_eq!(Search::new(&m, &ops).run(&mut m, &mut meter), None);
    }
}
