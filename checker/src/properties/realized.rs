//! `faults-realized`: the harness did not go blind. When the fault phase's link model asks for a
//! random message fault (loss, duplication, delay spread, long tails) and the run drew it so
//! often that never realizing it is astronomically unlikely, the network must have realized it
//! at least once. A harness whose fault injection silently stopped (a comparison flipped in the
//! sampling code) passes every other property; this one fails on every such run.
//!
//! The limit: each draw realizes the fault independently with probability `p`, so `N` draws
//! realize none with probability `(1 - p)^N <= e^(-pN)`. Requiring `pN >= 28` before judging
//! makes that at most `e^(-28) < 7e-13`: below one false alarm in 10^12 runs. In integer
//! arithmetic on parts per million: `ppm * N >= 28 * 10^6`.

use super::{Class, Violation};
use crate::record::{FaultDraws, RunRecord};

/// `p * N` (in draws) from which a fault that never happened is a failure: `e^(-28) < 1e-12`.
pub const EXPECTED_REALIZATIONS_MIN: u64 = 28;

/// Parts per million in one.
const PPM: u128 = 1_000_000;

/// Whether `draws` made so many draws at their probability that none realizing it is below
/// the false-alarm bound.
fn judged(draws: &FaultDraws) -> bool {
    u128::from(draws.ppm) * u128::from(draws.trials) >= u128::from(EXPECTED_REALIZATIONS_MIN) * PPM
}

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    record
        .fault_draws
        .iter()
        .filter(|d| d.realized == 0 && judged(d))
        .map(|d| {
            Violation::new(
                Class::FaultNeverRealized(d.fault),
                format!(
                    "{} of {} ppm over {} draws realized 0 (expected about {})",
                    d.fault.name(),
                    d.ppm,
                    d.trials,
                    u128::from(d.ppm) * u128::from(d.trials) / PPM
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{Property, Violation};
    use crate::record::{DrawnFault, FaultDraws, RunRecord};

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::FaultsRealized)
    }

    fn loss(ppm: u32, trials: u64, realized: u64) -> FaultDraws {
        FaultDraws {
            fault: DrawnFault::Loss,
            ppm,
            trials,
            realized,
        }
    }

    #[test]
    fn realized_faults_and_too_few_draws_hold() {
        let mut record = fixture::healthy();
        assert!(violations(&record).is_empty());
        // 1% loss over 2,799 draws: p*N just under 28, not judged even with nothing lost.
        record.fault_draws = vec![loss(10_000, 2_799, 0), loss(10_000, 100_000, 1)];
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn a_network_that_never_loses_at_its_rate_is_caught() {
        // The bug: the sampling's comparison flipped, so `chance_ppm` never says yes.
        let mut record = fixture::healthy();
        record.fault_draws = vec![
            loss(10_000, 2_800, 0),
            FaultDraws {
                fault: DrawnFault::Duplication,
                ppm: 0,
                trials: 1_000_000,
                realized: 0,
            },
        ];
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "faults-realized: loss asked for but never realized"
        );
        assert_eq!(
            found[0].message,
            "loss of 10000 ppm over 2800 draws realized 0 (expected about 28)"
        );
    }
}
