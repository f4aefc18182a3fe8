//! Which writes of the history may have taken effect last, per key: what the final state of
//! a key must reflect (shared by `durability` and `stabilization`).

use crate::record::{KvInput, Operation, Outcome, RunRecord};
use std::collections::BTreeMap;

/// Per key with writes (in key order): every `ok` write that no other `ok` write was invoked
/// after in real time, and every write of unknown outcome (it may have taken effect at any
/// time). Rejected writes took no effect.
pub(super) fn last_writes(record: &RunRecord) -> BTreeMap<&str, Vec<&Operation>> {
    let mut writes: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in &record.history {
        let is_write = !matches!(op.input, KvInput::Read { .. });
        if is_write && matches!(op.outcome, Outcome::Ok | Outcome::Unknown) {
            writes.entry(op.input.key()).or_default().push(op);
        }
    }
    for ops in writes.values_mut() {
        let acknowledged: Vec<&Operation> = ops
            .iter()
            .copied()
            .filter(|op| op.outcome == Outcome::Ok && op.complete.is_some())
            .collect();
        ops.retain(|op| {
            op.outcome == Outcome::Unknown
                || !acknowledged
                    .iter()
                    .any(|later| op.complete.is_some_and(|done| later.invoke > done))
        });
    }
    writes
}

/// Whether the key certainly exists after `last`: none of them is a delete, and one was
/// acknowledged.
pub(super) fn certainly_present(last: &[&Operation]) -> bool {
    last.iter().all(|op| op.input.written_value().is_some())
        && last.iter().any(|op| op.outcome == Outcome::Ok)
}
