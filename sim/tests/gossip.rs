//! The world splits each step's gossip by the sender's view, for `gossip-fanout`.

use node::{PlantedBug, Variant};
use sim::judge::{run_checked, RunKey};
use sim::profile::{resolve_checked, Profile};
use sim::run::RunOptions;

#[test]
fn gossip_is_counted_apart_for_members_and_for_probes() {
    let (mut full_fanout, mut probed) = (false, false);
    for seed in 1..=10 {
        let scenario =
            resolve_checked(Profile::Default, Variant::Versioned, PlantedBug::None, seed)
                .expect("the profile's scenario is within its ranges");
        let key = RunKey {
            seed,
            profile: Profile::Default,
            extra: Vec::new(),
        };
        let record = run_checked(&scenario, &key, RunOptions::default())
            .execution
            .record;
        let fanout = scenario.params.gossip_fanout as u32;
        let members = record
            .gossip_peak
            .expect("nodes gossip to their members")
            .messages;
        assert!(
            members <= fanout,
            "seed {seed}: {members} > fanout {fanout}"
        );
        full_fanout |= members == fanout;
        if let Some(probes) = record.probe_peak {
            assert_eq!(probes.messages, 1, "seed {seed}: one probe a tick");
            probed = true;
        }
    }
    // Views outgrow the fanout once the nodes have joined, and nodes that have not yet heard of
    // every seed probe one outside their view.
    assert!(full_fanout, "some node gossiped to its whole fanout");
    assert!(probed, "some node probed a seed outside its view");
}
