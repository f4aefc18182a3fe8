//! How much search a verdict may cost before it becomes `unknown` instead of a hang.

use std::time::{Duration, Instant};

/// A limit on the linearizability search. When it runs out the verdict is `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// A count of search steps: deterministic, so a verdict inside `fuzz` never depends on the
    /// machine's load.
    Steps(u64),
    /// Wall-clock milliseconds, for `sim check` on histories of unknown difficulty.
    Millis(u64),
}

impl Budget {
    /// The wall-clock budget `sim check` uses without `--budget-ms` (design.md: 10 s).
    pub const DEFAULT_CHECK_MS: u64 = 10_000;
}

/// How often (in steps, a power of two) a wall-clock meter looks at the clock; reading it every
/// step would cost more than the step.
const CLOCK_EVERY_STEPS: u64 = 1024;

/// The running account of a [`Budget`].
#[derive(Debug, Clone)]
pub(crate) struct Meter {
    steps_left: u64,
    deadline: Option<Instant>,
    steps_used: u64,
}

impl Meter {
    /// A meter holding all of `budget`, starting now.
    pub fn new(budget: Budget) -> Meter {
        match budget {
            Budget::Steps(steps) => Meter {
                steps_left: steps,
                deadline: None,
                steps_used: 0,
            },
            Budget::Millis(ms) => Meter {
                steps_left: u64::MAX,
                deadline: Some(Instant::now() + Duration::from_millis(ms)),
                steps_used: 0,
            },
        }
    }

    /// A slice of at most `steps` of what is left, for one turn of one key's search; give it
    /// back with [`Meter::charge`].
    pub fn slice(&self, steps: u64) -> Meter {
        Meter {
            steps_left: self.steps_left.min(steps),
            deadline: self.deadline,
            steps_used: 0,
        }
    }

    /// Takes the steps a slice used out of this meter.
    pub fn charge(&mut self, slice: &Meter) {
        self.steps_used += slice.steps_used;
        self.steps_left = self.steps_left.saturating_sub(slice.steps_used);
    }

    /// Whether nothing is left.
    pub fn exhausted(&self) -> bool {
        self.steps_left == 0 || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Spends one step; `false` when the budget has run out.
    #[inline]
    pub fn tick(&mut self) -> bool {
        if self.steps_left == 0 {
            return false;
        }
        self.steps_left -= 1;
        self.steps_used += 1;
        if self.steps_used & (CLOCK_EVERY_STEPS - 1) == 0 {
            if let Some(deadline) = self.deadline {
                if Instant::now() >= deadline {
                    self.steps_left = 0;
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_budget_runs_out_exactly() {
        let mut meter = Meter::new(Budget::Steps(3));
        assert!(meter.tick() && meter.tick() && meter.tick());
        assert!(!meter.tick());
        assert!(meter.exhausted());
    }

    #[test]
    fn slices_are_paid_for_by_the_meter_they_came_from() {
        let mut meter = Meter::new(Budget::Steps(100));
        let mut slice = meter.slice(30);
        while slice.tick() {}
        meter.charge(&slice);
        assert_eq!(meter.steps_left, 70);
        assert_eq!(meter.slice(1000).steps_left, 70);
        assert!(!meter.exhausted());
    }

    #[test]
    fn an_expired_clock_budget_stops_the_search() {
        let mut meter = Meter::new(Budget::Millis(0));
        let ran = (0..10 * CLOCK_EVERY_STEPS)
            .take_while(|_| meter.tick())
            .count();
        assert_eq!(ran as u64, CLOCK_EVERY_STEPS - 1);
    }
}
