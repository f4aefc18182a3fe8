//! `gossip-fanout`: a node gossips its table to at most `gossip_fanout` members per tick, plus
//! the one seed node outside its view that it probes every probe interval.
//!
//! Why the correct protocol satisfies it: on each tick a node draws `gossip_fanout` distinct
//! members of its view (fewer if its view is smaller) and sends each its table; on a probe tick
//! it also sends its table to one seed node it does not count as a member. Nothing else sends
//! gossip, so `gossip_fanout + 1` messages in one tick of the node's own clock is the most it
//! can send whatever the network does (the world counts them per step, which on a skewed clock
//! that ticks twice in one world tick is per tick of the node's own). It is judged on sends, so
//! loss cannot hide one.
//!
//! Why it matters: heartbeat gossip is most of the traffic (every node, every tick), and the
//! fanout is what keeps it linear in the cluster's size; a node that gossips to every member
//! still converges, only with a quadratic load no other property would notice.
//!
//! A record whose driver did not watch gossip (no peak recorded, as in the real runtime) is not
//! judged.

use super::{Class, Violation};
use crate::record::RunRecord;

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let Some(peak) = record.gossip_peak else {
        return Vec::new();
    };
    let allowed = record.bounds.gossip_fanout + 1;
    if peak.messages as usize <= allowed {
        return Vec::new();
    }
    let message = format!(
        "n{} sent {} gossip messages in tick {}: its fanout is {}, plus one probe",
        peak.node, peak.messages, peak.at.tick, record.bounds.gossip_fanout
    );
    vec![Violation::new(Class::GossipBeyondFanout, message).with_nodes([peak.node])]
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::GossipPeak;

    fn violations(messages: Option<u32>) -> Vec<Violation> {
        let mut record = fixture::healthy();
        record.gossip_peak = messages.map(|messages| GossipPeak {
            at: at(40, 7),
            node: 3,
            messages,
        });
        fixture::violations(&record, Property::GossipFanout)
    }

    #[test]
    fn a_fanout_and_a_probe_in_one_tick_hold() {
        // The fixture's fanout is 2.
        assert!(violations(Some(3)).is_empty());
        assert!(violations(None).is_empty());
    }

    #[test]
    fn gossip_to_every_member_is_caught() {
        // The bug: the node sends its table to all four other members every tick.
        let found = violations(Some(4));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::GossipBeyondFanout);
        assert_eq!(
            found[0].signature(),
            "gossip-fanout: node gossiped beyond its fanout in a tick"
        );
        assert!(found[0]
            .message
            .contains("n3 sent 4 gossip messages in tick 40"));
    }
}
