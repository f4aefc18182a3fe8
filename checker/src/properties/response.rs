//! `bounded-response`: a coordinator that stays up answers every request within its operation
//! timeout plus a slack. A request whose coordinator crashed before the deadline is exempt; a
//! request never answered counts once the run went on past its deadline.

use super::timeline::Timeline;
use super::{Class, OpKind, Violation};
use crate::record::{Reason, RunRecord};

pub(super) fn check(record: &RunRecord, timeline: &Timeline<'_>) -> Vec<Violation> {
    let limit_ticks = record.bounds.op_timeout_ticks + record.bounds.response_slack_ticks;
    let mut violations = Vec::new();
    for op in &record.history {
        if op.reason == Reason::CoordinatorCrashed {
            continue;
        }
        let deadline = op.invoke.tick + limit_ticks;
        let answered = op.complete.map(|c| c.tick);
        let (late, judged_until) = match answered {
            Some(tick) if tick > deadline => (true, deadline),
            None if timeline.last_tick > deadline => (false, deadline),
            _ => continue,
        };
        if !timeline.up_throughout(op.coordinator, op.invoke.tick, judged_until) {
            continue;
        }
        let kind = OpKind::of(&op.input);
        let (class, what) = match answered {
            Some(tick) if late => (
                Class::AnsweredLate(kind),
                format!(
                    "answered at tick {tick}, {} ticks after",
                    tick - op.invoke.tick
                ),
            ),
            _ => (
                Class::NeverAnswered(kind),
                format!(
                    "never answered; the run went on to tick {}",
                    timeline.last_tick
                ),
            ),
        };
        let message = format!(
            "op {} ({kind} {:?}, coordinator {} up throughout) invoked at tick {}: {what}; the \
             bound is {limit_ticks} ticks",
            op.id,
            op.input.key(),
            op.coordinator,
            op.invoke.tick
        );
        violations.push(Violation::by_op(class, op, message));
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Property, Violation};
    use crate::record::{Outcome, ProcessEvent, Reason, RunRecord};

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::BoundedResponse)
    }

    #[test]
    fn answers_within_timeout_and_slack_hold() {
        let mut record = fixture::healthy();
        // A timeout answered exactly at the bound (10 + 5 ticks) is still in time.
        let op = &mut record.history[2];
        op.complete = Some(at(op.invoke.tick + 15, 3));
        op.outcome = Outcome::Unknown;
        op.reason = Reason::Timeout;
        op.output = None;
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn a_request_the_coordinator_forgot_is_caught() {
        // The bug: the coordinator drops its pending-request entry when a replica's answer is
        // lost, so the client never hears back although the run goes on.
        let mut record = fixture::healthy();
        record.history[2].complete = None;
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "bounded-response: read never answered"
        );
        assert!(
            found[0].message.starts_with("op 3 "),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_late_answer_is_caught_unless_the_coordinator_crashed() {
        let mut record = fixture::healthy();
        record.history[2].complete = Some(at(140, 3));
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "bounded-response: read answered after the timeout"
        );
        record.process_events.push(ProcessEvent::Crash {
            at: at(111, 0),
            node: 1,
        });
        assert!(violations(&record).is_empty());
    }
}
