//! `no-panic`: the run ran to its end. A panic inside a run (a failed assertion or `expect` in
//! node code, an index out of range, a harness bug) is a failure the run found, like any
//! violated property: the driver stops the run there, records the panic, and the failing seed is
//! kept, shrunk and replayed as for any other property, instead of the whole campaign dying with
//! the seed lost. Node code may therefore state its invariants as assertions (TigerBeetle-style):
//! fuzzing reports the first run that breaks one.

use super::{Class, Violation};
use crate::record::RunRecord;

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    record
        .panic
        .iter()
        .map(|panic| {
            // The signature keeps where it was raised and the message's first line, so
            // distinct panics stay distinct failures and a long message stays readable.
            let first_line = panic.message.lines().next().unwrap_or_default();
            let what = match &panic.location {
                Some(at) => format!("{first_line} (at {at})"),
                None => first_line.to_string(),
            };
            Violation::new(
                Class::Panicked(what),
                format!("the run stopped at tick {}: {}", panic.at, panic.message),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::Property;
    use crate::record::Panic;

    #[test]
    fn a_run_that_ended_holds_and_a_panic_fails_with_its_first_line() {
        let mut record = fixture::healthy();
        assert!(fixture::violations(&record, Property::NoPanic).is_empty());
        record.panic = Some(Panic {
            at: 42,
            message: "a joined node never asks to join\nmore".to_string(),
            location: None,
        });
        let found = fixture::violations(&record, Property::NoPanic);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].signature(),
            "no-panic: panicked: a joined node never asks to join"
        );
        assert!(found[0].message.contains("tick 42"), "{}", found[0].message);
        record.panic.as_mut().unwrap().location = Some("node/src/membership.rs:9:9".into());
        assert_eq!(
            fixture::violations(&record, Property::NoPanic)[0].signature(),
            "no-panic: panicked: a joined node never asks to join (at node/src/membership.rs:9:9)"
        );
    }
}
