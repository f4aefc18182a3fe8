//! The membership properties, judged from the view changes each node's observations recorded.
//!
//! - `membership-completeness`: every crashed node leaves the view of every node that stayed up
//!   within `tremove_ticks` plus the detection slack, and no node adds it back after that while
//!   it is still down (a restart rightly brings its id back). Before the bound, a node may
//!   still learn of heartbeats the crashed node sent before it died, and re-add it for a while.
//!   A clog that was holding messages after the crash may release such a heartbeat as late as
//!   its end, to a node that then passes it on: the bound then counts from the latest release.
//! - `membership-accuracy`: no node is removed from another's view while both are up and the
//!   network has been clean (loss-free, one constant delay, unpartitioned) for long enough that
//!   heartbeats must have arrived: the whole detection bound before the removal.

use super::timeline::Timeline;
use super::{Class, Violation};
use crate::record::{ProcessEvent, RunRecord, Stamp, Tick};

pub(super) fn completeness(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let bound_ticks = record.bounds.tremove_ticks + record.bounds.detection_slack_ticks;
    let mut violations = Vec::new();
    for event in &record.process_events {
        let ProcessEvent::Crash { at, node: crashed } = *event else {
            continue;
        };
        let back_at = timeline.next_restart(crashed, at);
        let still_down = |when: Stamp| match back_at {
            Some(back) => when < back,
            None => true,
        };
        for &observer in &record.nodes {
            // A node that joined after the crash learned of the dead node then: its bound
            // starts when it joined.
            let Some(joined) = timeline.joined(observer) else {
                continue;
            };
            let from = at
                .max(joined)
                .max(latest_release(record, at.tick, bound_ticks));
            let deadline = from.tick + bound_ticks;
            if observer == crashed
                || deadline > timeline.last_tick
                || !still_down(Stamp {
                    tick: deadline,
                    seq: u64::MAX,
                })
                || !timeline.up_throughout(observer, from.tick, deadline)
            {
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
                let message = format!(
                    "node {crashed} crashed at tick {}, but node {observer} (up since tick {}) \
                     still had it in its view {view:?} at tick {deadline}, {bound_ticks} ticks \
                     later",
                    at.tick, from.tick
                );
                violations.push(
                    Violation::new(Class::CrashedStillInView, message)
                        .with_nodes([crashed, observer]),
                );
                continue;
            }
            let re_added = record.views.iter().find(|change| {
                change.node == observer
                    && change.member == crashed
                    && change.added
                    && change.at.tick > deadline
                    && still_down(change.at)
                    && timeline.up_at(observer, change.at)
            });
            if let Some(change) = re_added {
                let message = format!(
                    "node {crashed} crashed at tick {} and stayed down, but node {} added it \
                     back to its view at tick {}, after the bound of {bound_ticks} ticks",
                    at.tick, change.node, change.at.tick
                );
                violations.push(
                    Violation::new(Class::CrashedAddedBack, message)
                        .with_nodes([crashed, change.node]),
                );
            }
        }
    }
    violations
}

/// When the last clog that could still be holding a heartbeat of a node that crashed at
/// `crash_tick` let it go (the crash tick itself if none could): any clog that began before the
/// detection bound was over and ended after the crash. A clog that began later can only hold
/// gossip sent when every view had given the dead node up, and the next clog is considered from
/// the release of the last, since the node it released to passes the heartbeat on.
fn latest_release(record: &RunRecord, crash_tick: Tick, bound_ticks: Tick) -> Stamp {
    let mut released = crash_tick;
    for held in &record.held_links {
        if held.until > crash_tick && held.at <= released + bound_ticks {
            released = released.max(held.until);
        }
    }
    Stamp {
        tick: released,
        seq: 0,
    }
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
        let message = format!(
            "node {} removed node {} from its view at tick {}, although node {} had been up and \
             the network clean since tick {since}",
            change.node, change.member, tick, change.member
        );
        violations.push(
            Violation::new(Class::LiveNodeRemoved, message)
                .with_nodes([change.member, change.node]),
        );
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Property, Violation};
    use crate::record::{HeldLink, ProcessEvent, RunRecord, ViewChange, Window};

    fn violations(record: &RunRecord, property: Property) -> Vec<Violation> {
        fixture::violations(record, property)
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
            found[0].signature(),
            "membership-completeness: crashed node still in a live node's view"
        );
        let late = violations(&crash_of_3(Some(240)), Property::MembershipCompleteness);
        assert_eq!(late.len(), 4, "{late:?}");
    }

    /// Node 2 adds node 3 back at tick `added_at` and removes it again at `removed_at`.
    fn node_2_hears_of_3(record: &mut RunRecord, added_at: u64, removed_at: u64) {
        for (tick, added) in [(added_at, true), (removed_at, false)] {
            record.views.push(ViewChange {
                at: at(tick, 0),
                node: 2,
                member: 3,
                added,
            });
        }
    }

    #[test]
    fn a_dead_node_brought_back_by_stale_gossip_is_caught() {
        // The bug: without tombstones, a peer's stale heartbeat entry for the dead node makes
        // a node that had removed it add it back.
        let mut record = crash_of_3(Some(222));
        node_2_hears_of_3(&mut record, 240, 250);
        let found = violations(&record, Property::MembershipCompleteness);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "membership-completeness: crashed node added back to a live node's view"
        );
        // Once node 3 has restarted, being added back is right.
        record.process_events.push(ProcessEvent::Restart {
            at: at(235, 0),
            node: 3,
        });
        assert!(violations(&record, Property::MembershipCompleteness).is_empty());
    }

    #[test]
    fn a_heartbeat_a_clog_held_past_the_crash_restarts_the_bound_at_its_release() {
        // Node 1's gossip to node 2 is held from tick 190 to 250: it carries node 3's last
        // heartbeat, so node 2 hears of node 3 again at 250 and forgets it within the bound
        // counted from there (20 + 10 ticks).
        let mut record = crash_of_3(Some(222));
        node_2_hears_of_3(&mut record, 250, 275);
        let caught = violations(&record, Property::MembershipCompleteness);
        assert_eq!(
            caught.len(),
            1,
            "without the clog it is a revival: {caught:?}"
        );
        record.held_links.push(HeldLink {
            from: 1,
            to: 2,
            at: 190,
            until: 250,
        });
        assert!(violations(&record, Property::MembershipCompleteness).is_empty());
        // Still in the view past the bound counted from the release: caught.
        record.views.pop();
        let found = violations(&record, Property::MembershipCompleteness);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("at tick 280"),
            "{}",
            found[0].message
        );
        // A clog that ended before the crash held nothing of it.
        record.held_links[0] = HeldLink {
            from: 1,
            to: 2,
            at: 150,
            until: 199,
        };
        assert_eq!(
            violations(&record, Property::MembershipCompleteness).len(),
            1
        );
    }

    #[test]
    fn a_node_that_joined_late_has_its_own_bound() {
        // Node 6 joins at tick 215 and hears of node 3 from the others; it forgets it within
        // the bound counted from its join, not from the crash.
        let mut record = crash_of_3(Some(228));
        record.nodes.push(6);
        for (tick, member, added) in [(215, 1, true), (215, 3, true), (240, 3, false)] {
            record.views.push(ViewChange {
                at: at(tick, 90 + member),
                node: 6,
                member: member as u8,
                added,
            });
        }
        assert!(violations(&record, Property::MembershipCompleteness).is_empty());
        record.views.pop();
        let found = violations(&record, Property::MembershipCompleteness);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("node 6 (up since tick 215)"),
            "{}",
            found[0].message
        );
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
            found[0].signature(),
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
