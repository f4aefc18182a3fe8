//! `sync-listing` (`versioned`): a seat's answer to a steward's sync lists only keys whose vote
//! differs from the digest it answers (or that the digest does not name).
//!
//! Why the correct protocol satisfies it: a seat answers a `Sync` in the step that receives it,
//! listing each digest key whose vote ballot is not the one the digest shows, and each key it
//! holds a vote on that the digest does not name. Nothing else goes in the list. The world
//! judges the answer against the digest delivered in that same step.
//!
//! Why it matters: the steward reads a seat's silence about a key as "holds my vote", and takes
//! the keys listed as the ones to bring together. A seat that lists the keys that agree (and so
//! keeps quiet about the ones that differ) leaves every difference to client rounds and
//! hand-overs: the store still converges through them, so nothing else notices, but
//! anti-entropy, the one mechanism that repairs a key nobody touches, has gone blind.
//!
//! A record with no such listings (`classic`, a driver that does not watch messages, or a run
//! whose seats listed only what differs) holds.

use super::{Class, Violation};
use crate::record::{RunRecord, UnchangedListed};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    record
        .unchanged_listed
        .iter()
        .map(|listed| {
            let UnchangedListed {
                at,
                seat,
                steward,
                range,
                key,
            } = listed;
            let message = format!(
                "n{seat} answered n{steward}'s sync of range{range} at tick {at} listing {key:?}, \
                 whose vote is the one the digest shows"
            );
            Violation::new(Class::ListedUnchanged, message)
                .on_key(key)
                .with_nodes([*seat, *steward])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{Class, Property};
    use crate::record::{RunRecord, UnchangedListed};

    #[test]
    fn a_key_listed_unchanged_fails_and_none_holds() {
        let listed = UnchangedListed {
            at: 30,
            seat: 2,
            steward: 1,
            range: 4,
            key: "k1".into(),
        };
        let record = RunRecord {
            unchanged_listed: vec![listed],
            ..fixture::healthy()
        };
        let found = fixture::violations(&record, Property::SyncListing);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::ListedUnchanged);
        assert_eq!(
            (found[0].key.as_deref(), &found[0].nodes[..]),
            (Some("k1"), &[2, 1][..])
        );
        assert!(fixture::violations(&fixture::healthy(), Property::SyncListing).is_empty());
    }
}
