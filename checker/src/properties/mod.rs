//! The guarantee properties of design.md's table, as pure functions of a [`RunRecord`].
//!
//! Each property has a stable kebab-case name (used in reports, seed files and `--check`),
//! and its check returns the violations it found, each with the facts that prove it and a short
//! signature (the property and the kind of failure, without ids, keys or ticks) that stays the
//! same when the same bug shows up in another seed, so failing seeds can be deduplicated.
//! Replica sets come from the checker's own ring oracle ([`crate::ring`]).

mod agreement;
mod availability;
mod convergence;
mod durability;
mod forwarding;
mod gossip;
mod handovers;
mod linearizable;
mod listing;
mod logged;
mod membership;
mod panic;
mod placement;
mod progress;
mod provenance;
mod queries;
mod quorum;
mod realized;
mod recovery;
mod refusal;
mod rejoin;
mod reports;
mod resends;
mod response;
mod stabilization;
mod sweep;
mod timeline;
mod tolerance;
mod violation;
mod writes;

#[cfg(test)]
mod fixture;

use crate::budget::Budget;
use crate::record::RunRecord;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use timeline::Timeline;
pub use violation::{Class, Misplacement, OpKind, StabilizationScope, Unavailable, Violation};

/// A guarantee a run may be checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    /// A success had acknowledgements from a quorum of the replicas its coordinator's view names.
    Quorum,
    /// A live coordinator answers every request within its timeout plus a slack.
    BoundedResponse,
    /// After convergence, an operation with no concurrent one on its key is answered `ok` or
    /// refused for a semantic reason.
    Availability,
    /// At the end every live key is held by exactly its replicas, with its newest state.
    Stabilization,
    /// No acknowledged write is lost and no deleted key comes back.
    Durability,
    /// Every crashed node leaves every live view within the detection bound.
    MembershipCompleteness,
    /// No live node is removed from a live view while the network is clean.
    MembershipAccuracy,
    /// At the end every live view equals the set of live nodes.
    Convergence,
    /// The history is linearizable for the key-value model.
    Linearizable,
    /// The run converged before the tick cap.
    Progress,
    /// `versioned`: every decision of a key round rests on a quorum of its seats' votes, and a
    /// decided operation is answered unknown for want of evidence only once every seat voted.
    Agreement,
    /// `classic`: a coordinator sends every client write to every replica its view names.
    WritePlacement,
    /// `versioned`: a replica reports a copy gone only if it held it or a delete was invoked.
    Provenance,
    /// The random message faults the link model asked for happened (the harness is not blind).
    FaultsRealized,
    /// With at most one replica of a key down, a settled membership and clean links, an
    /// operation with no concurrent one on its key is answered `ok` or refused for a semantic
    /// reason.
    FaultTolerance,
    /// The run ran to its end: no node step and no harness code panicked.
    NoPanic,
    /// A restarted node asks another seed node to let it back into the group as it starts.
    Rejoin,
    /// Every success a coordinator logs is backed by a quorum of replicas' success lines.
    LoggedQuorum,
    /// `classic`: a replica passes on only writes, and only to replicas their coordinator did
    /// not send them to.
    WriteForwarding,
    /// A node gossips to at most its fanout of members of its view per tick, and to at most one
    /// node outside it (the seed node it probes).
    GossipFanout,
    /// `versioned`: a steward syncs a range only on its staggered sweep ticks, or after its ring
    /// changed or a seat answered its previous sync with stale keys.
    SweepCadence,
    /// `versioned`: while the cluster stays settled, links clean and clocks steady, a node asks
    /// about one range in a bounded number of sweeps.
    QueryBudget,
    /// `classic`: a coordinator refuses at once for want of a quorum exactly when its view names
    /// fewer replicas of the key than the quorum.
    QuorumRefusal,
    /// At the end every live node holds exactly the copies its last reports say it holds.
    ReportedCopies,
    /// `versioned`: every written key a hand-over sends is reported by its sender, once per
    /// message.
    HandoverReported,
    /// `versioned`: a proposer sends a phase message of a round to one node at most once in any
    /// two consecutive ticks.
    ResendPacing,
    /// `versioned`: a seat's answer to a sync lists only keys whose vote differs from the digest.
    SyncListing,
    /// `versioned`: a node reports a range's epoch not recovered only if it has not installed
    /// that epoch since it last started.
    RecoveryReports,
}

impl Property {
    /// Every property, in design.md's order, then the protocol invariants and the harness's
    /// self-checks.
    pub const ALL: [Property; 28] = [
        Property::Quorum,
        Property::BoundedResponse,
        Property::Availability,
        Property::Stabilization,
        Property::Durability,
        Property::MembershipCompleteness,
        Property::MembershipAccuracy,
        Property::Convergence,
        Property::Linearizable,
        Property::Progress,
        Property::Agreement,
        Property::WritePlacement,
        Property::Provenance,
        Property::FaultsRealized,
        Property::FaultTolerance,
        Property::NoPanic,
        Property::Rejoin,
        Property::LoggedQuorum,
        Property::WriteForwarding,
        Property::GossipFanout,
        Property::SweepCadence,
        Property::QueryBudget,
        Property::QuorumRefusal,
        Property::ReportedCopies,
        Property::HandoverReported,
        Property::ResendPacing,
        Property::SyncListing,
        Property::RecoveryReports,
    ];

    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            Property::Quorum => "quorum",
            Property::BoundedResponse => "bounded-response",
            Property::Availability => "availability",
            Property::Stabilization => "stabilization",
            Property::Durability => "durability",
            Property::MembershipCompleteness => "membership-completeness",
            Property::MembershipAccuracy => "membership-accuracy",
            Property::Convergence => "convergence",
            Property::Linearizable => "linearizable",
            Property::Progress => "progress",
            Property::Agreement => "agreement",
            Property::WritePlacement => "write-placement",
            Property::Provenance => "provenance",
            Property::FaultsRealized => "faults-realized",
            Property::FaultTolerance => "fault-tolerance",
            Property::NoPanic => "no-panic",
            Property::Rejoin => "rejoin",
            Property::LoggedQuorum => "logged-quorum",
            Property::WriteForwarding => "write-forwarding",
            Property::GossipFanout => "gossip-fanout",
            Property::SweepCadence => "sweep-cadence",
            Property::QueryBudget => "query-budget",
            Property::QuorumRefusal => "quorum-refusal",
            Property::ReportedCopies => "reported-copies",
            Property::HandoverReported => "handover-reported",
            Property::ResendPacing => "resend-pacing",
            Property::SyncListing => "sync-listing",
            Property::RecoveryReports => "recovery-reports",
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Property {
    type Err = String;

    fn from_str(name: &str) -> Result<Property, String> {
        Property::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Property::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "unknown property {name:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// What checking one property found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyReport {
    /// The property.
    pub property: Property,
    /// Its violations, in a deterministic order; empty if it held (or is undecided).
    pub violations: Vec<Violation>,
    /// Why the check could not decide (the linearizability budget ran out), if it could not.
    pub undecided: Option<String>,
}

impl PropertyReport {
    /// Whether the property held: no violation and a decided check.
    pub fn holds(&self) -> bool {
        self.violations.is_empty() && self.undecided.is_none()
    }
}

/// How the properties are checked, beyond which ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// Bounds the linearizability search (use [`Budget::Steps`] inside `fuzz`, so verdicts do
    /// not depend on the machine's load).
    pub budget: Budget,
    /// How much `stabilization` asks.
    pub stabilization: StabilizationScope,
}

impl CheckOptions {
    /// Every property in full, the linearizability search within `budget`.
    pub fn new(budget: Budget) -> CheckOptions {
        CheckOptions {
            budget,
            stabilization: StabilizationScope::default(),
        }
    }
}

/// Checks `record` for each of `properties`, in the order given.
pub fn check_record(
    record: &RunRecord,
    properties: &[Property],
    options: CheckOptions,
) -> Vec<PropertyReport> {
    let timeline = Timeline::new(record);
    properties
        .iter()
        .map(|&property| check_one(record, &timeline, property, options))
        .collect()
}

fn check_one(
    record: &RunRecord,
    timeline: &Timeline<'_>,
    property: Property,
    options: CheckOptions,
) -> PropertyReport {
    let violations = match property {
        Property::Quorum => quorum::check(record, timeline),
        Property::BoundedResponse => response::check(record, timeline),
        Property::Availability => availability::check(record),
        Property::Stabilization => stabilization::check(record, options.stabilization),
        Property::Durability => durability::check(record, timeline),
        Property::MembershipCompleteness => membership::completeness(record, timeline),
        Property::MembershipAccuracy => membership::accuracy(record, timeline),
        Property::Convergence => convergence::check(record),
        Property::Progress => progress::check(record),
        Property::Agreement => agreement::check(record),
        Property::WritePlacement => placement::check(record, timeline),
        Property::Provenance => provenance::check(record),
        Property::FaultsRealized => realized::check(record),
        Property::FaultTolerance => tolerance::check(record, timeline),
        Property::NoPanic => panic::check(record),
        Property::Rejoin => rejoin::check(record),
        Property::LoggedQuorum => logged::check(record),
        Property::WriteForwarding => forwarding::check(record),
        Property::GossipFanout => gossip::check(record),
        Property::SweepCadence => sweep::check(record),
        Property::QueryBudget => queries::check(record),
        Property::QuorumRefusal => refusal::check(record, timeline),
        Property::ReportedCopies => reports::check(record, timeline),
        Property::HandoverReported => handovers::check(record),
        Property::ResendPacing => resends::check(record),
        Property::SyncListing => listing::check(record),
        Property::RecoveryReports => recovery::check(record, timeline),
        Property::Linearizable => return linearizable::check_history(record, options.budget),
    };
    PropertyReport {
        property,
        violations,
        undecided: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_kebab_case() {
        for property in Property::ALL {
            assert_eq!(property.name().parse::<Property>(), Ok(property));
            let json = serde_json::to_string(&property).unwrap();
            assert_eq!(json, format!("\"{}\"", property.name()));
        }
        assert_eq!(
            "membership-accuracy".parse::<Property>(),
            Ok(Property::MembershipAccuracy)
        );
        assert!("Quorum".parse::<Property>().is_err());
    }

    #[test]
    fn a_healthy_run_holds_every_property_in_the_order_asked() {
        let record = fixture::healthy();
        let asked = [Property::Progress, Property::Quorum, Property::Linearizable];
        let reports = check_record(&record, &asked, CheckOptions::new(Budget::Steps(100_000)));
        assert_eq!(
            reports.iter().map(|r| r.property).collect::<Vec<_>>(),
            asked.to_vec()
        );
        let all = check_record(
            &record,
            &Property::ALL,
            CheckOptions::new(Budget::Steps(100_000)),
        );
        for report in all {
            assert!(report.holds(), "{report:?}");
        }
    }
}
