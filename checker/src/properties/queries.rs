//! `query-budget` (`versioned`): while the cluster stays settled, its links clean and every
//! clock steady, a node asks about one range (`Query`) in at most `3 + 2 * ceil(2d / S)` ticks,
//! where `d` is the longest delay of a clean link and `S` the sweep interval (1 tick when
//! `S` is 0, so that nodes sweep only after view changes).
//!
//! Why the correct protocol satisfies it: a node queries a range only at a sweep, and only while
//! it is not where the range's newest configuration wants it: a voter of an older epoch, a voter
//! its ring no longer names, a frozen seat, or a node the ring or the newest configuration names
//! that holds no seat. In a settled window (every live view equals the set of live nodes, no
//! range round in flight and no frozen seat at any tick's end) every steward's seats already
//! match the ring, or its next sweep would start a range round and end the window. The nodes a
//! query goes to include the newest configuration's seats, and every answer ends the reason
//! for asking: a seat the configuration names gets the range installed, and a node outside it
//! learns that the configuration is established and drops its old seat. Only that second
//! answer can wait, until the steward is established by its first sync of the window: one
//! sweep of the steward, plus a round trip. So a node queries at the sweep that opens the
//! window (its view just settled), at most `1 + ceil(2d / S)` periodic sweeps before the
//! steward is established, the one the answer follows, and at most `ceil(2d / S)` more while
//! that answer is on its way: `3 + 2 * ceil(2d / S)`. Loss, a partition or a skewed clock (a
//! steward whose clock skips its sweep ticks) can delay an answer without bound, so only windows
//! that are settled, clean and steady are judged.
//!
//! It also takes a live voter of every range's newest configuration to answer. Crashes that
//! take a range's seats down faster than they are repaired can leave a range with none (the
//! `hostile` profile's point: such a range is lost, and the nodes its ring names ask about it
//! forever), so the simulator judges it only where the fault schedule keeps a crash budget, as
//! it does `availability` and `stabilization`.
//!
//! Why it matters: a query is answered with the whole range (its votes on every key), so a
//! voter that keeps asking about a range it already holds costs a copy of the range per seat and
//! sweep, for nothing; the cluster still converges, so no other property notices.
//!
//! A record with no range events (`classic`, or a driver that does not watch them) or whose
//! driver does not give the links' longest delay is not judged.

use super::{Class, Violation};
use crate::record::{NodeId, RangeEvent, RunRecord, Tick, Window};
use std::collections::BTreeMap;

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let (interval, delay) = (
        record.bounds.sweep_interval_ticks,
        record.bounds.delay_ticks_max,
    );
    if delay == 0 {
        return Vec::new();
    }
    let budget = match interval {
        0 => 1,
        _ => 3 + 2 * (2 * delay).div_ceil(interval),
    };
    let mut found = Vec::new();
    for window in judged_windows(record) {
        // Ticks in which each (node, range) queried, the last one and how many.
        let mut asked: BTreeMap<(NodeId, u16), (Tick, u64)> = BTreeMap::new();
        for event in &record.range_events {
            let RangeEvent::Queried { at, node, range } = *event else {
                continue;
            };
            if !window.contains(at) {
                continue;
            }
            let (last, count) = asked.entry((node, range)).or_insert((at, 0));
            if *count > 0 && *last == at {
                continue; // the same tick, from a clock that ticked twice
            }
            *last = at;
            *count += 1;
            if *count == budget + 1 {
                let message = format!(
                    "n{node} queried range{range} in {count} ticks of ticks {}..{} (the \
                     cluster settled, links clean, clocks steady), the last in tick {at}: at \
                     most {budget} (3 + 2 * ceil(2 * {delay} / {interval})) there",
                    window.from, window.to
                );
                found.push(Violation::new(Class::QueriedBeyondBudget, message).with_nodes([node]));
            }
        }
    }
    found
}

/// The windows that are settled, clean and in which every clock runs at 1000 per mille.
fn judged_windows(record: &RunRecord) -> Vec<Window> {
    let steady = steady_clocks(record);
    let mut windows = Vec::new();
    for settled in &record.settled {
        for clean in &record.clean_network {
            for steady in &steady {
                let from = settled.from.max(clean.from).max(steady.from);
                let to = settled.to.min(clean.to).min(steady.to);
                if from < to {
                    windows.push(Window { from, to });
                }
            }
        }
    }
    windows
}

/// The windows in which every node's clock runs at world speed.
fn steady_clocks(record: &RunRecord) -> Vec<Window> {
    let mut rates: BTreeMap<NodeId, u64> = BTreeMap::new();
    let mut windows = Vec::new();
    let mut steady_since = Some(0);
    for change in &record.clock_rates {
        rates.insert(change.node, change.rate_permille);
        let steady = rates.values().all(|&r| r == 1000);
        match (steady_since, steady) {
            (Some(from), false) => {
                if from < change.at {
                    windows.push(Window {
                        from,
                        to: change.at,
                    });
                }
                steady_since = None;
            }
            (None, true) => steady_since = Some(change.at),
            _ => {}
        }
    }
    if let Some(from) = steady_since {
        windows.push(Window {
            from,
            to: Tick::MAX,
        });
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{Class, Property, Violation};
    use crate::record::{ClockRate, RangeEvent, RunRecord, Window};

    fn query(at: u64, range: u16) -> RangeEvent {
        RangeEvent::Queried { at, node: 3, range }
    }

    /// Node 3 queries range 1 every sweep, from tick 7 on.
    fn asking(sweeps: u64) -> RunRecord {
        let mut record = fixture::healthy();
        record.settled = vec![Window { from: 0, to: 1000 }];
        record.range_events = (0..sweeps).map(|i| query(7 + 10 * i, 1)).collect();
        record
    }

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::QueryBudget)
    }

    #[test]
    fn queries_within_the_budget_hold() {
        // The fixture's sweep interval is 10 and its longest delay 3: 3 + 2 * ceil(6 / 10) = 5.
        assert!(violations(&asking(5)).is_empty());
        // Twice in one tick counts once.
        let mut twice = asking(5);
        twice.range_events.push(query(47, 1));
        assert!(violations(&twice).is_empty());
        // Other ranges and nodes have budgets of their own.
        let mut others = asking(5);
        others.range_events.push(query(57, 2));
        assert!(violations(&others).is_empty());
    }

    #[test]
    fn a_voter_that_keeps_asking_is_caught() {
        let found = violations(&asking(8));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::QueriedBeyondBudget);
        assert_eq!(
            found[0].signature(),
            "query-budget: node queried a range beyond its budget while settled"
        );
        assert!(found[0].message.contains(
            "n3 queried range1 in 6 ticks of ticks 0..1000 (the cluster settled, links clean, \
             clocks steady), the last in tick 57: at most 5 (3 + 2 * ceil(2 * 3 / 10)) there"
        ));
    }

    #[test]
    fn unsettled_dirty_or_skewed_spans_are_not_judged() {
        let mut split = asking(8);
        split.settled = vec![Window { from: 0, to: 40 }, Window { from: 41, to: 1000 }];
        assert!(violations(&split).is_empty(), "4 and 4 queries");
        let mut dirty = asking(8);
        dirty.clean_network = vec![Window { from: 0, to: 40 }];
        assert!(violations(&dirty).is_empty());
        let mut skewed = asking(8);
        skewed.clock_rates = vec![
            ClockRate {
                at: 30,
                node: 2,
                rate_permille: 1100,
            },
            ClockRate {
                at: 500,
                node: 2,
                rate_permille: 1000,
            },
        ];
        assert!(
            violations(&skewed).is_empty(),
            "3 steady before, none after"
        );
        skewed.clock_rates[0].at = 60;
        assert_eq!(violations(&skewed).len(), 1, "6 queries before the skew");
        let mut unbounded = asking(8);
        unbounded.bounds.delay_ticks_max = 0;
        assert!(violations(&unbounded).is_empty(), "no delay bound given");
    }
}
