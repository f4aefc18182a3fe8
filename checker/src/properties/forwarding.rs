//! `write-forwarding` (`classic`): a replica passes on only writes, and only to replicas the
//! write's coordinator did not send it to.
//!
//! Why the correct protocol satisfies it: a classic replica that applied a write (create,
//! update, delete) looks up the key's replicas on its own ring; where that ring names a replica
//! the coordinator's ring did not (the request carries the coordinator's list), it passes the
//! resulting state on, because the ring-change hand-over may have run before this key arrived.
//! That is the forward's only purpose. A read changes nothing, so there is nothing to pass on;
//! a replica the coordinator sent the write to has it or will have it from the coordinator.
//!
//! Why it matters: each forward the protocol does not need is a message per replica per write
//! (the budget of a write is its requests and replies, plus forwards to the replicas the
//! coordinator's ring missed), and it is not harmless: it carries the state as of this write, so
//! with unequal delays it can land after a later write reached that replica and roll it back; a
//! forwarded read writes a value to a replica on no client's behalf.
//!
//! A forward is matched with its write by the coordinator's route of that transaction id and key
//! (the latest one before it, should the coordinator use an id twice: its ids wrap, and the
//! planted bug `txn-id-reuse` reuses them on purpose).

use super::{Class, Violation};
use crate::record::{RunRecord, WriteForward, WriteRoute};

/// The coordinator's route of the write `forward` passes on: the latest with its coordinator,
/// transaction id and key before it.
fn route_of<'a>(record: &'a RunRecord, forward: &WriteForward) -> Option<&'a WriteRoute> {
    record
        .routes
        .iter()
        .filter(|r| {
            r.node == forward.coordinator
                && r.txn == forward.txn
                && r.key == forward.key
                && r.at < forward.at
        })
        .max_by_key(|r| r.at)
}

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let mut violations = Vec::new();
    for forward in &record.forwards {
        let (class, why) = match route_of(record, forward) {
            None => (
                Class::ForwardedNoWrite,
                "no write of the key was routed under that transaction id (a read?)".to_string(),
            ),
            Some(route) if route.to.contains(&forward.to) => (
                Class::ForwardedToAskedReplica,
                format!(
                    "the coordinator had sent the write to {:?} at tick {}",
                    route.to, route.at.tick
                ),
            ),
            Some(_) => continue,
        };
        let message = format!(
            "n{} passed {:?} on to n{} at tick {} (n{}'s transID={}): {why}",
            forward.node,
            forward.key,
            forward.to,
            forward.at.tick,
            forward.coordinator,
            forward.txn
        );
        violations.push(
            Violation::new(class, message)
                .on_key(&forward.key)
                .with_nodes([forward.node, forward.to]),
        );
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::{RunRecord, WriteForward, WriteRoute};

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::WriteForwarding)
    }

    /// The update of "k1" at tick 120 (transID 7 of node 1) routed to nodes 2, 3, 4, and node
    /// 2 passing it on to `to` at tick 121.
    fn forwarded(to: u8) -> RunRecord {
        let mut record = fixture::healthy();
        record.routes.push(WriteRoute {
            at: at(120, 0),
            node: 1,
            key: "k1".into(),
            to: vec![2, 3, 4],
            txn: 7,
        });
        record.forwards.push(WriteForward {
            at: at(121, 0),
            node: 2,
            key: "k1".into(),
            to,
            coordinator: 1,
            txn: 7,
        });
        record
    }

    #[test]
    fn a_forward_to_a_replica_the_coordinator_missed_holds() {
        assert!(violations(&forwarded(5)).is_empty());
    }

    #[test]
    fn a_forward_to_a_replica_the_coordinator_asked_is_caught() {
        // The bug: a replica passes every write on to all the replicas its ring names.
        let found = violations(&forwarded(3));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::ForwardedToAskedReplica);
        assert_eq!(
            found[0].signature(),
            "write-forwarding: write passed on to a replica its coordinator sent it to"
        );
    }

    #[test]
    fn a_forward_of_no_routed_write_is_caught() {
        // The bug: a replica passes reads on too (no write was routed under their ids).
        let mut read = forwarded(5);
        read.forwards[0].txn = 8;
        let found = violations(&read);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::ForwardedNoWrite);
        // A route after the forward is another write's.
        let mut later = forwarded(5);
        later.routes.last_mut().unwrap().at = at(122, 0);
        assert_eq!(violations(&later).len(), 1);
    }
}
