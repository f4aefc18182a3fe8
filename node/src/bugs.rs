//! Planted bugs: known-bad behaviours selected through `Params::bug`, never by editing code, so
//! the same binary that passes with `none` can be shown to fail with each of them. They measure
//! the harness the way mutants measure a test suite.

use serde::{Deserialize, Serialize};

/// A known-bad behaviour, planted on purpose to measure whether the harness finds it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum PlantedBug {
    /// The correct protocol.
    #[default]
    None,
    /// Coordinator: succeeds on one positive reply.
    OneReplyQuorum,
    /// Coordinator: a read succeeds on two replies whose values differ, answering the first.
    ReadAnyTwo,
    /// Coordinator: never times out an operation.
    NoOpTimeout,
    /// Stabilization: never runs.
    NoStabilization,
    /// Stabilization: leaves copies on nodes that are no longer replicas.
    StaleCopies,
    /// Ring: replica choice forgets to wrap around the end of the ring.
    RingNoWrap,
    /// Replica: the key's last replica acknowledges deletes without applying them.
    DeleteSkipsReplica,
    /// Coordinator: transaction ids repeat, so a new operation displaces an open one.
    TxnIdReuse,
    /// Membership: failed nodes are never removed.
    NeverRemove,
    /// Membership: a node is removed after a single missed heartbeat.
    SingleMissRemoval,
    /// Membership: suspected members are gossiped and no tombstones are kept, so removed nodes
    /// come back.
    StaleGossipRevives,
    /// Stabilization: a hand-over overwrites the newer value a replica already holds.
    StabilizeOverwrites,
    /// Versioned: a new or restarted replica votes before it has recovered the key.
    VoteBeforeRecovery,
    /// Versioned: an operation skips its first round and writes without learning the state.
    SkipFirstRound,
    /// Versioned: a proposer takes its first acceptance as a decision and sends the commit
    /// to the other seats (the client's answer still waits for a quorum).
    FirstAcceptDecides,
    /// Coordinator: a write is never sent to the key's third replica.
    ForwardSkipsReplica,
    /// Versioned: a key round decides only once every seat accepted, not a quorum.
    WaitForAllAccepts,
    /// Versioned: a steward's sync takes the seats that did not list a key as holding its
    /// current vote, though it voted on the key after it sent its digest.
    SyncTrustsMovedVote,
}

/// What the catalog says about a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BugInfo {
    /// The name on the command line.
    pub name: &'static str,
    /// The part of the system it lives in.
    pub area: &'static str,
    /// One line on what goes wrong.
    pub description: &'static str,
    /// The store variant it applies to (`None`: any).
    pub variant: Option<&'static str>,
    /// The property expected to catch it.
    pub property: &'static str,
}

impl PlantedBug {
    /// Every planted bug, the control (`None`) first.
    pub const ALL: [PlantedBug; 19] = [
        PlantedBug::None,
        PlantedBug::OneReplyQuorum,
        PlantedBug::ReadAnyTwo,
        PlantedBug::NoOpTimeout,
        PlantedBug::NoStabilization,
        PlantedBug::StaleCopies,
        PlantedBug::RingNoWrap,
        PlantedBug::DeleteSkipsReplica,
        PlantedBug::TxnIdReuse,
        PlantedBug::NeverRemove,
        PlantedBug::SingleMissRemoval,
        PlantedBug::StaleGossipRevives,
        PlantedBug::StabilizeOverwrites,
        PlantedBug::VoteBeforeRecovery,
        PlantedBug::SkipFirstRound,
        PlantedBug::FirstAcceptDecides,
        PlantedBug::ForwardSkipsReplica,
        PlantedBug::WaitForAllAccepts,
        PlantedBug::SyncTrustsMovedVote,
    ];

    /// The catalog entry.
    pub fn info(self) -> BugInfo {
        let (name, area, description, variant, property) = match self {
            PlantedBug::None => ("none", "-", "no bug: the control", None, "-"),
            PlantedBug::OneReplyQuorum => (
                "one-reply-quorum",
                "coordinator",
                "a coordinator succeeds on one positive reply",
                Some("classic"),
                "quorum",
            ),
            PlantedBug::ReadAnyTwo => (
                "read-any-two",
                "coordinator",
                "a read succeeds on two replies whose values differ, answering the first",
                Some("classic"),
                "quorum",
            ),
            PlantedBug::NoOpTimeout => (
                "no-op-timeout",
                "coordinator",
                "a coordinator never times out an operation",
                Some("classic"),
                "bounded-response",
            ),
            PlantedBug::NoStabilization => (
                "no-stabilization",
                "stabilization",
                "stabilization never runs",
                Some("classic"),
                "stabilization",
            ),
            PlantedBug::StaleCopies => (
                "stale-copies",
                "stabilization",
                "stabilization leaves copies on nodes that are no longer replicas",
                Some("classic"),
                "stabilization",
            ),
            PlantedBug::RingNoWrap => (
                "ring-no-wrap",
                "ring",
                "replica choice forgets to wrap around the end of the ring",
                Some("classic"),
                "quorum",
            ),
            PlantedBug::DeleteSkipsReplica => (
                "delete-skips-replica",
                "replica",
                "a key's last replica acknowledges deletes without applying them",
                Some("classic"),
                "stabilization",
            ),
            PlantedBug::TxnIdReuse => (
                "txn-id-reuse",
                "coordinator",
                "transaction ids repeat: a new operation displaces an open one, late replies count for it",
                Some("classic"),
                "bounded-response",
            ),
            PlantedBug::NeverRemove => (
                "never-remove",
                "membership",
                "failed nodes are never removed from views",
                None,
                "membership-completeness",
            ),
            PlantedBug::SingleMissRemoval => (
                "single-miss-removal",
                "membership",
                "a node is removed after a single missed heartbeat",
                None,
                "membership-accuracy",
            ),
            PlantedBug::StaleGossipRevives => (
                "stale-gossip-revives",
                "membership",
                "suspected members are still gossiped and there are no tombstones: removed nodes come back",
                None,
                "membership-completeness",
            ),
            PlantedBug::StabilizeOverwrites => (
                "stabilize-overwrites",
                "stabilization",
                "a hand-over overwrites the newer value a replica already holds",
                Some("classic"),
                "durability",
            ),
            PlantedBug::VoteBeforeRecovery => (
                "vote-before-recovery",
                "versioned acceptor",
                "a new or restarted replica votes on a key before it has recovered it",
                Some("versioned"),
                "linearizable",
            ),
            PlantedBug::SkipFirstRound => (
                "skip-first-round",
                "versioned proposer",
                "an operation skips its first round and writes without learning the current state",
                Some("versioned"),
                "stabilization",
            ),
            PlantedBug::FirstAcceptDecides => (
                "first-accept-decides",
                "versioned proposer",
                "a proposer takes its first acceptance as chosen and commits it to the other seats",
                Some("versioned"),
                "agreement",
            ),
            PlantedBug::ForwardSkipsReplica => (
                "forward-skips-replica",
                "coordinator",
                "a coordinator never sends a write to the key's third replica",
                Some("classic"),
                "write-placement",
            ),
            PlantedBug::WaitForAllAccepts => (
                "wait-for-all-accepts",
                "versioned proposer",
                "a key round decides only when all three seats accepted: one crashed replica stalls its keys",
                Some("versioned"),
                "fault-tolerance",
            ),
            PlantedBug::SyncTrustsMovedVote => (
                "sync-trusts-moved-vote",
                "versioned anti-entropy",
                "a steward's sync counts the seats that did not list a key as holding the vote it cast after its digest, and commits it unchosen",
                Some("versioned"),
                "agreement",
            ),
        };
        BugInfo {
            name,
            area,
            description,
            variant,
            property,
        }
    }

    /// The stable name used on the command line and in seed files.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Option<PlantedBug> {
        PlantedBug::ALL.into_iter().find(|b| b.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        for bug in PlantedBug::ALL {
            assert_eq!(PlantedBug::parse(bug.name()), Some(bug));
        }
        let mut names: Vec<&str> = PlantedBug::ALL.iter().map(|b| b.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PlantedBug::ALL.len());
    }
}
