//! `gossip-fanout`: in one tick of its own clock, a node gossips its table to at most
//! `gossip_fanout` members of its view, and to at most one node outside it: the seed node it
//! probes every probe interval.
//!
//! Why the correct protocol satisfies it: on each tick a node draws `gossip_fanout` distinct
//! members of its view (fewer if its view is smaller) and sends each its table; on a probe tick
//! it also sends its table to one seed node it does not count as a member, and to none if it
//! counts every seed. Nothing else sends gossip, whatever the network does. The world counts a
//! step's gossip when the step ends, splitting the targets by the sender's view then; a tick
//! changes the view only before it gossips (failure detection comes first), so that is the view
//! the targets were drawn from. It counts per step, which on a skewed clock that ticks twice in
//! one world tick is per tick of the node's own, and on sends, so loss cannot hide one.
//!
//! Why it matters: heartbeat gossip is most of the traffic (every node, every tick), and the
//! fanout is what keeps it linear in the cluster's size; a node that gossips to every member
//! still converges, only with a quadratic load no other property would notice. A probe that
//! lands inside the view is wasted: it is what heals a long partition (each side having removed
//! the other), so a probe that picks among members heals it later or never, and a probe sent
//! when every seed is a member is load for nothing.
//!
//! A record whose driver did not watch gossip (no peak recorded, as in the real runtime) is not
//! judged.

use super::{Class, Violation};
use crate::record::{GossipPeak, RunRecord};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let fanout = record.bounds.gossip_fanout;
    let mut found = Vec::new();
    let beyond =
        |peak: Option<GossipPeak>, allowed: usize| peak.filter(|p| p.messages as usize > allowed);
    if let Some(peak) = beyond(record.gossip_peak, fanout) {
        let message = format!(
            "n{} gossiped to {} members of its view in tick {}: its fanout is {fanout}",
            peak.node, peak.messages, peak.at.tick
        );
        found.push(Violation::new(Class::GossipBeyondFanout, message).with_nodes([peak.node]));
    }
    if let Some(peak) = beyond(record.probe_peak, 1) {
        let message = format!(
            "n{} gossiped to {} nodes outside its view in tick {}: it probes one",
            peak.node, peak.messages, peak.at.tick
        );
        found.push(Violation::new(Class::ProbedBeyondOne, message).with_nodes([peak.node]));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::{Class, Property, Violation};
    use crate::record::GossipPeak;

    fn peak(messages: u32) -> GossipPeak {
        GossipPeak {
            at: at(40, 7),
            node: 3,
            messages,
        }
    }

    fn violations(members: Option<u32>, outsiders: Option<u32>) -> Vec<Violation> {
        let mut record = fixture::healthy();
        record.gossip_peak = members.map(peak);
        record.probe_peak = outsiders.map(peak);
        fixture::violations(&record, Property::GossipFanout)
    }

    #[test]
    fn a_fanout_and_a_probe_in_one_tick_hold() {
        // The fixture's fanout is 2.
        assert!(violations(Some(2), Some(1)).is_empty());
        assert!(violations(None, None).is_empty());
    }

    #[test]
    fn gossip_to_every_member_is_caught() {
        // The bug: the node sends its table to all four other members every tick.
        let found = violations(Some(4), None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::GossipBeyondFanout);
        assert_eq!(
            found[0].signature(),
            "gossip-fanout: node gossiped beyond its fanout in a tick"
        );
        assert!(found[0]
            .message
            .contains("n3 gossiped to 4 members of its view in tick 40"));
    }

    #[test]
    fn a_probe_that_lands_inside_the_view_is_caught() {
        // The bug: the probe draws among every seed, members included, so on a probe tick the
        // node gossips to its fanout and one more member.
        let found = violations(Some(3), Some(1));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::GossipBeyondFanout);
    }

    #[test]
    fn two_probes_in_one_tick_are_caught() {
        let found = violations(Some(2), Some(2));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Class::ProbedBeyondOne);
        assert_eq!(
            found[0].signature(),
            "gossip-fanout: node gossiped to more than one node outside its view in a tick"
        );
        assert!(found[0]
            .message
            .contains("n3 gossiped to 2 nodes outside its view in tick 40"));
    }
}
