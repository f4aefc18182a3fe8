//! The membership properties, judged from the view changes each node's observations recorded.
//!
//! - `membership-completeness`: every crashed node leaves the view of every node that stayed up
//!   within `tremove_ticks` plus the detection slack (unless it restarted in the meantime, when
//!   its id rightly comes back).
//! - `membership-accuracy`: no node is removed from another's view while both are up and the
//!   network has been clean (loss-free, one constant delay, unpartitioned) for long enough that
//!   heartbeats must have arrived: the whole detection bound before the removal.

use super::timeline::Timeline;
use super::{Property, Violation};
use crate::record::{ProcessEvent, RunRecord, Stamp};

pub(super) fn completeness(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let bound_ticks = record.bounds.tremove_ticks + record.bounds.detection_slack_ticks;
    let mut violations = Vec::new();
    for event in &record.process_events {
        let ProcessEvent::Crash { at, node: crashed } = *event else {
            continue;
        };
        let deadline = at.tick + bound_ticks;
        if deadline > timeline.last_tick || timeline.restarted_after(crashed, at, deadline) {
            // The run ended too soon to tell, or the node came back under its old id.
            continue;
        }
        for &observer in &record.nodes {
            if observer == crashed || !timeline.up_throughout(observer, at.tick, deadline) {
                continue;
            }
            let view = timeline.view_at(
                observer,
                Stamp {
                    tick: deadline,
                    seq: u64::MAX,
                },
            );
            if view.contains(&crashed) {
                violations.push(Violation::new(
                    Property::MembershipCompleteness,
                    "crashed node still in a live node's view",
                    format!(
                        "node {crashed} crashed at tick {}, but node {observer} (up throughout) \
                         still had it in its view {view:?} at tick {deadline}, {bound_ticks} \
                         ticks later",
                        at.tick
                    ),
                ));
            }
        }
    }
    violations
}

pub(super) fn accuracy(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let lookback_ticks = record.bounds.tremove_ticks + record.bounds.detection_slack_ticks;
    let mut violations = Vec::new();
    for change in &record.views {
        if change.added || change.member == change.node {
            continue;
        }
        let tick = change.at.tick;
        let since = tick.saturating_sub(lookback_ticks);
        let clean = record
            .clean_network
            .iter()
            .any(|w| w.from <= since && tick < w.to);
        if !clean
            || !timeline.up_throughout(change.member, since, tick)
            || !timeline.up_at(change.node, change.at)
        {
            continue;
        }
        violations.push(Violation::new(
            Property::MembershipAccuracy,
            "live node removed on a clean network",
            format!(
                "node {} removed node {} from its view at tick {}, although node {} had been \
                 up and the network clean since tick {since}",
                change.node, change.member, tick, change.member
            ),
        ));
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{check_record, Property, Violation};
    use crate::record::{ProcessEvent, RunRecord, ViewChange, Window};
    use crate::Budget;

    fn violations(record: &RunRecord, property: Property) -> Vec<Violation> {
        check_record(record, &[property], Budget::Steps(1))
            .remove(0)
            .violations
    }

    /// Node 3 crashes at tick 200; the others remove it at `removed_at` (if given); the run
    /// goes on to tick 400.
    fn crash_of_3(removed_at: Option<u64>) -> RunRecord {
        let mut record = fixture::healthy();
        record.process_events.push(ProcessEvent::Crash {
            at: at(200, 0),
            node: 3,
        });
        for observer in [1, 2, 4, 5] {
            if let Some(tick) = removed_at {
                record.views.push(ViewChange {
                    at: at(tick, u64::from(observer)),
                    node: observer,
                    member: 3,
                    added: false,
                });
            }
        }
        // The fault phase ran long enough to judge detection.
        record.quiet_from = 400;
        record
    }

    #[test]
    fn a_crash_detected_within_the_bound_holds_both_properties() {
        // Detection bound: 20 + 10 ticks.
        let record = crash_of_3(Some(228));
        assert!(violations(&record, Property::MembershipCompleteness).is_empty());
        assert!(violations(&record, Property::MembershipAccuracy).is_empty());
    }

    #[test]
    fn a_crash_nobody_notices_is_caught() {
        // The bug: heartbeats of a dead node are still gossiped because each receiver refreshes
        // the entry's timestamp on every merge, so it never times out.
        let found = violations(&crash_of_3(None), Property::MembershipCompleteness);
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(
            found[0].signature,
            "membership-completeness: crashed node still in a live node's view"
        );
        let late = violations(&crash_of_3(Some(240)), Property::MembershipCompleteness);
        assert_eq!(late.len(), 4, "{late:?}");
    }

    #[test]
    fn a_node_that_restarted_may_stay_in_views() {
        let mut record = crash_of_3(None);
        record.process_events.push(ProcessEvent::Restart {
            at: at(210, 0),
            node: 3,
        });
        assert!(violations(&record, Property::MembershipCompleteness).is_empty());
    }

    #[test]
    fn removing_a_live_node_on_a_clean_network_is_caught() {
        // The bug: a node compares heartbeat counters with `<` instead of `<=` and suspects
        // every peer whose counter it has already seen.
        let mut record = fixture::healthy();
        record.views.push(ViewChange {
            at: at(300, 0),
            node: 2,
            member: 5,
            added: false,
        });
        let found = violations(&record, Property::MembershipAccuracy);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature,
            "membership-accuracy: live node removed on a clean network"
        );
        // The same removal right after a lossy period is not judged.
        record.clean_network = vec![Window {
            from: 280,
            to: 1000,
        }];
        assert!(violations(&record, Property::MembershipAccuracy).is_empty());
    }
}
