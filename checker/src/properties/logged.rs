//! `logged-quorum`: every success a coordinator logs is backed by the success lines of a quorum
//! of replicas for the same operation (the same transaction id, key and kind), logged before it.
//! This is the original grader's rule for `dbg.log` ("a coordinator success line and a quorum
//! of server success lines per operation"), judged on every run instead of on the graders'
//! four scenarios.
//!
//! Why the correct stores satisfy it: a coordinator answers success only on the positive answers
//! of `quorum` distinct replicas, and a replica logs its line for the operation before it
//! answers. Classic: a replica logs `server: ... success` as it applies the request and then
//! replies; the coordinator counts agreeing positive replies from distinct replicas. Versioned: a
//! seat logs the line as it accepts the round's proposal (the accept names the client operation
//! it serves) and then sends `accepted`; the coordinator answers success only once `quorum`
//! distinct seats accepted its ballot. Either way the lines are there before the coordinator's,
//! whatever the network did. Another coordinator's operation with the same transaction id, key
//! and kind can only add lines, never take one away, so no correct run fails it.
//!
//! What it catches: a store whose replica log no longer tells what the replicas did: a person
//! reading `dbg.log` (or the original grader) would see a success no replica vouched for.

use super::{Class, Violation};
use crate::record::{LogRole, LoggedKind, NodeId, RunRecord};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let mut vouched: BTreeMap<(u32, &str, LoggedKind), BTreeSet<NodeId>> = BTreeMap::new();
    let mut violations = Vec::new();
    for line in &record.log {
        if !line.success {
            continue;
        }
        let op = (line.txn, line.key.as_str(), line.kind);
        match line.role {
            LogRole::Server => {
                vouched.entry(op).or_default().insert(line.node);
            }
            LogRole::Coordinator => {
                let servers = vouched.get(&op).map_or(0, BTreeSet::len);
                if servers >= record.bounds.quorum {
                    continue;
                }
                let message = format!(
                    "n{} logged {} success of {:?} (transID={}) at tick {}, with {servers} \
                     server success lines for it before, fewer than a quorum ({})",
                    line.node,
                    kind_name(line.kind),
                    line.key,
                    line.txn,
                    line.at.tick,
                    record.bounds.quorum
                );
                violations.push(
                    Violation::new(Class::SuccessNotVouched, message)
                        .on_key(&line.key)
                        .with_nodes([line.node]),
                );
            }
        }
    }
    violations
}

fn kind_name(kind: LoggedKind) -> &'static str {
    match kind {
        LoggedKind::Create => "create",
        LoggedKind::Read => "read",
        LoggedKind::Update => "update",
        LoggedKind::Delete => "delete",
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Property, Violation};
    use crate::record::{LogLine, LogRole, LoggedKind, RunRecord};

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::LoggedQuorum)
    }

    fn line(tick: u64, node: u8, role: LogRole, txn: u32, success: bool) -> LogLine {
        LogLine {
            at: at(tick, u64::from(node)),
            node,
            role,
            kind: LoggedKind::Update,
            txn,
            key: "k1".into(),
            success,
        }
    }

    /// An update of "k1" (transID 7, coordinator node 1) that replicas 2, 3 and 4 logged with
    /// `servers` (success or not), then the coordinator's success line.
    fn logged(servers: [bool; 3]) -> RunRecord {
        let mut record = fixture::healthy();
        for (i, success) in servers.into_iter().enumerate() {
            record
                .log
                .push(line(121, 2 + i as u8, LogRole::Server, 7, success));
        }
        record.log.push(line(123, 1, LogRole::Coordinator, 7, true));
        record
    }

    #[test]
    fn a_success_two_replicas_logged_holds() {
        assert!(violations(&logged([true, true, false])).is_empty());
        // A coordinator's failure needs no server line.
        let mut failed = logged([false, false, false]);
        failed.log.last_mut().unwrap().success = false;
        assert!(violations(&failed).is_empty());
    }

    #[test]
    fn a_success_only_one_replica_logged_is_caught() {
        // The bug: versioned accepts stop naming the client operation, so seats log nothing.
        let found = violations(&logged([true, false, false]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "logged-quorum: coordinator logged a success fewer than a quorum of replicas logged"
        );
        // Lines of another transaction, or the same replica twice, vouch for nothing.
        let mut other = logged([true, false, false]);
        other.log[1].success = true;
        other.log[1].txn = 8;
        assert_eq!(violations(&other).len(), 1);
        let mut twice = logged([true, false, false]);
        twice.log[1] = line(121, 2, LogRole::Server, 7, true);
        assert_eq!(violations(&twice).len(), 1);
    }

    #[test]
    fn server_lines_after_the_coordinators_do_not_count() {
        let mut late = logged([true, false, false]);
        late.log.push(line(124, 3, LogRole::Server, 7, true));
        assert_eq!(violations(&late).len(), 1);
    }
}
