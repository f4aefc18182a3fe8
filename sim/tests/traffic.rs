//! What the world records about the nodes' traffic for the checker: gossip split by the sender's
//! view, for `gossip-fanout`, and the `versioned` store's syncs, the stale answers to them and
//! its queries, for `sweep-cadence` and `query-budget`.

use checker::properties::Property;
use checker::record::RangeEvent;
use node::{PlantedBug, Variant};
use sim::judge::{run_checked, Checked, RunKey};
use sim::profile::{resolve_checked, Profile};
use sim::run::RunOptions;
use sim::scenario::Scenario;

/// The default profile's first ten seeds of `variant`, run and judged.
fn default_runs(variant: Variant) -> impl Iterator<Item = (u64, Scenario, Checked)> {
    (1..=10).map(move |seed| {
        let scenario = resolve_checked(Profile::Default, variant, PlantedBug::None, seed)
            .expect("the profile's scenario is within its ranges");
        let key = RunKey {
            seed,
            profile: Profile::Default,
            extra: Vec::new(),
        };
        let checked = run_checked(&scenario, &key, RunOptions::default());
        (seed, scenario, checked)
    })
}

#[test]
fn gossip_is_counted_apart_for_members_and_for_probes() {
    let (mut full_fanout, mut probed) = (false, false);
    for (seed, scenario, checked) in default_runs(Variant::Versioned) {
        let record = checked.execution.record;
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

#[test]
fn syncs_stale_answers_and_queries_are_recorded() {
    let (mut on_cadence, mut off_cadence, mut stale_answers, mut queries) = (0, 0, 0, 0);
    for (seed, scenario, checked) in default_runs(Variant::Versioned) {
        let record = &checked.execution.record;
        let interval = record.bounds.sweep_interval_ticks;
        assert_eq!(interval, scenario.params.sweep_interval_ticks);
        for event in &record.range_events {
            match *event {
                RangeEvent::Synced { at, node, .. } => {
                    if (at + u64::from(node)).is_multiple_of(interval) {
                        on_cadence += 1;
                    } else {
                        off_cadence += 1;
                    }
                }
                RangeEvent::StaleReply { .. } => stale_answers += 1,
                RangeEvent::Queried { .. } => queries += 1,
            }
        }
        for property in [Property::SweepCadence, Property::QueryBudget] {
            assert!(
                checked.properties.contains(&property),
                "versioned judges {property}"
            );
        }
        assert!(record.bounds.delay_ticks_max >= scenario.quiet_delay_ticks);
        assert!(
            checked.judgement.violations.is_empty(),
            "seed {seed}: {:?}",
            checked.judgement.violations
        );
    }
    // Most syncs are sweeps; some follow a view change or a stale answer, and both reasons are
    // recorded, so the property judges the syncs that need one.
    assert!(
        on_cadence > off_cadence,
        "{on_cadence} on, {off_cadence} off"
    );
    assert!(
        off_cadence > 0,
        "some syncs follow a view change or a stale answer"
    );
    assert!(stale_answers > 0, "some answers list stale keys");
    assert!(
        queries > 0,
        "nodes that join or restart ask about their ranges"
    );
}

#[test]
fn classic_runs_record_no_syncs() {
    for (seed, _, checked) in default_runs(Variant::Classic) {
        assert!(
            checked.execution.record.range_events.is_empty(),
            "seed {seed}"
        );
        assert!(!checked.properties.contains(&Property::SweepCadence));
        assert!(!checked.properties.contains(&Property::QueryBudget));
    }
}
