//! `availability`: once the run has converged (views equal, handovers done), an operation with
//! no concurrent operation on its key is answered `ok` or refused for a semantic reason (the
//! key exists, the key is missing), never by a timeout or a missing quorum.
//!
//! Concurrency is judged on what the clients saw: an operation runs from its invocation to its
//! answer (to the end of the run if it never got one), whatever its outcome class.

use super::{Class, OpKind, Unavailable, Violation};
use crate::record::{Operation, Reason, RunRecord, Stamp};

fn overlaps(a: &Operation, b: &Operation) -> bool {
    let end = |op: &Operation| {
        op.complete.unwrap_or(Stamp {
            tick: u64::MAX,
            seq: u64::MAX,
        })
    };
    a.invoke <= end(b) && b.invoke <= end(a)
}

/// How `op` was refused for a reason that is not semantic (the store was unavailable), if it
/// was.
pub(super) fn unavailable(op: &Operation) -> Option<Unavailable> {
    match op.reason {
        Reason::Timeout => Some(Unavailable::Timeout),
        Reason::NoQuorum => Some(Unavailable::NoQuorum),
        Reason::Ok | Reason::Exists | Reason::NotFound | Reason::CoordinatorCrashed => None,
    }
}

/// Whether no other operation on `op`'s key ran while it did.
fn alone_on_its_key(record: &RunRecord, op: &Operation) -> bool {
    !record.history.iter().any(|other| {
        other.id != op.id && other.input.key() == op.input.key() && overlaps(op, other)
    })
}

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let Some(converged_at) = record.converged_at else {
        return Vec::new();
    };
    let mut violations = Vec::new();
    for op in &record.history {
        let Some(refusal) = unavailable(op) else {
            continue;
        };
        if op.invoke.tick < converged_at || op.complete.is_none() || !alone_on_its_key(record, op) {
            continue;
        }
        let kind = OpKind::of(&op.input);
        let message = format!(
            "op {} ({kind} {:?}, coordinator {}) invoked at tick {}, after the run converged at \
             tick {converged_at}, with no concurrent operation on its key: answered {}",
            op.id,
            op.input.key(),
            op.coordinator,
            op.invoke.tick,
            refusal.name()
        );
        violations.push(Violation::by_op(Class::Refused(kind, refusal), op, message));
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, read};
    use super::super::{Property, Violation};
    use crate::record::{Outcome, Reason, RunRecord};

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::Availability)
    }

    fn timed_out_read(record: &mut RunRecord, index: usize) {
        let op = &mut record.history[index];
        op.outcome = Outcome::Unknown;
        op.reason = Reason::Timeout;
        op.output = None;
        op.acks.clear();
    }

    #[test]
    fn semantic_refusals_and_concurrent_timeouts_hold() {
        let mut record = fixture::healthy();
        // The rejected create (exists) is a semantic refusal. A timeout with a concurrent
        // operation on its key is allowed.
        record
            .history
            .push(fixture::ok(9, read("k1"), 111, 125, Some("v1")));
        timed_out_read(&mut record, 2);
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn a_lone_timeout_after_convergence_is_caught() {
        // The bug: after a handover the coordinator still waits for the old replica, which no
        // longer answers for the key, and times out.
        let mut record = fixture::healthy();
        timed_out_read(&mut record, 7);
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "availability: read refused with timeout after convergence"
        );
        assert!(
            found[0].message.starts_with("op 8 "),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn refusals_before_convergence_are_not_judged() {
        let mut record = fixture::healthy();
        timed_out_read(&mut record, 7);
        record.converged_at = Some(170);
        assert!(violations(&record).is_empty());
        record.converged_at = None;
        assert!(violations(&record).is_empty());
    }
}
