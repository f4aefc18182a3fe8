//! Which properties a run must satisfy, and the checker's verdict on it.

use crate::profile::Profile;
use crate::run::{execute, Execution, RunOptions};
use crate::scenario::Scenario;
use checker::properties::{check_record, Property};
use checker::record::RunRecord;
use checker::Budget;
use node::Variant;

/// Search steps the linearizability checker may spend on one run inside `fuzz`: a count, not a
/// time, so a verdict never depends on the machine's load.
pub const FUZZ_BUDGET_STEPS: u64 = 2_000_000;

/// A violated property with the facts that prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The property.
    pub property: Property,
    /// Property and key facts, stable across runs; failing seeds are deduplicated by it.
    pub signature: String,
    /// The facts, for a person.
    pub details: String,
}

/// The checker's verdict on one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Violations, first property first.
    pub violations: Vec<Found>,
    /// Whether the checker's budget ran out on some check (and nothing was violated there).
    pub unknown: bool,
}

impl Judgement {
    /// The first violation, if any.
    pub fn first(&self) -> Option<&Found> {
        self.violations.first()
    }
}

/// The properties `variant` promises on `profile` (design.md's table), plus `extra`.
pub fn promised(
    variant: Variant,
    profile: Profile,
    message_faults_free: bool,
    extra: &[Property],
) -> Vec<Property> {
    use Property::*;
    let mut props = vec![Quorum, BoundedResponse, MembershipCompleteness];
    let versioned = !matches!(variant, Variant::Classic);
    if profile != Profile::Hostile {
        props.extend([MembershipAccuracy, Convergence, Progress]);
        if versioned || message_faults_free {
            props.extend([Availability, Stabilization, Durability]);
        }
    }
    if versioned {
        props.push(Linearizable);
    }
    for e in extra {
        if !props.contains(e) {
            props.push(*e);
        }
    }
    props
}

/// One run and its verdict.
#[derive(Debug)]
pub struct Checked {
    /// The run.
    pub execution: Execution,
    /// The verdict.
    pub judgement: Judgement,
    /// The properties checked.
    pub properties: Vec<Property>,
}

impl Checked {
    /// The run's trace hash.
    pub fn trace_hash(&self) -> u64 {
        self.execution.world.trace().hash()
    }
}

/// What identifies a run besides its scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunKey {
    /// Root seed.
    pub seed: u64,
    /// Profile (decides which properties are promised).
    pub profile: Profile,
    /// Properties checked on top of the promised ones.
    pub extra: Vec<Property>,
}

/// Runs a scenario and judges it.
pub fn run_checked(scenario: &Scenario, key: &RunKey, options: RunOptions) -> Checked {
    let execution = execute(scenario, key.seed, options);
    let properties = promised(
        scenario.params.variant,
        key.profile,
        scenario.message_faults_free(),
        &key.extra,
    );
    let judgement = judge(&execution.record, &properties, FUZZ_BUDGET_STEPS);
    Checked {
        execution,
        judgement,
        properties,
    }
}

/// The checker's verdict on `record` for `properties`.
pub fn judge(record: &RunRecord, properties: &[Property], budget_steps: u64) -> Judgement {
    let mut judgement = Judgement::default();
    for report in check_record(record, properties, Budget::Steps(budget_steps)) {
        judgement.unknown |= report.undecided.is_some();
        for v in report.violations {
            let details = if v.evidence.is_empty() {
                v.message
            } else {
                format!("{}\n{}", v.message, v.evidence)
            };
            judgement.violations.push(Found {
                property: v.property,
                signature: v.signature,
                details,
            });
        }
    }
    judgement
}
