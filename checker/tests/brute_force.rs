//! The search agrees with a brute-force checker on thousands of small random key-value
//! histories with `ok`, `rejected` and `unknown` operations on one or two keys, and every
//! witness it gives is a real conflict and 1-minimal by the brute force's own reckoning.
//!
//! The brute force shares nothing with the checker but the record types: it tries every order
//! of every set of operations that contains the required ones, with the store's rules written
//! out again, over all keys at once (so it also checks that splitting by key is sound).

use checker::check::{check, verdict};
use checker::models::kv::KvModel;
use checker::record::{KvInput, Operation, Outcome, Reason, Stamp};
use checker::{Budget, Verdict};
use proptest::prelude::*;
use std::collections::BTreeMap;

type Store = BTreeMap<String, String>;

/// Applies `op` to `store` if the store's rules allow it with the outcome recorded; returns
/// whether they did.
fn apply(store: &mut Store, op: &Operation) -> bool {
    let key = op.input.key().to_string();
    let present = store.get(&key).cloned();
    match (op.outcome, &op.input) {
        (Outcome::Ok, KvInput::Create { value, .. }) => {
            present.is_none() && store.insert(key, value.clone()).is_none()
        }
        (Outcome::Ok, KvInput::Update { value, .. }) => {
            present.is_some() && store.insert(key, value.clone()).is_some()
        }
        (Outcome::Ok, KvInput::Delete { .. }) => store.remove(&key).is_some(),
        (Outcome::Ok, KvInput::Read { .. }) => present == op.output,
        (Outcome::Rejected, _) => match op.reason {
            Reason::Exists => present.is_some() && (op.output.is_none() || present == op.output),
            Reason::NotFound => present.is_none(),
            _ => true,
        },
        (Outcome::Unknown, KvInput::Create { value, .. }) => {
            if present.is_none() {
                store.insert(key, value.clone());
            }
            true
        }
        (Outcome::Unknown, KvInput::Update { value, .. }) => {
            if present.is_some() {
                store.insert(key, value.clone());
            }
            true
        }
        (Outcome::Unknown, KvInput::Delete { .. }) => {
            store.remove(&key);
            true
        }
        (Outcome::Unknown, KvInput::Read { .. }) => true,
    }
}

/// Whether `a` must take effect before `b` if both do: `a` has a definite outcome and
/// completed strictly before `b` was invoked (intervals are closed; unknown operations stay open
/// to the end).
fn precedes(a: &Operation, b: &Operation) -> bool {
    a.outcome != Outcome::Unknown && a.complete.is_some_and(|done| done < b.invoke)
}

/// Tries every order of every set of operations that contains all the `required` ones; the
/// others may take effect (within their intervals) or not at all.
fn brute_force(
    ops: &[Operation],
    required: &[bool],
    placed: &mut Vec<bool>,
    store: &Store,
) -> bool {
    if (0..ops.len()).all(|i| placed[i] || !required[i]) {
        return true;
    }
    for i in 0..ops.len() {
        let ready = !placed[i]
            && (0..ops.len()).all(|j| {
                // Whatever had to come first came first, or will never happen; and nothing
                // placed already had to come after.
                let before_ok = j == i || !precedes(&ops[j], &ops[i]) || placed[j] || !required[j];
                let after_ok = !placed[j] || !precedes(&ops[i], &ops[j]);
                before_ok && after_ok
            });
        if !ready {
            continue;
        }
        let mut next = store.clone();
        if apply(&mut next, &ops[i]) {
            placed[i] = true;
            let found = brute_force(ops, required, placed, &next);
            placed[i] = false;
            if found {
                return true;
            }
        }
    }
    false
}

/// Whether the history is linearizable: its definite operations must take effect.
fn linearizable(ops: &[Operation]) -> bool {
    let required: Vec<bool> = ops
        .iter()
        .map(|op| op.outcome != Outcome::Unknown)
        .collect();
    brute_force(ops, &required, &mut vec![false; ops.len()], &Store::new())
}

/// What an operation's answer shows it saw: a value, or that the key had been created.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Value(String),
    Created,
}

fn saw(op: &Operation) -> Option<Seen> {
    match (op.outcome, &op.input, op.reason) {
        (Outcome::Ok, KvInput::Read { .. }, _) => op.output.clone().map(Seen::Value),
        (Outcome::Ok, KvInput::Update { .. } | KvInput::Delete { .. }, _) => Some(Seen::Created),
        (Outcome::Rejected, _, Reason::Exists) => {
            Some(op.output.clone().map_or(Seen::Created, Seen::Value))
        }
        _ => None,
    }
}

fn wrote(op: &Operation) -> Vec<Seen> {
    let effect = matches!(op.outcome, Outcome::Ok | Outcome::Unknown);
    match &op.input {
        KvInput::Create { value, .. } if effect => vec![Seen::Value(value.clone()), Seen::Created],
        KvInput::Update { value, .. } if effect => vec![Seen::Value(value.clone())],
        _ => Vec::new(),
    }
}

/// `witness` without operation `x` and the operations that saw what only dropped ones wrote
/// (among those invoked before they completed).
fn without(witness: &[&Operation], x: usize) -> Vec<bool> {
    let mut dropped = vec![false; witness.len()];
    dropped[x] = true;
    loop {
        let mut changed = false;
        for y in 0..witness.len() {
            let Some(need) = saw(witness[y]).filter(|_| !dropped[y]) else {
                continue;
            };
            let seen_by = witness[y].complete;
            let writes = |z: usize| {
                z != y
                    && match seen_by {
                        Some(done) => witness[z].invoke <= done,
                        None => true,
                    }
                    && wrote(witness[z]).contains(&need)
            };
            let lost = (0..witness.len()).any(|z| dropped[z] && writes(z));
            let kept = (0..witness.len()).any(|z| !dropped[z] && writes(z));
            if lost && !kept {
                dropped[y] = true;
                changed = true;
            }
        }
        if !changed {
            return dropped;
        }
    }
}

fn stamp(tick: u64, seq: u64) -> Stamp {
    Stamp { tick, seq }
}

prop_compose! {
    fn arbitrary_op(id: u64)(
        key in prop::sample::select(vec!["a", "b"]),
        kind in 0u8..4,
        value in prop::sample::select(vec!["v1", "v2", "v3"]),
        invoke in (0u64..12, 0u64..3),
        length in (0u64..6, 0u64..3),
        outcome in prop::sample::select(vec![
            Outcome::Ok, Outcome::Ok, Outcome::Rejected, Outcome::Unknown, Outcome::Unknown,
        ]),
        exists in any::<bool>(),
        output in prop::sample::select(vec![None, Some("v1"), Some("v2"), Some("v3")]),
        answered in any::<bool>(),
    ) -> Operation {
        let key = key.to_string();
        let input = match kind {
            0 => KvInput::Create { key, value: value.to_string() },
            1 => KvInput::Update { key, value: value.to_string() },
            2 => KvInput::Delete { key },
            _ => KvInput::Read { key },
        };
        let is_read = matches!(input, KvInput::Read { .. });
        let (reason, output) = match outcome {
            Outcome::Ok => (Reason::Ok, if is_read { output } else { None }),
            Outcome::Rejected if exists => (Reason::Exists, output),
            Outcome::Rejected => (Reason::NotFound, None),
            Outcome::Unknown => (Reason::Timeout, None),
        };
        let invoke = stamp(invoke.0, invoke.1);
        let complete = stamp(invoke.tick + length.0, invoke.seq + length.1);
        Operation {
            id,
            client: id,
            coordinator: 1,
            input,
            invoke,
            // An unknown operation may or may not have been answered; a definite one was.
            complete: (outcome != Outcome::Unknown || answered).then_some(complete),
            outcome,
            reason,
            output: output.map(str::to_string),
            acks: Vec::new(),
        }
    }
}

fn arbitrary_history() -> impl Strategy<Value = Vec<Operation>> {
    (1usize..=7).prop_flat_map(|n| (0..n as u64).map(arbitrary_op).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn the_search_agrees_with_trying_every_order(ops in arbitrary_history()) {
        let expected = linearizable(&ops);
        let (mut model, partitions) = KvModel::partitions(&ops);
        let got = verdict(&mut model, &partitions, Budget::Steps(1_000_000));
        let want = if expected { Verdict::Linearizable } else { Verdict::NotLinearizable };
        prop_assert_eq!(got, want, "history: {:#?}", ops);
    }

    /// A witness cannot be linearized whatever the other operations did (they may take effect
    /// within their intervals, or not), and dropping any one of its operations, with the ones
    /// that saw what only it wrote, lets the rest be linearized.
    #[test]
    fn witnesses_are_real_conflicts_and_1_minimal(ops in arbitrary_history()) {
        let (mut model, partitions) = KvModel::partitions(&ops);
        let report = check(&mut model, &partitions, Budget::Steps(1_000_000));
        let Some(found) = report.counterexample else {
            return Ok(());
        };
        prop_assert!(found.witness.minimal);
        let index = |id: u64| ops.iter().position(|op| op.id == id).unwrap();
        let members: Vec<usize> = found.witness.ops.iter().map(|w| index(w.op.id)).collect();
        // Operations answered after the conflict may or may not have taken effect by then.
        let binding: Vec<bool> = found.witness.ops.iter().map(|w| !w.answered_later).collect();
        let required_without = |dropped: &[bool]| {
            let mut required = vec![false; ops.len()];
            for (k, &i) in members.iter().enumerate() {
                required[i] = binding[k] && !dropped[k];
            }
            required
        };
        let fits = |required: &[bool]| {
            brute_force(&ops, required, &mut vec![false; ops.len()], &Store::new())
        };
        prop_assert!(!fits(&required_without(&vec![false; members.len()])), "{:#?}", found.witness);
        let witness_ops: Vec<&Operation> = members.iter().map(|&i| &ops[i]).collect();
        for x in 0..members.len() {
            let dropped = without(&witness_ops, x);
            prop_assert!(fits(&required_without(&dropped)), "dropping {} of {:#?}", x, found.witness);
        }
    }
}

#[test]
fn the_generator_makes_both_verdicts_common() {
    // Guard against a generator that makes one verdict so rare the agreement means little.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut yes, mut no) = (0, 0);
    for _ in 0..2000 {
        let ops = arbitrary_history().new_tree(&mut runner).unwrap().current();
        if linearizable(&ops) {
            yes += 1;
        } else {
            no += 1;
        }
    }
    assert!(yes > 400 && no > 400, "linearizable {yes}, not {no}");
}
