//! `handover-reported` (`versioned`): every written key a hand-over sends is reported, once per
//! message, by its sender, and nothing else is: in each tick, the keys of the `Install` messages a
//! node sends another are exactly the keys of its `HandedOver` observations naming that node.
//!
//! Why the correct protocol satisfies it: every `Install` a `versioned` node sends goes through
//! one function, which observes each written key of the votes it carries (a key whose vote holds
//! version 0 was never written, so no copy moves) in the step that sends the message.
//!
//! Why it matters: `HandedOver` is what the trace shows of a hand-over (`handover k -> n3`) and
//! what fuzz summaries count as `stabilization-handover` coverage, which is how a person tells
//! whether a campaign reached hand-overs at all. A report that drops keys or hand-overs hides the
//! part of the run that moved the data, and no other property looks at it.
//!
//! A node's hand-over to itself is not judged: its store takes messages to itself at once, so
//! the network never carries them. A record with no hand-overs (`classic`, whose stabilization
//! sends writes, or a driver that does not watch messages) is not judged either.

use super::{Class, Violation};
use crate::record::{HandoverKey, HandoverSeen, NodeId, RunRecord, Tick};
use std::collections::BTreeMap;

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    // Per (tick, sender, receiver, key): keys sent minus keys reported.
    let mut balance: BTreeMap<(Tick, NodeId, NodeId, &str), i64> = BTreeMap::new();
    for HandoverKey {
        at,
        from,
        to,
        key,
        seen,
    } in record.handovers.iter().filter(|h| h.from != h.to)
    {
        let side = match seen {
            HandoverSeen::Sent => 1,
            HandoverSeen::Reported => -1,
        };
        *balance.entry((*at, *from, *to, key)).or_default() += side;
    }
    balance
        .into_iter()
        .filter(|(_, b)| *b != 0)
        .map(|((at, from, to, key), b)| {
            let (count, what) = if b > 0 {
                (b, "sent without a report")
            } else {
                (-b, "reported but not sent")
            };
            let message = format!("n{from} handed {key:?} to n{to} at tick {at}: {count} {what}");
            Violation::new(Class::HandoverUnreported, message)
                .on_key(key)
                .with_nodes([from, to])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{Class, Property};
    use crate::record::{HandoverKey, HandoverSeen, RunRecord};

    fn key(at: u64, seen: HandoverSeen) -> HandoverKey {
        HandoverKey {
            at,
            from: 1,
            to: 3,
            key: "k1".into(),
            seen,
        }
    }

    fn classes(handovers: Vec<HandoverKey>) -> Vec<Class> {
        let record = RunRecord {
            handovers,
            ..fixture::healthy()
        };
        fixture::violations(&record, Property::HandoverReported)
            .into_iter()
            .map(|v| v.class)
            .collect()
    }

    #[test]
    fn a_handover_reported_in_its_tick_holds() {
        use HandoverSeen::*;
        assert!(classes(vec![
            key(5, Sent),
            key(5, Reported),
            key(9, Sent),
            key(9, Reported)
        ])
        .is_empty());
        // A node's hand-over to itself never reaches the network: its report stands alone.
        let to_itself = HandoverKey {
            to: 1,
            ..key(5, Reported)
        };
        assert!(classes(vec![to_itself]).is_empty());
    }

    #[test]
    fn an_unreported_or_an_invented_handover_fails() {
        use HandoverSeen::*;
        assert_eq!(classes(vec![key(5, Sent)]), [Class::HandoverUnreported]);
        assert_eq!(classes(vec![key(5, Reported)]), [Class::HandoverUnreported]);
        // A resend is a second message: it needs a second report.
        assert_eq!(
            classes(vec![key(5, Sent), key(5, Reported), key(5, Sent)]),
            [Class::HandoverUnreported]
        );
        // A report in another tick does not stand for the message.
        assert_eq!(
            classes(vec![key(5, Sent), key(6, Reported)]),
            [Class::HandoverUnreported, Class::HandoverUnreported]
        );
    }
}
