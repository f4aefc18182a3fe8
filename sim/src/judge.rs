//! Which properties a run must satisfy, and the checker's verdict on it.

use crate::anomaly::classify;
use crate::profile::Profile;
use crate::run::{execute, Execution, RunOptions};
use crate::scenario::{Fault, Scenario};
use checker::properties::{check_record, CheckOptions, Class, Property, StabilizationScope};
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
    /// The checker's class of the failure.
    pub class: Class,
    /// Property and key facts, stable across runs; failing seeds are deduplicated by it (for
    /// `linearizable`: the anomaly's kind, which [`crate::anomaly`] names).
    pub signature: String,
    /// The key the violation is about, if one.
    pub key: Option<String>,
    /// The operations it is about, by id (for `linearizable`: the witness's).
    pub ops: Vec<u64>,
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

/// How much of `availability`, `stabilization` and `durability` the classic store promises on a
/// run (design.md: "runs without message faults").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassicScope {
    /// Message faults: none of the three.
    Faulty,
    /// No message faults but a fresh replica (a restart with an empty store, or a late joiner):
    /// a fresh replica can accept a create its peers refuse, or miss a delete that a later
    /// hand-over undoes, and plain values cannot be reconciled. Only placement is promised: no
    /// copy outside a key's replicas ([`StabilizationScope::Placement`]).
    FreshReplicas,
    /// No message faults, no restart and no late joiner, but a crash: its removal makes
    /// surviving nodes replicas of the crashed node's keys before any hand-over reaches them, so
    /// a new replica can take a create the old ones refuse, and the replicas keep two states
    /// that may each have been the key's last write. All three are promised, stabilization
    /// without a rollback ([`StabilizationScope::NoRollback`]: no replica holds a state a later
    /// acknowledged write superseded).
    Crashes,
    /// No message faults and no fresh replica: all three.
    Clean,
}

impl ClassicScope {
    /// The scope of a scenario.
    pub fn of(scenario: &Scenario) -> ClassicScope {
        let has = |kind: fn(&Fault) -> bool| scenario.faults.iter().any(kind);
        let fresh = has(|f| matches!(f, Fault::Restart { .. } | Fault::Join { .. }));
        let crash = has(|f| matches!(f, Fault::Crash { .. }));
        match (scenario.message_faults_free(), fresh, crash) {
            (false, _, _) => ClassicScope::Faulty,
            (true, true, _) => ClassicScope::FreshReplicas,
            (true, false, true) => ClassicScope::Crashes,
            (true, false, false) => ClassicScope::Clean,
        }
    }
}

/// The properties `variant` promises on `profile` (design.md's table), plus `extra`.
pub fn promised(
    variant: Variant,
    profile: Profile,
    classic: ClassicScope,
    extra: &[Property],
) -> Vec<Property> {
    use Property::*;
    let mut props = vec![
        NoPanic,
        Quorum,
        BoundedResponse,
        MembershipCompleteness,
        Rejoin,
        GossipFanout,
        ReportedCopies,
        FaultsRealized,
        LoggedQuorum,
    ];
    let versioned = !matches!(variant, Variant::Classic);
    if profile != Profile::Hostile {
        props.extend([MembershipAccuracy, Convergence, Progress]);
        if versioned || matches!(classic, ClassicScope::Clean | ClassicScope::Crashes) {
            props.extend([Availability, Stabilization, Durability, FaultTolerance]);
        } else if classic == ClassicScope::FreshReplicas {
            props.push(Stabilization);
        }
        if versioned {
            // Every range keeps a live voter only under a crash budget (see query-budget).
            props.push(QueryBudget);
        }
    }
    if versioned {
        props.extend([
            Linearizable,
            Agreement,
            Provenance,
            SweepCadence,
            HandoverReported,
            ResendPacing,
            SyncListing,
            RecoveryReports,
        ]);
    } else {
        props.extend([WritePlacement, WriteForwarding, QuorumRefusal]);
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
    let classic = ClassicScope::of(scenario);
    let properties = promised(scenario.params.variant, key.profile, classic, &key.extra);
    let narrowed = scenario.params.variant == Variant::Classic
        && !key.extra.contains(&Property::Stabilization);
    let options = CheckOptions {
        budget: Budget::Steps(FUZZ_BUDGET_STEPS),
        stabilization: match classic {
            ClassicScope::FreshReplicas if narrowed => StabilizationScope::Placement,
            ClassicScope::Crashes if narrowed => StabilizationScope::NoRollback,
            _ => StabilizationScope::PlacementAndAgreement,
        },
    };
    // A run a panic stopped has no end to judge: its panic is its verdict.
    let judged = if execution.record.panic.is_some() {
        &[Property::NoPanic][..]
    } else {
        &properties[..]
    };
    let mut judgement = judge(&execution.record, judged, options);
    name_anomalies(&mut judgement, &execution.record.history);
    Checked {
        execution,
        judgement,
        properties,
    }
}

/// Gives each linearizability violation the name of its anomaly kind as its signature, so that
/// campaigns keep one counterexample per kind; the checker's own shape stays in the details.
fn name_anomalies(judgement: &mut Judgement, history: &[checker::record::Operation]) {
    for v in judgement
        .violations
        .iter_mut()
        .filter(|v| v.property == Property::Linearizable)
    {
        let kind = classify(history, &v.ops);
        v.details = format!("anomaly: {} ({})\n{}", kind.name(), v.signature, v.details);
        v.signature = format!("linearizable: {}", kind.name());
    }
}

/// The checker's verdict on `record` for `properties`.
pub fn judge(record: &RunRecord, properties: &[Property], options: CheckOptions) -> Judgement {
    let mut judgement = Judgement::default();
    for report in check_record(record, properties, options) {
        judgement.unknown |= report.undecided.is_some();
        for v in report.violations {
            let signature = v.signature();
            let details = if v.evidence.is_empty() {
                v.message
            } else {
                format!("{}\n{}", v.message, v.evidence)
            };
            judgement.violations.push(Found {
                property: v.class.property(),
                class: v.class,
                signature,
                key: v.key,
                ops: v.ops,
                details,
            });
        }
    }
    judgement
}
