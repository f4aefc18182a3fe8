//! The cheaper membership protocol the swarm draws (gossip every few ticks) has planted-bug
//! coverage of its own: each membership bug is found, through the real pipeline (profile,
//! run, checker), by runs that gossip less often than every tick, and the same kind of runs
//! without a bug pass.

use checker::properties::Property;
use node::{PlantedBug, Tick, Variant};
use sim::hunt::variant_for;
use sim::judge::{run_checked, RunKey};
use sim::profile::{gossip_interval_ticks_max, resolve, Profile};
use sim::run::RunOptions;
use sim::scenario::Scenario;

/// The bugs that break membership itself.
const MEMBERSHIP_BUGS: [PlantedBug; 3] = [
    PlantedBug::NeverRemove,
    PlantedBug::SingleMissRemoval,
    PlantedBug::StaleGossipRevives,
];

/// Seeds looked at per bug and interval before giving up.
const SEEDS_MAX: u64 = 2_000;

/// The default-profile seeds (from 1) whose scenario gossips every `interval` ticks.
fn seeds_with(
    variant: Variant,
    bug: PlantedBug,
    interval: Tick,
) -> impl Iterator<Item = (u64, Scenario)> {
    (1..=SEEDS_MAX).filter_map(move |seed| {
        let scenario = resolve(Profile::Default, variant, bug, seed);
        (scenario.params.gossip_interval_ticks == interval).then_some((seed, scenario))
    })
}

/// The first violated property of a default-profile run.
fn first_violation(seed: u64, scenario: &Scenario) -> Option<Property> {
    let key = RunKey {
        seed,
        profile: Profile::Default,
        extra: Vec::new(),
    };
    let checked = run_checked(scenario, &key, RunOptions::default());
    checked.judgement.first().map(|found| found.property)
}

#[test]
fn every_membership_bug_is_found_by_runs_that_gossip_every_few_ticks() {
    for bug in MEMBERSHIP_BUGS {
        let property: Property = bug.info().property.parse().unwrap();
        for interval in 2..=gossip_interval_ticks_max(variant_for(bug)) {
            let found = seeds_with(variant_for(bug), bug, interval)
                .take(40)
                .find(|(seed, scenario)| first_violation(*seed, scenario) == Some(property));
            assert!(
                found.is_some(),
                "{} not found as {property:?} by 40 runs gossiping every {interval} ticks",
                bug.info().name
            );
        }
    }
}

#[test]
fn runs_that_gossip_every_few_ticks_without_a_bug_pass() {
    for variant in [Variant::Versioned, Variant::Classic] {
        for interval in 2..=gossip_interval_ticks_max(variant) {
            for (seed, scenario) in seeds_with(variant, PlantedBug::None, interval).take(30) {
                assert_eq!(
                    first_violation(seed, &scenario),
                    None,
                    "{variant:?} seed {seed}, gossip every {interval} ticks"
                );
            }
        }
    }
}
