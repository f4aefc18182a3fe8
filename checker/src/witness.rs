//! The counterexample on one key: a 1-minimal set of operations that cannot be linearized,
//! whatever the key's other operations did.
//!
//! The witness is judged in context: its operations must take effect as recorded, while every
//! other operation of the key becomes optional (it may take effect within its interval, or
//! never). So a witness is never an artifact of leaving something out: if the operations shown
//! conflict in that setting, they conflict in the history, whatever the rest did.
//!
//! Starting from a key whose history is not linearizable:
//! 1. *Cut*: find the shortest prefix (in real-time order) that is already not linearizable.
//!    Operations still running at the cut may or may not have taken effect by then. Prefixes
//!    are monotone (a linearization of a history, cut before the first operation invoked after
//!    the prefix, linearizes the prefix), so the shortest one is found by bisection.
//! 2. *Drop*: try no longer requiring each operation, together with the operations that saw a
//!    value only it could have written ("the reads that saw its value",
//!    [`crate::model::Tokens`]); keep the change if the conflict remains. Repeat until a whole
//!    pass changes nothing: then dropping any one operation of the witness (with its readers)
//!    makes it linearizable: 1-minimal.
//! 3. *Explain*: for each observation in the witness, the states it could have seen: those in
//!    which some linearization of the witness's other operations would have put it; if the
//!    others conflict among themselves without it (they may need the rest of the history to be
//!    consistent), those the witness's writes alone allow. At most [`SHOWN_STATES`] of them:
//!    the enumeration stops at the next one, and the witness says there were more (a string
//!    register with a few concurrent appends has hundreds, which nobody reads and which cost
//!    more than finding the witness).
//!
//! Every check spends from the caller's budget; if it runs out, the witness is what was left,
//! marked as not proven minimal.

use crate::budget::Meter;
use crate::history::{events, HistoryOp};
use crate::model::{Explain, Model, Token, Tokens};
use crate::search::{Search, Verdict};
use rustc_hash::FxHashMap;

/// One operation of a witness.
#[derive(Debug, Clone)]
pub struct WitnessOp<O, S> {
    /// The operation as the history recorded it.
    pub op: HistoryOp<O>,
    /// Its answer came after the point where the conflict is already certain, so the witness
    /// treats it as still running (it may or may not have taken effect by then).
    pub answered_later: bool,
    /// For an observation: the states it could have seen given the witness's other operations
    /// (or, if those conflict without it, given its writes alone); `None` for other operations,
    /// or when the witness is too large to enumerate. At most [`SHOWN_STATES`], in the order
    /// a depth-first enumeration meets them.
    pub could_see: Option<Vec<S>>,
    /// It could have seen other states than those in `could_see` as well.
    pub could_see_more: bool,
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

/// Most states an observation's "could have seen" lists.
pub const SHOWN_STATES: usize = 4;

/// Configurations the "could have seen" enumeration may visit per observation.
const EXPLAIN_LIMIT_CONFIGS: usize = 200_000;

/// A candidate witness: which operations are required, and where the history is cut.
#[derive(Clone)]
struct Candidate {
    /// Required operations; the others inside the cut are optional.
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
    /// Per token: the operations that produce it, so that asking whether a value is still
    /// written looks at its writers only, not at every operation (which made dropping a
    /// quadratic walk per candidate).
    producers: FxHashMap<Token, Vec<usize>>,
    /// Per operation: whether it is an observation.
    observes: Vec<bool>,
    meter: &'a mut Meter,
    /// Some check ran out of budget.
    exhausted: bool,
    /// Candidates found linearizable: their cut and required operations (a bit set).
    linearizable: Vec<(usize, Vec<u64>)>,
}

impl<M: Explain> Minimizer<'_, M> {
    /// The operations inside the cut, each with whether it is optional: operations not kept,
    /// and operations still running at the cut (those become open). Optional observations are
    /// left out: they can neither block nor change anything.
    fn history(&self, c: &Candidate) -> (Vec<HistoryOp<M::Op>>, Vec<bool>) {
        (0..self.ops.len())
            .filter(|&i| self.call_at[i] <= c.cut && (c.keep[i] || !self.observes[i]))
            .map(|i| {
                let mut op = self.ops[i].clone();
                if self.return_at[i].is_some_and(|r| r > c.cut) {
                    op.complete = None;
                }
                let optional = !c.keep[i] || op.complete.is_none();
                (op, optional)
            })
            .unzip()
    }

    /// The operations `c` requires, as a bit set.
    fn required(&self, c: &Candidate) -> Vec<u64> {
        let mut bits = vec![0u64; self.ops.len().div_ceil(64)];
        for i in (0..self.ops.len()).filter(|&i| self.inside(c, i)) {
            bits[i / 64] |= 1 << (i % 64);
        }
        bits
    }

    /// Whether the candidate certainly cannot be linearized.
    ///
    /// A candidate cut no later than one found linearizable, requiring no operation that one
    /// did not, is linearizable too (cut the linearization before the first operation invoked
    /// after the shorter cut, leave out the observations no longer required), so its search is
    /// skipped: the answer is the one it would give. Shortening the cut after every pass, and
    /// trying chunks that hold operations once found needed, would repeat such searches.
    fn violates(&mut self, c: &Candidate) -> bool {
        let required = self.required(c);
        let known = self.linearizable.iter().any(|(cut, bits)| {
            c.cut <= *cut && required.iter().zip(bits).all(|(r, b)| r & !b == 0)
        });
        if known {
            return false;
        }
        let (history, optional) = self.history(c);
        let verdict = Search::with_optional(self.model, &history, optional)
            .run(self.model, self.meter)
            .unwrap_or(Verdict::Unknown);
        match verdict {
            Verdict::NotLinearizable => true,
            Verdict::Linearizable => {
                self.linearizable.push((c.cut, required));
                false
            }
            Verdict::Unknown => {
                self.exhausted = true;
                false
            }
        }
    }

    /// The shortest violating prefix of a violating candidate, by bisection over the cuts at
    /// its required completions.
    fn cut_short(&mut self, c: Candidate) -> Candidate {
        self.cut_short_from(c, 0)
    }

    /// [`Self::cut_short`], given that every prefix ending before event `floor` is known to
    /// be linearizable: from a floor past the first cut it gallops up (1, 2, 4 ... cuts on)
    /// and bisects the stride that crosses over, so that a floor at or just below the answer
    /// costs a search or two instead of a bisection of the whole history (whose first probes
    /// are the longest searches). The answer is the same: prefixes are monotone.
    fn cut_short_from(&mut self, c: Candidate, floor: usize) -> Candidate {
        let cuts: Vec<usize> = (0..=c.cut)
            .filter(|&e| self.returns[e].is_some_and(|op| c.keep[op]))
            .collect();
        // The last completion inside the prefix violates (the events after it add nothing but
        // optional invocations); find the first cut that does.
        let mut hi = cuts.len().saturating_sub(1);
        let mut lo = cuts.partition_point(|&e| e < floor).min(hi);
        let mut stride = 1;
        while lo > 0 && lo < hi {
            let probe = (lo + stride - 1).min(hi);
            if probe == hi || self.violates(&self.at_cut(&c, cuts[probe])) {
                hi = probe;
                break;
            }
            lo = probe + 1;
            stride *= 2;
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.violates(&self.at_cut(&c, cuts[mid])) {
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

    /// `c` cut at event `cut` instead.
    fn at_cut(&self, c: &Candidate, cut: usize) -> Candidate {
        Candidate {
            keep: c.keep.clone(),
            cut,
        }
    }

    /// Whether operation `i` is required and inside the cut.
    fn inside(&self, c: &Candidate, i: usize) -> bool {
        c.keep[i] && self.call_at[i] <= c.cut
    }

    /// `c` no longer requiring the operations `xs`, nor the operations that saw a value only
    /// a dropped one could have written: a value an operation saw can only come from an
    /// operation invoked before it completed.
    fn without(&self, c: &Candidate, xs: &[usize]) -> Candidate {
        let mut keep = c.keep.clone();
        let mut lost: Vec<Token> = Vec::new();
        for &x in xs {
            keep[x] = false;
            lost.extend_from_slice(&self.tokens[x].produced);
        }
        while !lost.is_empty() {
            let mut newly_lost = Vec::new();
            for y in 0..self.ops.len() {
                if !(keep[y] && self.call_at[y] <= c.cut) {
                    continue;
                }
                let seen_before = self.return_at[y].unwrap_or(usize::MAX);
                let still_written = |t: &Token| {
                    self.producers.get(t).is_some_and(|writers| {
                        writers.iter().any(|&j| {
                            j != y
                                && keep[j]
                                && self.call_at[j] <= c.cut
                                && self.call_at[j] < seen_before
                        })
                    })
                };
                if self.tokens[y]
                    .needed
                    .iter()
                    .any(|t| lost.contains(t) && !still_written(t))
                {
                    keep[y] = false;
                    newly_lost.extend_from_slice(&self.tokens[y].produced);
                }
            }
            lost = newly_lost;
        }
        Candidate { keep, cut: c.cut }
    }

    /// Drops operations until no single one can go: first in chunks of halving size (most
    /// operations of a long history have nothing to do with the conflict), then one by one
    /// until a whole pass drops nothing. The cut is shortened again after every pass.
    ///
    /// An operation that could not be dropped alone is not tried again, alone or in a chunk:
    /// candidates only lose requirements as minimizing goes on, and a candidate that requires
    /// less than one found linearizable is linearizable too, so the answer is known. Skipping
    /// those searches changes no answer, so the witness is the one trying them would give; it
    /// makes the last pass, the one that proves 1-minimality, cost nothing instead of one
    /// search per operation.
    fn drop_all_it_can(&mut self, mut c: Candidate) -> Candidate {
        let mut necessary = vec![false; self.ops.len()];
        let mut size = (0..self.ops.len()).filter(|&i| self.inside(&c, i)).count() / 2;
        loop {
            let size_now = size.max(1);
            let mut dropped_any = false;
            let mut start = 0;
            loop {
                let required: Vec<usize> = (0..self.ops.len())
                    .filter(|&i| self.inside(&c, i))
                    .collect();
                if start >= required.len() || self.exhausted {
                    break;
                }
                let chunk = &required[start..(start + size_now).min(required.len())];
                if chunk.iter().any(|&i| necessary[i]) {
                    start += size_now;
                    continue;
                }
                let smaller = self.without(&c, chunk);
                if self.violates(&smaller) {
                    c = smaller;
                    dropped_any = true;
                } else {
                    if let [alone] = *chunk {
                        necessary[alone] = true;
                    }
                    start += size_now;
                }
            }
            if dropped_any {
                c = self.cut_short(c);
            }
            if self.exhausted || (size_now == 1 && !dropped_any) {
                return c;
            }
            size /= 2;
        }
    }
}

/// A 1-minimal witness for `ops`, which the caller found not linearizable. `reached` is how
/// far the caller's search got ([`Search::reached`]), if it kept it: the shortest violating
/// prefix is looked for from there on.
pub(crate) fn minimize<M: Explain>(
    model: &mut M,
    ops: &[HistoryOp<M::Op>],
    reached: Option<usize>,
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
    let tokens: Vec<Tokens> = ops.iter().map(|op| model.tokens(&op.op)).collect();
    let mut producers: FxHashMap<Token, Vec<usize>> = FxHashMap::default();
    for (j, op_tokens) in tokens.iter().enumerate() {
        for &token in &op_tokens.produced {
            producers.entry(token).or_default().push(j);
        }
    }
    let observes = ops.iter().map(|op| model.is_observation(&op.op)).collect();
    let mut minimizer = Minimizer {
        model,
        ops,
        call_at,
        return_at,
        returns,
        tokens,
        producers,
        observes,
        meter,
        exhausted: false,
        linearizable: Vec::new(),
    };
    let whole = Candidate {
        keep: vec![true; ops.len()],
        cut: events.len().saturating_sub(1),
    };
    let cut = minimizer.cut_short_from(whole, reached.unwrap_or(0));
    let least = minimizer.drop_all_it_can(cut);
    let minimal = !minimizer.exhausted;
    let chosen: Vec<usize> = (0..ops.len())
        .filter(|&i| least.keep[i] && minimizer.call_at[i] <= least.cut)
        .collect();
    // The witness alone, as it is explained: operations cut short are open.
    let history: Vec<HistoryOp<M::Op>> = chosen
        .iter()
        .map(|&i| {
            let mut op = ops[i].clone();
            if minimizer.return_at[i].is_some_and(|r| r > least.cut) {
                op.complete = None;
            }
            op
        })
        .collect();
    let mut witness_ops: Vec<WitnessOp<M::Op, M::State>> = chosen
        .iter()
        .zip(&history)
        .map(|(&i, op)| WitnessOp {
            op: ops[i].clone(),
            answered_later: ops[i].complete.is_some() && op.complete.is_none(),
            could_see: None,
            could_see_more: false,
        })
        .collect();
    if history.len() <= MAX_EXPLAINED_OPS {
        for (i, witness_op) in witness_ops.iter_mut().enumerate() {
            if minimizer.model.is_observation(&history[i].op) {
                let found = match possible_states(minimizer.model, &history, i, Others::All) {
                    Some(states) if states.is_empty() => {
                        possible_states(minimizer.model, &history, i, Others::Writes)
                    }
                    states => states,
                };
                if let Some(mut states) = found {
                    witness_op.could_see_more = states.len() > SHOWN_STATES;
                    states.truncate(SHOWN_STATES);
                    witness_op.could_see = Some(states);
                }
            }
        }
    }
    witness_ops.sort_by_key(|w| (w.op.invoke, w.op.id));
    Witness {
        ops: witness_ops,
        minimal,
    }
}

/// Which of the witness's other operations explain an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Others {
    All,
    /// Only those that may change the state.
    Writes,
}

/// The states in which `probe` (an observation) could be linearized in some linearization of
/// the `others` of `ops`, ignoring what it actually saw, up to one more than [`SHOWN_STATES`];
/// `None` if there are too many configurations to visit. An exhaustive enumeration, unlike the search, because it must find
/// every placement.
fn possible_states<M: Model>(
    model: &mut M,
    ops: &[HistoryOp<M::Op>],
    probe: usize,
    others: Others,
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
    let writes = (0..ops.len())
        .filter(|&i| i == probe || others == Others::All || !model.is_observation(&ops[i].op));
    let definite = writes
        .clone()
        .filter(|&i| ops[i].complete.is_some())
        .fold(0u64, |set, i| set | 1 << i);
    let considered = writes.fold(0u64, |set, i| set | 1 << i);
    let mut explorer = Explorer {
        model,
        ops,
        probe,
        before,
        definite,
        considered,
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
    /// The operations taking part: the probe and the others considered.
    considered: u64,
    memo: FxHashMap<(u64, M::State), bool>,
    /// States the probe was placed in, in discovery order (deterministic: depth-first by index).
    seen: Vec<M::State>,
}

impl<M: Model> Explorer<'_, M> {
    /// Whether the configuration extends to a full linearization; `None` past the limit.
    /// Once one state more than can be shown is found, the answers no longer matter: every
    /// call returns at once.
    fn explore(&mut self, set: u64, state: M::State) -> Option<bool> {
        if self.seen.len() > SHOWN_STATES {
            return Some(false);
        }
        if let Some(&done) = self.memo.get(&(set, state)) {
            return Some(done);
        }
        if self.memo.len() >= EXPLAIN_LIMIT_CONFIGS {
            return None;
        }
        let mut extends = set & self.definite == self.definite;
        for next in 0..self.ops.len() {
            let bit = 1u64 << next;
            if self.considered & bit == 0
                || set & bit != 0
                || self.before[next] & self.definite & !set != 0
            {
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
