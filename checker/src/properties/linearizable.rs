//! `linearizable`: the client history is linearizable for the store's key-value model. A
//! violation carries the witness timeline; a budget that runs out leaves the check undecided.
//!
//! The signature names the kinds and outcomes of the witness's operations (sorted), so one
//! anomaly shape found in different seeds, on different keys, deduplicates.

use super::{Class, Property, PropertyReport, Violation};
use crate::budget::Budget;
use crate::check::check;
use crate::model::Explain;
use crate::models::kv::KvModel;
use crate::record::RunRecord;
use crate::render::timeline;
use crate::search::Verdict;

pub(super) fn check_history(record: &RunRecord, budget: Budget) -> PropertyReport {
    let (mut model, partitions) = KvModel::partitions(&record.history);
    let report = check(&mut model, &partitions, budget);
    let mut result = PropertyReport {
        property: Property::Linearizable,
        violations: Vec::new(),
        undecided: None,
    };
    match report.verdict {
        Verdict::Linearizable => {}
        Verdict::Unknown => {
            result.undecided = Some(format!(
                "the search budget ran out on keys {:?}",
                report.unknown_keys
            ));
        }
        Verdict::NotLinearizable => {
            if let Some(found) = &report.counterexample {
                let mut shape: Vec<String> = found
                    .witness
                    .ops
                    .iter()
                    .map(|w| {
                        let outcome = model.outcome(&w.op.op);
                        let class = outcome.split([',', ':']).next().unwrap_or("");
                        format!("{} {class}", model.kind(&w.op.op))
                    })
                    .collect();
                shape.sort();
                let ids: Vec<u64> = found.witness.ops.iter().map(|w| w.op.id).collect();
                let listed: Vec<String> = ids.iter().map(u64::to_string).collect();
                let message = format!(
                    "key {:?}: operations {} cannot be linearized",
                    found.key,
                    listed.join(", ")
                );
                let mut violation = Violation::new(Class::NoOrder(shape), message)
                    .on_key(&found.key)
                    .with_ops(ids);
                violation.evidence =
                    timeline(&model, &found.key, found.key_ops, &found.witness, "tick");
                result.violations.push(violation);
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{check_record, CheckOptions, Property, PropertyReport};
    use crate::record::RunRecord;
    use crate::Budget;

    fn report(record: &RunRecord, budget: Budget) -> PropertyReport {
        check_record(record, &[Property::Linearizable], CheckOptions::new(budget)).remove(0)
    }

    #[test]
    fn a_history_the_store_could_have_produced_holds() {
        assert!(report(&fixture::healthy(), Budget::Steps(10_000)).holds());
    }

    #[test]
    fn a_stale_read_is_caught_with_a_witness() {
        // The bug: the coordinator answers a read from the first replica that replies, which
        // missed the update.
        let mut record = fixture::healthy();
        record.history[7].output = Some("v1".into());
        let found = report(&record, Budget::Steps(10_000));
        assert_eq!(found.violations.len(), 1, "{found:?}");
        let violation = &found.violations[0];
        assert_eq!(
            violation.signature(),
            "linearizable: no order of create ok, read ok, update ok"
        );
        assert_eq!(
            violation.message,
            "key \"k1\": operations 1, 4, 8 cannot be linearized"
        );
        assert_eq!(violation.key.as_deref(), Some("k1"));
        assert_eq!(violation.ops, [1, 4, 8], "the witness, as data");
        assert!(
            violation.evidence.contains("saw v1; could have seen v2"),
            "{}",
            violation.evidence
        );
    }

    #[test]
    fn a_step_budget_too_small_leaves_it_undecided() {
        let found = report(&fixture::healthy(), Budget::Steps(1));
        assert!(found.violations.is_empty());
        assert!(found.undecided.is_some());
        assert!(!found.holds());
    }
}
