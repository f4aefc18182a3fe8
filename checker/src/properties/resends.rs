//! `resend-pacing` (`versioned`): a proposer sends a phase message of a round (`Prepare`,
//! `Accept`, `SealPrepare`, `SealAccept`: one ballot, one key or range) to the same node at most
//! once in any two consecutive ticks.
//!
//! Why the correct protocol satisfies it: a round sends each phase once to every member when the
//! phase begins, and again only to the members that have not answered, once the phase has waited
//! its resend interval since the last send (`now >= sent_at + resend`, with `sent_at` moved to
//! the resend). That interval is about two round trips as the node has seen them, clamped to at
//! least 2 ticks and at most half an operation timeout; a new attempt takes a new ballot. So two
//! sends of one phase message to one node are at least 2 ticks apart, whatever the network or the
//! clocks do (a node's `now` is world time; a fast clock ticks twice in one world tick, and the
//! second tick finds the phase just resent).
//!
//! Why it matters: a resend that fires early, or every tick, still converges, so no other
//! property notices; it multiplies a round's messages by the round trip in ticks, on the links
//! that are already slow. A round that resends every tick while it waits (`>=` turned `<` in
//! the timer) sends a seat with a 20-tick delay twenty copies of each phase.
//!
//! A record with no quick resends (`classic`, a driver that does not watch messages, or a run
//! whose proposers kept their pace) holds.

use super::{Class, Violation};
use crate::record::{QuickResend, RunRecord};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    record
        .quick_resends
        .iter()
        .map(|resend| {
            let QuickResend {
                at,
                from,
                to,
                what,
                ballot,
                gap_ticks,
            } = resend;
            let message = format!(
                "n{from} sent {what} under ballot {ballot} to n{to} at tick {at}, {gap_ticks} \
                 tick(s) after the same message (a resend waits at least 2 ticks)"
            );
            Violation::new(Class::ResentTooSoon, message).with_nodes([*from, *to])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{Class, Property};
    use crate::record::{Ballot, QuickResend, RunRecord};

    #[test]
    fn a_quick_resend_fails_and_none_holds() {
        let resend = QuickResend {
            at: 12,
            from: 1,
            to: 3,
            what: "accept k1".into(),
            ballot: Ballot {
                epoch: 1,
                round: 11,
                node: 1,
                incarnation: 0,
            },
            gap_ticks: 1,
        };
        let record = RunRecord {
            quick_resends: vec![resend],
            ..fixture::healthy()
        };
        let found = fixture::violations(&record, Property::ResendPacing);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::ResentTooSoon);
        assert!(found[0]
            .message
            .contains("accept k1 under ballot e1.r11.n1.i0 to n3 at tick 12"));
        assert_eq!(found[0].nodes, vec![1, 3]);
        assert!(fixture::violations(&fixture::healthy(), Property::ResendPacing).is_empty());
    }
}
