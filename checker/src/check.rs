//! Checking a whole history: every key on its own (P-compositionality), within one budget, and
//! a witness on the first key found not linearizable.

use crate::budget::{Budget, Meter};
use crate::history::Partition;
use crate::model::{Explain, Model};
use crate::search::{Search, Verdict};
use crate::witness::{minimize, Witness};

/// The verdict on a whole history, with its evidence.
#[derive(Debug, Clone)]
pub struct Report<O, S> {
    /// Not linearizable if any key is not; else unknown if any key ran out of budget.
    pub verdict: Verdict,
    /// Operations checked (those that carry information).
    pub ops: usize,
    /// Keys checked.
    pub keys: usize,
    /// The key found not linearizable and its witness.
    pub counterexample: Option<Counterexample<O, S>>,
    /// Keys whose search ran out of budget, in key order.
    pub unknown_keys: Vec<String>,
}

/// A key that is not linearizable, with a witness.
#[derive(Debug, Clone)]
pub struct Counterexample<O, S> {
    /// The key.
    pub key: String,
    /// Operations on that key in the history.
    pub key_ops: usize,
    /// A 1-minimal non-linearizable sub-history of that key.
    pub witness: Witness<O, S>,
}

/// The outcome of the per-key searches.
struct Searched {
    verdict: Verdict,
    /// The key found not linearizable, and how far its search got ([`Search::reached`]).
    violated: Option<(usize, Option<usize>)>,
    unknown: Vec<usize>,
}

/// Steps a key's search runs before the next key takes its turn: long enough that switching
/// costs nothing, short enough that a key that refutes quickly is not kept waiting.
const TURN_STEPS: u64 = 1 << 12;

/// Searches every key in turns of [`TURN_STEPS`] (smallest keys first in each round), so one
/// key's blow-up leaves the others their share of the budget, as if they ran in parallel;
/// stops at the first key found not linearizable. A key's search is set up at its first turn,
/// so the keys after the one that fails cost nothing.
fn search_partitions<M: Model>(
    model: &mut M,
    partitions: &[Partition<M::Op>],
    meter: &mut Meter,
) -> Searched {
    let mut order: Vec<usize> = (0..partitions.len()).collect();
    order.sort_by_key(|&p| (partitions[p].ops.len(), p));
    let mut running: Vec<(usize, Option<Search<'_, M>>)> =
        order.into_iter().map(|p| (p, None)).collect();
    while !running.is_empty() && !meter.exhausted() {
        let mut i = 0;
        while i < running.len() {
            let mut slice = meter.slice(TURN_STEPS);
            let (p, search) = &mut running[i];
            let search = search.get_or_insert_with(|| Search::new(model, &partitions[*p].ops));
            let verdict = search.run(model, &mut slice);
            meter.charge(&slice);
            match verdict {
                Some(Verdict::NotLinearizable) => {
                    return Searched {
                        verdict: Verdict::NotLinearizable,
                        violated: Some((*p, search.reached())),
                        unknown: Vec::new(),
                    }
                }
                Some(_) => {
                    running.remove(i);
                }
                None => i += 1,
            }
        }
    }
    let mut unknown: Vec<usize> = running.iter().map(|(p, _)| *p).collect();
    unknown.sort_unstable();
    Searched {
        verdict: if unknown.is_empty() {
            Verdict::Linearizable
        } else {
            Verdict::Unknown
        },
        violated: None,
        unknown,
    }
}

/// The verdict alone, without a witness: what the fuzzer's hot path and the benchmarks need.
pub fn verdict<M: Model>(
    model: &mut M,
    partitions: &[Partition<M::Op>],
    budget: Budget,
) -> Verdict {
    search_partitions(model, partitions, &mut Meter::new(budget)).verdict
}

/// The verdict with its evidence. The witness is minimized with what is left of the budget.
pub fn check<M: Explain>(
    model: &mut M,
    partitions: &[Partition<M::Op>],
    budget: Budget,
) -> Report<M::Op, M::State> {
    let mut meter = Meter::new(budget);
    let searched = search_partitions(model, partitions, &mut meter);
    let counterexample = searched.violated.map(|(p, reached)| {
        let partition = &partitions[p];
        Counterexample {
            key: partition.key.clone(),
            key_ops: partition.ops.len(),
            witness: minimize(model, &partition.ops, reached, &mut meter),
        }
    });
    Report {
        verdict: searched.verdict,
        ops: partitions.iter().map(|p| p.ops.len()).sum(),
        keys: partitions.len(),
        counterexample,
        unknown_keys: searched
            .unknown
            .iter()
            .map(|&p| partitions[p].key.clone())
            .collect(),
    }
}
