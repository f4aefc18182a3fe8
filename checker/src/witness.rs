//! The counterexample on one key: a 1-minimal non-linearizable sub-history.
//!
//! Starting from a key whose history is not linearizable:
//! 1. *Cut*: find the shortest prefix (in real-time order) that is already not linearizable.
//!    Operations still running at the cut are kept open (they may or may not have taken effect
//!    by then). Prefixes are monotone, since a linearization of a history, cut before the first
//!    operation invoked after the prefix, linearizes the prefix; so the shortest one is found
//!    by bisection.
//! 2. *Drop*: try removing each operation, together with the operations that saw a value only
//!    it wrote ("the reads that saw its value", [`crate::model::Tokens`]); keep the removal if
//!    what is left is still not linearizable. Repeat until a whole pass removes nothing: then
//!    removing any one operation (with its readers) makes the rest linearizable: 1-minimal.
//! 3. *Explain*: for each observation in the witness, the states it could have seen: those in
//!    which some linearization of the other operations would have put it.
//!
//! Every check spends from the caller's budget; if it runs out, the witness is what was left,
//! marked as not proven minimal.

use crate::budget::Meter;
use crate::history::{events, HistoryOp};
use crate::model::{Explain, Model, Token, Tokens};
use crate::search::{search, Verdict};
use rustc_hash::FxHashMap;

/// One operation of a witness.
#[derive(Debug, Clone)]
pub struct WitnessOp<O, S> {
    /// The operation as the history recorded it.
    pub op: HistoryOp<O>,
    /// Its answer came after the point where the conflict is already certain, so the witness
    /// treats it as still running (it may or may not have taken effect by then).
    pub answered_later: bool,
    /// For an observation: the states it could have seen given the other operations (empty:
    /// none); `None` for other operations, or when the witness is too large to enumerate.
    pub could_see: Option<Vec<S>>,
}

/// A non-linearizable sub-history of one key.
#[derive(Debug, Clone)]
pub struct Witness<O, S> {
    /// The operations, in invocation order.
    pub ops: Vec<WitnessOp<O, S>>,
    /// Whether removing any one operation (with the reads of its value) was shown to make the
    /// rest linearizable; `false` only when the budget ran out first.
    pub minimal: bool,
}

/// Largest witness whose observations get their "could have seen" states enumerated: the
/// enumeration keeps one 64-bit set per configuration.
const MAX_EXPLAINED_OPS: usize = 64;

/// Configurations the "could have seen" enumeration may visit per observation.
const EXPLAIN_LIMIT_CONFIGS: usize = 200_000;

/// A candidate sub-history: which operations are in, and where the history is cut.
#[derive(Clone)]
struct Candidate {
    keep: Vec<bool>,
    /// Index into the event list of the last event inside the prefix.
    cut: usize,
}

struct Minimizer<'a, M: Model> {
    model: &'a mut M,
    ops: &'a [HistoryOp<M::Op>],
    /// Per operation: index of its invocation and completion in the event list.
    call_at: Vec<usize>,
    return_at: Vec<Option<usize>>,
    /// Per event index: the completion's operation, if the event is a completion.
    returns: Vec<Option<usize>>,
    tokens: Vec<Tokens>,
    meter: &'a mut Meter,
    /// Some check ran out of budget.
    exhausted: bool,
}

impl<M: Explain> Minimizer<'_, M> {
    /// The candidate as a history: operations cut short become open.
    fn history(&self, c: &Candidate) -> Vec<HistoryOp<M::Op>> {
        (0..self.ops.len())
            .filter(|&i| c.keep[i] && self.call_at[i] <= c.cut)
            .map(|i| {
                let mut op = self.ops[i].clone();
                if self.return_at[i].is_some_and(|r| r > c.cut) {
                    op.complete = None;
                }
                op
            })
            .collect()
    }

    /// Whether the candidate is certainly not linearizable.
    fn violates(&mut self, c: &Candidate) -> bool {
        let history = self.history(c);
        match search(self.model, &history, self.meter) {
            Verdict::NotLinearizable => true,
            Verdict::Linearizable => false,
            Verdict::Unknown => {
                self.exhausted = true;
                false
            }
        }
    }

    /// The shortest violating prefix of a violating candidate.
    fn cut_short(&mut self, c: Candidate) -> Candidate {
        let cuts: Vec<usize> = (0..=c.cut)
            .filter(|&e| self.returns[e].is_some_and(|op| c.keep[op]))
            .collect();
        // The last completion inside the prefix violates (the events after it add nothing but
        // optional invocations); find the first cut that does.
        let (mut lo, mut hi) = (0, cuts.len().saturating_sub(1));
        while lo < hi {
            let mid = (lo + hi) / 2;
            let probe = Candidate {
                keep: c.keep.clone(),
                cut: cuts[mid],
            };
            if self.violates(&probe) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Candidate {
            cut: cuts.get(lo).copied().unwrap_or(c.cut),
            keep: c.keep,
        }
    }

    /// `c` without operation `x` and without the operations that saw a value only it (or
    /// another dropped operation) wrote.
    fn without(&self, c: &Candidate, x: usize) -> Candidate {
        let inside = |i: usize| c.keep[i] && self.call_at[i] <= c.cut;
        let mut keep = c.keep.clone();
        keep[x] = false;
        let mut lost: Vec<Token> = self.tokens[x].produced.clone();
        while !lost.is_empty() {
            let produced_by_others = |t: Token, me: usize, keep: &[bool]| {
                (0..self.ops.len()).any(|j| {
                    j != me && keep[j] && inside(j) && self.tokens[j].produced.contains(&t)
                })
            };
            let mut newly_lost = Vec::new();
            for y in 0..self.ops.len() {
                if keep[y]
                    && inside(y)
                    && self.tokens[y]
                        .needed
                        .iter()
                        .any(|t| lost.contains(t) && !produced_by_others(*t, y, &keep))
                {
                    keep[y] = false;
                    newly_lost.extend_from_slice(&self.tokens[y].produced);
                }
            }
            lost = newly_lost;
        }
        Candidate { keep, cut: c.cut }
    }

    /// Drops operations until no single one can go.
    fn drop_all_it_can(&mut self, mut c: Candidate) -> Candidate {
        loop {
            let mut dropped_any = false;
            for x in 0..self.ops.len() {
                if !(c.keep[x] && self.call_at[x] <= c.cut) {
                    continue;
                }
                let smaller = self.without(&c, x);
                if self.violates(&smaller) {
                    c = self.cut_short(smaller);
                    dropped_any = true;
                }
            }
            if !dropped_any || self.exhausted {
                return c;
            }
        }
    }
}

/// A 1-minimal witness for `ops`, which the caller found not linearizable.
pub(crate) fn minimize<M: Explain>(
    model: &mut M,
    ops: &[HistoryOp<M::Op>],
    meter: &mut Meter,
) -> Witness<M::Op, M::State> {
    let events = events(ops);
    let mut call_at = vec![0; ops.len()];
    let mut return_at = vec![None; ops.len()];
    let mut returns = vec![None; events.len()];
    for (e, event) in events.iter().enumerate() {
        if event.is_return {
            return_at[event.op as usize] = Some(e);
            returns[e] = Some(event.op as usize);
        } else {
            call_at[event.op as usize] = e;
        }
    }
    let tokens = ops.iter().map(|op| model.tokens(&op.op)).collect();
    let mut minimizer = Minimizer {
        model,
        ops,
        call_at,
        return_at,
        returns,
        tokens,
        meter,
        exhausted: false,
    };
    let whole = Candidate {
        keep: vec![true; ops.len()],
        cut: events.len().saturating_sub(1),
    };
    let cut = minimizer.cut_short(whole);
    let least = minimizer.drop_all_it_can(cut);
    let minimal = !minimizer.exhausted;
    let history = minimizer.history(&least);
    let mut witness_ops: Vec<WitnessOp<M::Op, M::State>> = (0..ops.len())
        .filter(|&i| least.keep[i] && minimizer.call_at[i] <= least.cut)
        .zip(&history)
        .map(|(i, op)| WitnessOp {
            op: ops[i].clone(),
            answered_later: ops[i].complete.is_some() && op.complete.is_none(),
            could_see: None,
        })
        .collect();
    if history.len() <= MAX_EXPLAINED_OPS {
        for (i, witness_op) in witness_ops.iter_mut().enumerate() {
            if minimizer.model.is_observation(&history[i].op) {
                witness_op.could_see = possible_states(minimizer.model, &history, i);
            }
        }
    }
    witness_ops.sort_by_key(|w| (w.op.invoke, w.op.id));
    Witness {
        ops: witness_ops,
        minimal,
    }
}

/// The states in which `probe` (an observation) could be linearized in some linearization of
/// `ops`, ignoring what it actually saw; `None` if there are too many configurations to visit.
/// An exhaustive enumeration, unlike the search, because it must find every placement.
fn possible_states<M: Model>(
    model: &mut M,
    ops: &[HistoryOp<M::Op>],
    probe: usize,
) -> Option<Vec<M::State>> {
    let events = events(ops);
    let mut before = vec![0u64; ops.len()];
    let mut completed = 0u64;
    for event in &events {
        if event.is_return {
            completed |= 1 << event.op;
        } else {
            before[event.op as usize] = completed;
        }
    }
    let definite = (0..ops.len())
        .filter(|&i| ops[i].complete.is_some())
        .fold(0u64, |set, i| set | 1 << i);
    let mut explorer = Explorer {
        model,
        ops,
        probe,
        before,
        definite,
        memo: FxHashMap::default(),
        seen: Vec::new(),
    };
    let init = explorer.model.init();
    explorer.explore(0, init)?;
    Some(explorer.seen)
}

struct Explorer<'a, M: Model> {
    model: &'a mut M,
    ops: &'a [HistoryOp<M::Op>],
    probe: usize,
    /// Per operation: the set of operations that completed before it was invoked.
    before: Vec<u64>,
    definite: u64,
    memo: FxHashMap<(u64, M::State), bool>,
    /// States the probe was placed in, in discovery order (deterministic: depth-first by index).
    seen: Vec<M::State>,
}

impl<M: Model> Explorer<'_, M> {
    /// Whether the configuration extends to a full linearization; `None` past the limit.
    fn explore(&mut self, set: u64, state: M::State) -> Option<bool> {
        if let Some(&done) = self.memo.get(&(set, state)) {
            return Some(done);
        }
        if self.memo.len() >= EXPLAIN_LIMIT_CONFIGS {
            return None;
        }
        let mut extends = set & self.definite == self.definite;
        for next in 0..self.ops.len() {
            let bit = 1u64 << next;
            if set & bit != 0 || self.before[next] & self.definite & !set != 0 {
                continue;
            }
            if next == self.probe {
                if self.explore(set | bit, state)? {
                    extends = true;
                    if !self.seen.contains(&state) {
                        self.seen.push(state);
                    }
                }
            } else if let Some(after) = self.model.step(state, &self.ops[next].op) {
                extends |= self.explore(set | bit, after)?;
            }
        }
        self.memo.insert((set, state), extends);
        Some(extends)
    }
}
