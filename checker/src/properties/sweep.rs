//! `sweep-cadence` (`versioned`): a steward syncs a range only in a tick of its staggered
//! sweep, `(tick + id) mod sweep_interval_ticks = 0`, or when something since its previous sync
//! of that range gave it a reason to sync early: its ring changed (a member added, removed or
//! seen restarting) or a seat answered a sync with keys that differ from the digest.
//!
//! Why the correct protocol satisfies it: a `versioned` steward sends its digest of a range
//! (`Sync`) from two places only, both in a tick of its own clock. The periodic sweep runs when
//! the node's id-staggered sweep tick comes, or on the first tick after its ring changed. A
//! resync runs when a timer set by a stale answer falls due, and every sync cancels that timer.
//! So a sync off the sweep ticks needs a ring change or a stale answer since the previous sync
//! of the range (the tick of that sync included, since a clock that ticks twice in one world
//! tick can sync and then see the view change in the same world tick), or, for the first sync a
//! node sends, since it started (its own arrival in its view is a ring change).
//!
//! Why it matters: anti-entropy is most of the store's traffic when no client writes, and the
//! sweep interval and the stagger are what keep it at one digest per range per interval, spread
//! across the interval instead of in one burst. A steward that sweeps on the wrong ticks, or
//! more often than the interval, still converges, so no other property notices: only its load
//! grows (a stagger of `tick * id` instead of `tick + id` makes node 5 sweep every other tick
//! when the interval is 10).
//!
//! A record with no syncs (`classic`, or a driver that does not watch them) is not judged.

use super::{Class, Violation};
use crate::record::{NodeId, RangeEvent, RunRecord, Tick};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let interval = record.bounds.sweep_interval_ticks;
    let views = record.views.iter().map(|v| (v.node, v.at.tick));
    let rejoins = record.rejoins.iter().map(|r| (r.node, r.at.tick));
    let ring_changes: BTreeSet<(NodeId, Tick)> = views.chain(rejoins).collect();
    let changed_within = |node: NodeId, from: Option<Tick>, to: Tick| {
        let from = from.unwrap_or(0);
        ring_changes
            .range((node, from)..=(node, to))
            .next()
            .is_some()
    };
    // Per (steward, range): its last sync, if any, and whether a stale answer reached it since.
    let mut last: BTreeMap<(NodeId, u16), (Option<Tick>, bool)> = BTreeMap::new();
    let mut found = Vec::new();
    for event in &record.range_events {
        match *event {
            RangeEvent::StaleReply { node, range, .. } => {
                last.entry((node, range)).or_insert((None, false)).1 = true;
            }
            RangeEvent::Synced { at, node, range } => {
                let (since, stale) = last.get(&(node, range)).copied().unwrap_or((None, false));
                if since == Some(at) {
                    continue; // the same sweep tick, twice (a clock that ticked twice)
                }
                let on_cadence = interval > 0 && (at + Tick::from(node)).is_multiple_of(interval);
                if !on_cadence && !stale && !changed_within(node, since, at) {
                    found.push(off_cadence(node, range, at, since, interval));
                }
                last.insert((node, range), (Some(at), false));
            }
            RangeEvent::Queried { .. } => {}
        }
    }
    found
}

fn off_cadence(
    node: NodeId,
    range: u16,
    at: Tick,
    since: Option<Tick>,
    interval: Tick,
) -> Violation {
    let since = match since {
        Some(tick) => format!("its previous sync of the range at tick {tick}"),
        None => "it started".to_string(),
    };
    let message = format!(
        "n{node} synced range{range} in tick {at}, not one of its sweep ticks ((tick + {node}) \
         mod {interval} = 0), with no ring change and no stale answer since {since}"
    );
    Violation::new(Class::SyncOffCadence, message).with_nodes([node])
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::{RangeEvent, Rejoin, ViewChange};

    fn sent(at: u64, node: u8) -> RangeEvent {
        RangeEvent::Synced { at, node, range: 1 }
    }

    fn stale(at: u64, node: u8) -> RangeEvent {
        RangeEvent::StaleReply { at, node, range: 1 }
    }

    /// The fixture's sweep interval is 10: node 3 sweeps in ticks 7, 17, 27 ...
    fn violations(syncs: Vec<RangeEvent>) -> Vec<Violation> {
        let mut record = fixture::healthy();
        record.range_events = syncs;
        fixture::violations(&record, Property::SweepCadence)
    }

    #[test]
    fn syncs_on_the_sweep_ticks_hold() {
        assert!(violations(vec![sent(7, 3), sent(17, 3), sent(17, 3), sent(47, 3)]).is_empty());
        // Node 4's sweep ticks are 6, 16 ...; each (node, range) pair has its own cadence.
        let other_range = RangeEvent::Synced {
            at: 26,
            node: 3,
            range: 2,
        };
        assert!(violations(vec![sent(7, 3), sent(16, 4), other_range]).is_empty());
    }

    #[test]
    fn a_sync_after_a_stale_answer_holds() {
        assert!(violations(vec![sent(7, 3), stale(9, 3), sent(12, 3)]).is_empty());
        // The stale answer counts for the sync it follows only.
        let found = violations(vec![sent(7, 3), stale(9, 3), sent(12, 3), sent(14, 3)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("in tick 14"), "{found:?}");
        // Another range's stale answer is no reason.
        let elsewhere = RangeEvent::StaleReply {
            at: 9,
            node: 3,
            range: 2,
        };
        assert_eq!(
            violations(vec![sent(7, 3), elsewhere, sent(12, 3)]).len(),
            1
        );
    }

    #[test]
    fn a_sync_after_a_ring_change_holds() {
        // The fixture's views: node 3 adds its members in tick 1 and sees no change after.
        let mut record = fixture::healthy();
        record.range_events = vec![sent(3, 3), sent(7, 3), sent(12, 3)];
        assert_eq!(
            fixture::violations(&record, Property::SweepCadence).len(),
            1,
            "tick 3 follows its start, tick 12 follows nothing"
        );
        record.views.push(ViewChange {
            at: at(12, 5),
            node: 3,
            member: 5,
            added: false,
        });
        assert!(fixture::violations(&record, Property::SweepCadence).is_empty());
        record.views.pop();
        record.rejoins.push(Rejoin {
            at: at(10, 5),
            node: 3,
            member: 5,
        });
        assert!(fixture::violations(&record, Property::SweepCadence).is_empty());
    }

    #[test]
    fn a_sweep_on_the_wrong_ticks_is_caught() {
        // The bug: the stagger multiplies instead of adding, so node 5 sweeps every other tick.
        let found = violations(vec![sent(10, 5), sent(12, 5), sent(14, 5)]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].class, Class::SyncOffCadence);
        assert_eq!(
            found[0].signature(),
            "sweep-cadence: steward synced a range off its sweep ticks"
        );
        assert!(found[0].message.contains(
            "n5 synced range1 in tick 12, not one of its sweep ticks ((tick + 5) mod 10 = 0), \
             with no ring change and no stale answer since its previous sync of the range at \
             tick 10"
        ));
        assert_eq!(found[0].nodes, vec![5]);
    }
}
