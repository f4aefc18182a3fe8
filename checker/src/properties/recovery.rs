//! `recovery-reports` (`versioned`): a node reports that it refused to vote in a range's epoch
//! for not having recovered it (`NotRecovered`) only if it has not installed the range in that
//! epoch (`RangeRecovered`) since it last started.
//!
//! Why the correct protocol satisfies it: a node that installed a range in epoch E holds a seat
//! of E from then on until it restarts, or until it learns a newer epoch. While it is a voter of
//! E it votes; a seat of E frozen by a seal refuses to vote, but as frozen, not as unrecovered,
//! and reports nothing; once it knows a newer epoch it refuses a proposal of E as moved
//! (`EpochRefused`). So `NotRecovered` for E comes only from a node that never installed E
//! since its start: a restarted node, a new replica before its hand-over, or a node asked about
//! an epoch it has not heard of.
//!
//! Why it matters: these reports are the trace's account of why a round could not get votes,
//! and the fuzz summary's `not-recovered` coverage counts them. A node that reports its frozen
//! seats as unrecovered (and its unrecovered ones not at all) sends a person debugging a stalled
//! hand-over after the wrong nodes, and no other property reads the reports.
//!
//! Epoch 0 is not judged: its seat is the introducer's from the start, with no report.

use super::timeline::Timeline;
use super::{Class, Violation};
use crate::record::{Recovery, RunRecord};

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for refused in record
        .recoveries
        .iter()
        .filter(|r| !r.recovered && r.epoch > 0)
    {
        let Some(since) = timeline.started(refused.node, refused.at) else {
            continue;
        };
        let installed = record.recoveries.iter().find(|r| {
            let Recovery {
                at,
                node,
                range,
                epoch,
                recovered,
            } = r;
            *recovered
                && *node == refused.node
                && (*range, *epoch) == (refused.range, refused.epoch)
                && since <= *at
                && *at < refused.at
        });
        if let Some(installed) = installed {
            let message = format!(
                "n{} reported range{} epoch {} not recovered at tick {}, having installed it at \
                 tick {} since it started",
                refused.node, refused.range, refused.epoch, refused.at.tick, installed.at.tick
            );
            found.push(
                Violation::new(Class::RecoveredReportedMissing, message).with_nodes([refused.node]),
            );
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property};
    use crate::record::{ProcessEvent, Recovery, RunRecord};

    fn report(tick: u64, epoch: u64, recovered: bool) -> Recovery {
        Recovery {
            at: at(tick, 2),
            node: 2,
            range: 4,
            epoch,
            recovered,
        }
    }

    fn classes(record: RunRecord) -> Vec<Class> {
        fixture::violations(&record, Property::RecoveryReports)
            .into_iter()
            .map(|v| v.class)
            .collect()
    }

    #[test]
    fn not_recovered_before_installing_or_for_another_epoch_holds() {
        let recoveries = vec![
            report(10, 1, false),
            report(12, 1, true),
            report(14, 2, false),
        ];
        let record = RunRecord {
            recoveries,
            ..fixture::healthy()
        };
        assert!(classes(record).is_empty());
    }

    #[test]
    fn not_recovered_after_installing_fails_unless_the_node_restarted() {
        let recoveries = vec![report(12, 1, true), report(20, 1, false)];
        let record = RunRecord {
            recoveries: recoveries.clone(),
            ..fixture::healthy()
        };
        assert_eq!(classes(record), [Class::RecoveredReportedMissing]);
        let mut restarted = RunRecord {
            recoveries,
            ..fixture::healthy()
        };
        restarted.process_events.push(ProcessEvent::Crash {
            at: at(15, 0),
            node: 2,
        });
        restarted.process_events.push(ProcessEvent::Restart {
            at: at(16, 0),
            node: 2,
        });
        assert!(classes(restarted).is_empty());
    }
}
