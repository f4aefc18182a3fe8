//! `convergence`: at the end of the run every live node's view is exactly the set of live nodes.

use super::{Class, Violation};
use crate::record::{NodeId, RunRecord};

pub(super) fn check(record: &RunRecord) -> Vec<Violation> {
    let live: Vec<NodeId> = record
        .final_nodes
        .iter()
        .filter(|n| n.live)
        .map(|n| n.node)
        .collect();
    let mut violations = Vec::new();
    for node in record.final_nodes.iter().filter(|n| n.live) {
        let missing: Vec<NodeId> = live
            .iter()
            .copied()
            .filter(|n| !node.view.contains(n))
            .collect();
        let extra: Vec<NodeId> = node
            .view
            .iter()
            .copied()
            .filter(|n| !live.contains(n))
            .collect();
        let class = match (missing.is_empty(), extra.is_empty()) {
            (true, true) => continue,
            (false, _) => Class::ViewMissesLiveNode,
            (true, false) => Class::ViewKeepsDownNode,
        };
        let message = format!(
            "node {}'s final view {:?} differs from the live nodes {live:?}: missing \
             {missing:?}, extra {extra:?}",
            node.node, node.view
        );
        violations.push(Violation::new(class, message).with_nodes([node.node]));
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::super::{Property, Violation};
    use crate::record::RunRecord;

    fn violations(record: &RunRecord) -> Vec<Violation> {
        fixture::violations(record, Property::Convergence)
    }

    #[test]
    fn equal_views_of_the_live_nodes_hold() {
        let mut record = fixture::healthy();
        assert!(violations(&record).is_empty());
        // A node that is down at the end is in no live view.
        record.final_nodes[4].live = false;
        for node in &mut record.final_nodes[..4] {
            node.view.retain(|&n| n != 5);
        }
        assert!(violations(&record).is_empty());
    }

    #[test]
    fn a_restarted_node_nobody_re_added_is_caught() {
        // The bug: a node that restarts under its old id is ignored by peers that still hold a
        // higher heartbeat counter for it, so it never rejoins their views.
        let mut record = fixture::healthy();
        for node in &mut record.final_nodes[..4] {
            node.view.retain(|&n| n != 5);
        }
        let found = violations(&record);
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0].signature(), "convergence: view misses a live node");
        assert!(
            found[0].message.contains("missing [5]"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_dead_node_kept_in_a_view_is_caught() {
        let mut record = fixture::healthy();
        record.final_nodes[4].live = false;
        for node in &mut record.final_nodes[..3] {
            node.view.retain(|&n| n != 5);
        }
        let found = violations(&record);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].signature(),
            "convergence: view keeps a node that is down"
        );
    }
}
