//! `quorum`: a success had acknowledgements from at least a quorum of distinct replicas (for a
//! read: replicas that answered with the value it returned), where the replicas are those the
//! coordinator's own membership view named, according to the checker's ring, when the operation
//! was invoked (where the coordinator sent it) or when it decided (a coordinator may re-route an
//! operation whose ring changed while it was open).

use super::timeline::Timeline;
use super::{Class, OpKind, Violation};
use crate::record::{KvInput, Outcome, RunRecord};
use crate::ring::replicas;
use std::collections::BTreeSet;

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let quorum = record.bounds.quorum;
    let mut violations = Vec::new();
    for op in &record.history {
        let (Outcome::Ok, Some(decided)) = (op.outcome, op.complete) else {
            continue;
        };
        let key = op.input.key();
        let view = timeline.view_at(op.coordinator, decided);
        let mut replica_set = replicas(key, &view, record.bounds.replicas);
        let invoked_view = timeline.view_at(op.coordinator, op.invoke);
        for node in replicas(key, &invoked_view, record.bounds.replicas) {
            if !replica_set.contains(&node) {
                replica_set.push(node);
            }
        }
        let is_read = matches!(op.input, KvInput::Read { .. });
        let counted: BTreeSet<_> = op
            .acks
            .iter()
            .filter(|ack| replica_set.contains(&ack.from) && (!is_read || ack.value == op.output))
            .map(|ack| ack.from)
            .collect();
        if counted.len() >= quorum {
            continue;
        }
        let kind = OpKind::of(&op.input);
        let acks: Vec<String> = op
            .acks
            .iter()
            .map(|ack| match (&ack.value, is_read) {
                (Some(value), true) => format!("{}={value}", ack.from),
                (None, true) => format!("{}=absent", ack.from),
                (_, false) => ack.from.to_string(),
            })
            .collect();
        let (class, why) = if replica_set.is_empty() {
            (
                Class::NoReplicaSet(kind),
                format!(
                    "its view {view:?} has fewer than {} members",
                    record.bounds.replicas
                ),
            )
        } else {
            (
                Class::UnderQuorum(kind),
                format!(
                    "{} of the {quorum} acknowledgements needed came from replicas {replica_set:?} \
                     of its view {view:?}{}",
                    counted.len(),
                    if is_read { " with the value read" } else { "" }
                ),
            )
        };
        let message = format!(
            "op {} ({kind} {key:?}, coordinator {}, ok at tick {}): {why}; acks: [{}]",
            op.id,
            op.coordinator,
            decided.tick,
            acks.join(", ")
        );
        violations.push(Violation::by_op(class, op, message));
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, OpKind, Property};
    use crate::record::{Ack, ViewChange};

    fn violations(record: &crate::record::RunRecord) -> Vec<super::Violation> {
        fixture::violations(record, Property::Quorum)
    }

    #[test]
    fn successes_acknowledged_by_two_replicas_hold() {
        assert!(violations(&fixture::healthy()).is_empty());
    }

    #[test]
    fn a_read_decided_on_one_matching_reply_is_caught() {
        // The bug: the coordinator answers a read as soon as two replies arrive, even when they
        // disagree, and returns the first one's value.
        let mut record = fixture::healthy();
        let replicas = fixture::replicas_of("k1");
        let read = &mut record.history[7];
        read.acks = vec![
            Ack {
                from: replicas[0],
                value: Some("v2".into()),
            },
            Ack {
                from: replicas[1],
                value: Some("v1".into()),
            },
        ];
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "quorum: ok read acknowledged by fewer than a quorum of replicas"
        );
        assert!(
            found[0].message.starts_with("op 8 (read \"k1\""),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("1 of the 2"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].class, Class::UnderQuorum(OpKind::Read));
        let facts = (
            found[0].key.as_deref(),
            &found[0].ops[..],
            &found[0].nodes[..],
        );
        assert_eq!(
            facts,
            (Some("k1"), &[8][..], &[1][..]),
            "key, op, coordinator"
        );
    }

    #[test]
    fn acknowledgements_from_nodes_outside_the_replica_set_do_not_count() {
        // The bug: the coordinator sends a write to the wrong nodes (an off-by-one in its ring
        // walk) and counts their answers.
        let mut record = fixture::healthy();
        let replicas = fixture::replicas_of("k1");
        let outsider = fixture::NODES
            .into_iter()
            .find(|n| !replicas.contains(n))
            .unwrap();
        record.history[3].acks = vec![
            Ack {
                from: replicas[0],
                value: None,
            },
            Ack {
                from: outsider,
                value: None,
            },
        ];
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.starts_with("op 4 (update"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_replica_named_at_invocation_still_counts_after_a_view_change() {
        // The coordinator sent the update to the key's replicas, then its view changed (the
        // second replica was removed) before the answers came back: the answers it counted came
        // from the replicas it had asked, so the update holds.
        let mut record = fixture::healthy();
        let replicas = fixture::replicas_of("k1");
        let update = &record.history[3];
        let (invoked, decided) = (update.invoke, update.complete.unwrap());
        assert!(invoked < decided);
        record.views.push(ViewChange {
            at: crate::record::Stamp {
                tick: invoked.tick,
                seq: invoked.seq + 1,
            },
            node: 1,
            member: replicas[1],
            added: false,
        });
        let found = violations(&record);
        assert!(
            found.iter().all(|v| !v.message.starts_with("op 4 ")),
            "{found:?}"
        );
    }

    #[test]
    fn replicas_come_from_the_coordinators_view_when_it_decided() {
        // The coordinator had removed the key's second replica from its view before deciding,
        // so that replica's acknowledgement was not one of its replicas' answers.
        let mut record = fixture::healthy();
        let replicas = fixture::replicas_of("k1");
        assert!(!fixture::replicas_of("k3")[..2].contains(&replicas[1]));
        record.views.push(ViewChange {
            at: at(115, 0),
            node: 1,
            member: replicas[1],
            added: false,
        });
        let found = violations(&record);
        // The update at 120 and the read at 160 counted an answer from the removed node; the
        // reads and writes before 115 are fine.
        let ids: Vec<&str> = found.iter().map(|v| &v.message[..5]).collect();
        assert_eq!(ids, vec!["op 4 ", "op 8 "], "{found:?}");
    }
}
