//! Names for linearizability violations: which kind of anomaly a witness shows.
//!
//! The checker reports a minimal set of operations that cannot be linearized (as data: the
//! violation's operation ids); this module looks at those operations in the recorded history
//! and names the pattern, so a campaign's findings can be grouped by kind ("stale read after a
//! replica change", "resurrected delete", ...).

use checker::record::{KvInput, Operation, Outcome, Stamp};

/// A kind of linearizability anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Anomaly {
    /// A read saw a value that an acknowledged delete had removed before the read began.
    ResurrectedDelete,
    /// A read saw an older value although a newer write was acknowledged before it began.
    StaleRead,
    /// A read found the key absent although a write was acknowledged before it began.
    MissedWrite,
    /// A create took effect on a key that already existed.
    DoubleCreate,
    /// Two deletes both took effect with no create between them.
    DoubleDelete,
    /// An update took effect on a key that had been deleted.
    PhantomUpdate,
    /// None of the above.
    Other,
}

impl Anomaly {
    /// The short name used in notes and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Anomaly::ResurrectedDelete => "resurrected-delete",
            Anomaly::StaleRead => "stale-read",
            Anomaly::MissedWrite => "missed-write",
            Anomaly::DoubleCreate => "double-create",
            Anomaly::DoubleDelete => "double-delete",
            Anomaly::PhantomUpdate => "phantom-update",
            Anomaly::Other => "other",
        }
    }
}

fn took_effect_before(op: &Operation, at: Stamp) -> bool {
    op.outcome == Outcome::Ok && op.complete.is_some_and(|c| c < at)
}

/// Whether some acknowledged operation of `ops` matching `kind` lies strictly between `a` and
/// `b` in real time (after `a` completed, before `b` was invoked).
fn strictly_between(
    ops: &[&Operation],
    a: &Operation,
    b: &Operation,
    kind: fn(&KvInput) -> bool,
) -> bool {
    let Some(a_done) = a.complete else {
        return false;
    };
    ops.iter()
        .any(|op| kind(&op.input) && op.invoke > a_done && took_effect_before(op, b.invoke))
}

/// Two operations of one kind that both took effect (the later one may be open), in real-time
/// order, with no acknowledged operation of `undo`'s kind strictly between them.
fn twice_without(
    ops: &[&Operation],
    kind: fn(&KvInput) -> bool,
    undo: fn(&KvInput) -> bool,
) -> bool {
    ops.iter()
        .filter(|a| kind(&a.input) && a.outcome == Outcome::Ok)
        .any(|a| {
            ops.iter().any(|b| {
                b.id != a.id
                    && kind(&b.input)
                    && b.outcome != Outcome::Rejected
                    && a.complete.is_some_and(|c| c < b.invoke)
                    && !strictly_between(ops, a, b, undo)
            })
        })
}

fn is_create(input: &KvInput) -> bool {
    matches!(input, KvInput::Create { .. })
}

fn is_delete(input: &KvInput) -> bool {
    matches!(input, KvInput::Delete { .. })
}

/// Names the anomaly the witness operations show.
pub fn classify(history: &[Operation], ids: &[u64]) -> Anomaly {
    let ops: Vec<&Operation> = history.iter().filter(|op| ids.contains(&op.id)).collect();
    let is = |op: &&Operation, f: fn(&KvInput) -> bool| f(&op.input);
    let deletes = || {
        ops.iter()
            .filter(move |op| is(op, |i| matches!(i, KvInput::Delete { .. })))
    };
    let creates = || {
        ops.iter()
            .filter(move |op| is(op, |i| matches!(i, KvInput::Create { .. })))
    };
    let read = ops
        .iter()
        .find(|op| matches!(op.input, KvInput::Read { .. }) && op.outcome == Outcome::Ok);
    if let Some(read) = read {
        let seen = read.output.as_deref();
        let writer = seen.and_then(|v| ops.iter().find(|op| op.input.written_value() == Some(v)));
        match (seen, writer) {
            (Some(_), Some(writer)) => {
                let writer_done = writer.complete.unwrap_or(Stamp {
                    tick: u64::MAX,
                    seq: u64::MAX,
                });
                // The delete was acknowledged before the read, and the write could not have come after
                // it (it was invoked before the delete completed), so the read saw a deleted value.
                let resurrected = deletes().any(|d| {
                    took_effect_before(d, read.invoke)
                        && d.complete.is_some_and(|c| writer.invoke < c)
                });
                if resurrected {
                    // A created value coming back is a resurrected delete; an updated one means
                    // the update was applied to the deleted key.
                    return if is_create(&writer.input) {
                        Anomaly::ResurrectedDelete
                    } else {
                        Anomaly::PhantomUpdate
                    };
                }
                let newer = ops.iter().any(|u| {
                    u.input.written_value().is_some_and(|v| Some(v) != seen)
                        && took_effect_before(u, read.invoke)
                        && u.invoke > writer_done
                });
                if newer {
                    return Anomaly::StaleRead;
                }
                let earlier_create = creates().any(|c| {
                    c.id != writer.id
                        && took_effect_before(c, writer.invoke)
                        && !strictly_between(&ops, c, writer, is_delete)
                });
                if is_create(&writer.input) && earlier_create {
                    return Anomaly::DoubleCreate;
                }
                if matches!(writer.input, KvInput::Update { .. })
                    && deletes().any(|d| d.outcome == Outcome::Ok)
                {
                    return Anomaly::PhantomUpdate;
                }
            }
            (None, _) => {
                if ops.iter().any(|w| {
                    w.input.written_value().is_some() && took_effect_before(w, read.invoke)
                }) {
                    return Anomaly::MissedWrite;
                }
            }
            (Some(_), None) => {}
        }
    }
    if twice_without(&ops, is_create, is_delete) {
        return Anomaly::DoubleCreate;
    }
    if twice_without(&ops, is_delete, is_create) {
        return Anomaly::DoubleDelete;
    }
    if deletes().any(|d| d.outcome == Outcome::Ok)
        && ops
            .iter()
            .any(|u| matches!(u.input, KvInput::Update { .. }) && u.outcome == Outcome::Ok)
    {
        return Anomaly::PhantomUpdate;
    }
    Anomaly::Other
}

#[cfg(test)]
mod tests {
    use super::*;
    use checker::record::Reason;

    fn op(
        id: u64,
        input: KvInput,
        span: (u64, Option<u64>),
        outcome: Outcome,
        output: Option<&str>,
    ) -> Operation {
        Operation {
            id,
            client: id,
            coordinator: 1,
            input,
            invoke: Stamp {
                tick: span.0,
                seq: id * 2,
            },
            complete: span.1.map(|t| Stamp {
                tick: t,
                seq: id * 2 + 1,
            }),
            outcome,
            reason: Reason::Ok,
            output: output.map(String::from),
            acks: Vec::new(),
        }
    }

    fn create(v: &str) -> KvInput {
        KvInput::Create {
            key: "k".into(),
            value: v.into(),
        }
    }
    fn update(v: &str) -> KvInput {
        KvInput::Update {
            key: "k".into(),
            value: v.into(),
        }
    }
    fn read() -> KvInput {
        KvInput::Read { key: "k".into() }
    }
    fn delete() -> KvInput {
        KvInput::Delete { key: "k".into() }
    }

    #[test]
    fn each_kind_is_recognised() {
        use Outcome::{Ok, Unknown};
        let resurrected = [
            op(1, create("a"), (0, Some(2)), Ok, None),
            op(2, delete(), (3, Some(5)), Ok, None),
            op(3, read(), (9, Some(11)), Ok, Some("a")),
        ];
        assert_eq!(
            classify(&resurrected, &[1, 2, 3]),
            Anomaly::ResurrectedDelete
        );
        let stale = [
            op(1, update("a"), (0, Some(2)), Ok, None),
            op(2, update("b"), (3, Some(5)), Ok, None),
            op(3, read(), (9, Some(11)), Ok, Some("a")),
        ];
        assert_eq!(classify(&stale, &[1, 2, 3]), Anomaly::StaleRead);
        let missed = [
            op(1, create("a"), (0, Some(2)), Ok, None),
            op(3, read(), (9, Some(11)), Ok, None),
        ];
        assert_eq!(classify(&missed, &[1, 3]), Anomaly::MissedWrite);
        let double = [
            op(1, create("a"), (0, Some(2)), Ok, None),
            op(2, create("b"), (3, None), Unknown, None),
            op(3, read(), (9, Some(11)), Ok, Some("b")),
        ];
        assert_eq!(classify(&double, &[1, 2, 3]), Anomaly::DoubleCreate);
        let phantom = [
            op(1, create("a"), (0, Some(2)), Ok, None),
            op(2, delete(), (3, Some(5)), Ok, None),
            op(3, update("c"), (6, None), Unknown, None),
            op(4, read(), (9, Some(11)), Ok, Some("c")),
        ];
        assert_eq!(classify(&phantom, &[1, 2, 3, 4]), Anomaly::PhantomUpdate);
        let deletes = [
            op(1, create("a"), (0, Some(2)), Ok, None),
            op(2, delete(), (3, Some(5)), Ok, None),
            op(3, delete(), (6, Some(8)), Ok, None),
        ];
        assert_eq!(classify(&deletes, &[1, 2, 3]), Anomaly::DoubleDelete);
    }
}
