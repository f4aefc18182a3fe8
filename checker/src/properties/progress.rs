//! `progress`: the run converged (views equal, handovers done) before its tick cap.

use super::{Class, Violation};
use crate::record::RunRecord;

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    match record.converged_at {
        Some(tick) if tick <= record.tick_cap => Vec::new(),
        converged => vec![Violation::new(
            Class::NotConverged,
            match converged {
                Some(tick) => format!(
                    "the run converged only at tick {tick}, after its cap of {}",
                    record.tick_cap
                ),
                None => format!(
                    "views and handovers had not settled by the tick cap {} (quiet phase from \
                     tick {})",
                    record.tick_cap, record.quiet_from
                ),
            },
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{Property, Violation};
    use crate::record::RunRecord;

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::Progress)
    }

    #[test]
    fn a_converged_run_holds() {
        assert!(violations(&fixture::healthy()).is_empty());
    }

    #[test]
    fn a_run_that_never_settles_is_caught() {
        // The bug: two nodes keep suspecting each other and re-adding each other forever.
        let mut record = fixture::healthy();
        record.converged_at = None;
        let found = violations(&record);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].signature(),
            "progress: not converged by the tick cap"
        );
        record.converged_at = Some(record.tick_cap + 1);
        assert_eq!(violations(&record).len(), 1);
    }
}
