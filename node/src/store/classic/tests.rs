//! Tests of the `classic` store: replica semantics, the coordinator's decisions and
//! stabilization, driven through the store's own methods (no membership needed).

use super::*;
use crate::message::{Message, Outgoing};

fn params() -> Params {
    Params::original(10)
}

fn key(s: &str) -> Rc<str> {
    s.into()
}

/// A replica's answer to one forwarded request: (success, reason, value).
fn serve(store: &mut ClassicStore, request: Request) -> (bool, Reason, Option<Rc<str>>) {
    let mut out = Outbox::default();
    store.serve(NodeId(5), NodeId(9), 1, &request, &params(), &mut out);
    match out.sends.pop() {
        Some(Outgoing {
            to: NodeId(9),
            message:
                Message::KvReply {
                    success,
                    reason,
                    value,
                    ..
                },
        }) => (success, reason, value),
        other => panic!("expected a reply to the coordinator, got {other:?}"),
    }
}

#[test]
fn replica_semantics_for_every_operation_and_outcome() {
    let mut s = ClassicStore::new(NodeId(1));
    let k = key("k");
    let read = Request::Read { key: k.clone() };
    assert_eq!(serve(&mut s, read.clone()), (false, Reason::NotFound, None));
    assert_eq!(
        serve(
            &mut s,
            Request::Update {
                key: k.clone(),
                value: key("x")
            }
        ),
        (false, Reason::NotFound, None)
    );
    assert_eq!(
        serve(&mut s, Request::Delete { key: k.clone() }),
        (false, Reason::NotFound, None)
    );
    assert_eq!(
        serve(
            &mut s,
            Request::Create {
                key: k.clone(),
                value: key("v1")
            }
        ),
        (true, Reason::Ok, None)
    );
    assert_eq!(
        serve(
            &mut s,
            Request::Create {
                key: k.clone(),
                value: key("v2")
            }
        ),
        (false, Reason::Exists, None)
    );
    assert_eq!(
        serve(&mut s, read.clone()),
        (true, Reason::Ok, Some(key("v1"))),
        "a refused create keeps the old value"
    );
    assert_eq!(
        serve(
            &mut s,
            Request::Update {
                key: k.clone(),
                value: key("v3")
            }
        ),
        (true, Reason::Ok, None)
    );
    assert_eq!(
        serve(&mut s, read.clone()),
        (true, Reason::Ok, Some(key("v3")))
    );
    assert_eq!(
        serve(&mut s, Request::Delete { key: k.clone() }),
        (true, Reason::Ok, None)
    );
    assert_eq!(serve(&mut s, read), (false, Reason::NotFound, None));
}

/// A coordinator with a full 10-node ring, and the replicas of `k`.
fn coordinator() -> (ClassicStore, Vec<NodeId>) {
    let mut s = ClassicStore::new(NodeId(1));
    let view: Vec<NodeId> = (1..=10).map(NodeId).collect();
    s.tick(0, &view, 1, &params(), &mut Outbox::default());
    let replicas = s.ring().replicas_of("k", 3);
    (s, replicas)
}

/// Asks `s` to coordinate `request` (op 7 at tick 0); what it sent and answered.
fn ask(s: &mut ClassicStore, request: Request) -> Outbox {
    let mut out = Outbox::default();
    s.client_request(0, 7, request, &params(), &mut out);
    out
}

fn reply(
    s: &mut ClassicStore,
    from: NodeId,
    success: bool,
    reason: Reason,
    value: Option<&str>,
    out: &mut Outbox,
) {
    let message = Message::KvReply {
        txn: 0,
        success,
        reason,
        value: value.map(key),
    };
    s.handle(from, &message, &params(), out);
}

#[test]
fn a_write_decides_once_at_two_positive_replies() {
    let (mut s, r) = coordinator();
    let mut out = ask(
        &mut s,
        Request::Create {
            key: key("k"),
            value: key("v"),
        },
    );
    assert_eq!(out.sends.len(), 3, "forwarded to the 3 replicas");
    reply(&mut s, r[0], true, Reason::Ok, None, &mut out);
    reply(&mut s, r[0], true, Reason::Ok, None, &mut out);
    assert!(
        out.replies.is_empty(),
        "a duplicate reply does not make a quorum"
    );
    reply(&mut s, r[1], true, Reason::Ok, None, &mut out);
    reply(&mut s, r[2], true, Reason::Ok, None, &mut out);
    assert_eq!(
        out.replies.len(),
        1,
        "decided exactly once; the late reply is ignored"
    );
    let answer = &out.replies[0];
    assert!(answer.success);
    assert_eq!(
        answer.acks.iter().map(|a| a.from).collect::<Vec<_>>(),
        [r[0], r[1]]
    );
}

#[test]
fn a_write_fails_at_two_negative_replies_with_their_reason() {
    let (mut s, r) = coordinator();
    let mut out = ask(
        &mut s,
        Request::Update {
            key: key("k"),
            value: key("v"),
        },
    );
    reply(&mut s, r[0], false, Reason::NotFound, None, &mut out);
    assert!(out.replies.is_empty());
    reply(&mut s, r[2], false, Reason::NotFound, None, &mut out);
    assert_eq!(out.replies.len(), 1);
    assert!(!out.replies[0].success);
    assert_eq!(out.replies[0].reason, Reason::NotFound);
}

#[test]
fn a_read_needs_two_equal_values_and_waits_for_the_third_on_disagreement() {
    let (mut s, r) = coordinator();
    let mut out = ask(&mut s, Request::Read { key: key("k") });
    reply(&mut s, r[0], true, Reason::Ok, Some("a"), &mut out);
    reply(&mut s, r[1], true, Reason::Ok, Some("b"), &mut out);
    assert!(
        out.replies.is_empty(),
        "two different values are not a quorum"
    );
    reply(&mut s, r[2], true, Reason::Ok, Some("b"), &mut out);
    assert_eq!(out.replies.len(), 1);
    assert_eq!(out.replies[0].value.as_deref(), Some("b"));
    assert_eq!(
        out.replies[0].acks.len(),
        2,
        "only the replicas that returned the value count"
    );

    let mut out = Outbox::default();
    s.client_request(0, 8, Request::Read { key: key("k") }, &params(), &mut out);
    let txn = 1;
    for (from, value) in [(r[0], Some("a")), (r[1], Some("b"))] {
        let m = Message::KvReply {
            txn,
            success: true,
            reason: Reason::Ok,
            value: value.map(key),
        };
        s.handle(from, &m, &params(), &mut out);
    }
    let m = Message::KvReply {
        txn,
        success: false,
        reason: Reason::NotFound,
        value: None,
    };
    s.handle(r[2], &m, &params(), &mut out);
    assert_eq!(out.replies.len(), 1);
    assert_eq!(
        (out.replies[0].success, out.replies[0].reason),
        (false, Reason::NoQuorum)
    );
}

#[test]
fn an_undecided_operation_times_out() {
    let (mut s, r) = coordinator();
    let p = params();
    let mut out = Outbox::default();
    s.client_request(10, 7, Request::Delete { key: key("k") }, &p, &mut out);
    reply(&mut s, r[0], true, Reason::Ok, None, &mut out);
    let view: Vec<NodeId> = (1..=10).map(NodeId).collect();
    s.tick(10 + p.op_timeout_ticks - 1, &view, 1, &p, &mut out);
    assert!(out.replies.is_empty());
    s.tick(10 + p.op_timeout_ticks, &view, 1, &p, &mut out);
    assert_eq!(
        (out.replies[0].success, out.replies[0].reason),
        (false, Reason::Timeout)
    );
}

#[test]
fn too_small_a_ring_fails_at_once() {
    let mut s = ClassicStore::new(NodeId(1));
    s.tick(
        0,
        &[NodeId(1), NodeId(2)],
        1,
        &params(),
        &mut Outbox::default(),
    );
    let out = ask(&mut s, Request::Read { key: key("k") });
    assert!(out.sends.is_empty());
    assert_eq!(out.replies[0].reason, Reason::NoQuorum);
}

/// A hand-over of key `k` with `value` from node 99 reaches `s`.
fn hand_over(s: &mut ClassicStore, value: &str, out: &mut Outbox) {
    let message = Message::Replicate {
        key: key("k"),
        value: key(value),
    };
    s.handle(NodeId(99), &message, &params(), out);
}

/// A delete, whether this replica held the key or not, keeps a hand-over that was in flight
/// from re-creating it for twice the operation timeout; a hand-over after that is stored. (A
/// node just made a replica by a crashed node's removal got the delete before the old replica's
/// hand-over of the key: it answered `NotFound` and then stored the stale copy, which the other
/// two replicas had deleted: classic seed 1194 with gossip every 3 ticks.)
#[test]
fn a_delete_keeps_a_late_hand_over_out_whether_the_key_was_here_or_not() {
    let p = params();
    let view: Vec<NodeId> = (1..=10).map(NodeId).collect();
    for held in [false, true] {
        let mut s = ClassicStore::new(NodeId(5));
        let mut out = Outbox::default();
        s.tick(0, &view, 1, &p, &mut out);
        if held {
            hand_over(&mut s, "v", &mut out);
        }
        let delete = Request::Delete { key: key("k") };
        assert_eq!(serve(&mut s, delete).0, held);
        hand_over(&mut s, "stale", &mut out);
        assert_eq!(s.entries().count(), 0, "held before the delete: {held}");
        s.tick(2 * p.op_timeout_ticks, &view, 1, &p, &mut out);
        hand_over(&mut s, "later", &mut out);
        assert_eq!(
            s.entries().next().map(|(_, v)| v.to_string()),
            Some("later".to_string()),
            "held before the delete: {held}"
        );
    }
}

/// Stabilization: a replica hands a key to the new replicas, and a node that is no longer a
/// replica drops it, so nothing is over-replicated.
#[test]
fn stabilization_re_creates_on_new_replicas_and_drops_old_copies() {
    let p = params();
    let full: Vec<NodeId> = (1..=10).map(NodeId).collect();
    let ring = Ring::new(full.iter().copied());
    let replicas = ring.replicas_of("k", 3);
    let outsider = full
        .iter()
        .copied()
        .find(|n| !replicas.contains(n))
        .unwrap();
    // The outsider holds the key (say a stale view made it a replica once) and the ring
    // changes: it hands the key to the 3 replicas and drops it.
    let mut s = ClassicStore::new(outsider);
    let mut out = Outbox::default();
    hand_over(&mut s, "v", &mut out);
    let mut out = Outbox::default();
    s.tick(0, &full, 1, &p, &mut out);
    let mut targets: Vec<NodeId> = out
        .sends
        .iter()
        .filter_map(|sent| matches!(sent.message, Message::Replicate { .. }).then_some(sent.to))
        .collect();
    targets.sort();
    let mut expected = replicas.clone();
    expected.sort();
    assert_eq!(targets, expected);
    assert_eq!(
        s.entries().count(),
        1,
        "kept while views may still disagree"
    );
    // A sweep interval later it is still not a replica: the copy goes.
    let sweep = p.sweep_interval_ticks;
    let next_sweep = (1..=sweep)
        .map(|d| sweep + d)
        .find(|t| (t + u64::from(outsider.0)) % sweep == 0)
        .unwrap();
    s.tick(next_sweep, &full, 1, &p, &mut out);
    assert_eq!(s.entries().count(), 0, "no over-replication");

    // A replica keeps its copy and sends it to the other two after a ring change; a
    // replica that already holds a newer value is not overwritten by the hand-over.
    let mut r0 = ClassicStore::new(replicas[0]);
    hand_over(&mut r0, "v", &mut out);
    let mut out = Outbox::default();
    r0.tick(0, &full, 1, &p, &mut out);
    assert_eq!(out.sends.len(), 2);
    assert_eq!(r0.entries().count(), 1);
    hand_over(&mut r0, "old", &mut out);
    assert_eq!(
        r0.entries().next().map(|(_, v)| v.to_string()),
        Some("v".to_string())
    );

    // Without a ring change, a replica's periodic sweep sends nothing.
    let mut out = Outbox::default();
    r0.tick(
        p.sweep_interval_ticks * 10 - u64::from(replicas[0].0),
        &full,
        1,
        &p,
        &mut out,
    );
    assert!(out.sends.is_empty());
}
