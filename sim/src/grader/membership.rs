//! The original membership grader (MP1): its three timelines and its scoring rules.

use super::log::{parse_line, LogBuilder};
use super::{Part, ScenarioRun};
use crate::net::emulnet::{DropWindow, EmulNet};
use crate::net::Network;
use crate::streams::{stream, Consumer};
use crate::trace::TraceLevel;
use crate::world::{World, WorldConfig};
use node::random::below;
use node::{NodeId, Params, Tick};
use std::collections::BTreeSet;

/// Nodes in every grader scenario.
pub const NODES: u8 = 10;
/// Ticks every grader scenario runs.
pub const TOTAL_TICKS: Tick = 700;
/// When MP1 scenarios fail nodes.
const FAIL_TICK: Tick = 100;

/// Which membership scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mp1 {
    /// One random node fails at tick 100.
    Single,
    /// Five consecutive nodes fail at tick 100.
    Multi,
    /// One node fails, and 10% of sends are dropped in ticks 51..=300.
    Drop,
}

/// The nodes of a grader world: ids 1..=10, index i starting at tick floor(0.25 i).
pub fn grader_world(seed: u64, drops: Option<DropWindow>, trace: TraceLevel) -> World {
    let nodes = (0..NODES)
        .map(|i| (NodeId(i + 1), Tick::from(i) / 4))
        .collect();
    let config = WorldConfig {
        seed,
        params: Params::original(NODES),
        nodes,
        trace,
    };
    let net = Network::Emulnet(Box::new(EmulNet::new(
        drops,
        stream(seed, Consumer::Network),
    )));
    World::new(config, net)
}

/// Runs one membership scenario and scores its log.
pub fn run(which: Mp1, seed: u64, trace: TraceLevel) -> ScenarioRun {
    let drops = (which == Mp1::Drop).then_some(DropWindow {
        from: 51,
        to: 301,
        percent: 10,
    });
    let mut world = grader_world(seed, drops, trace);
    let mut rng = stream(seed, Consumer::Scenario);
    let mut log = LogBuilder::default();
    for _ in 0..TOTAL_TICKS {
        world.run_tick();
        if world.now() == FAIL_TICK {
            let draw = below(&mut rng, u64::from(NODES)) as u8;
            let (victims, text) = match which {
                Mp1::Single | Mp1::Drop => (draw..draw + 1, "Node failed at time=100"),
                Mp1::Multi => (draw / 2..draw / 2 + NODES / 2, "Node failed at time = 100"),
            };
            for index in victims {
                let id = NodeId(index + 1);
                world.crash(id);
                let seq = world.next_seq();
                log.push(seq, FAIL_TICK, id, text);
            }
        }
        world.advance();
    }
    log.add_observations(world.observations());
    let lines = log.finish();
    let parts = score(which, &lines);
    ScenarioRun::new(lines, parts, &world)
}

/// Scores a membership log with the original rules.
pub fn score(which: Mp1, lines: &[String]) -> Vec<Part> {
    let parsed: Vec<_> = lines.iter().filter_map(|l| parse_line(l)).collect();
    let victims: Vec<&str> = parsed
        .iter()
        .filter(|l| l.message.starts_with("Node failed at time"))
        .map(|l| l.logger)
        .collect();
    // (logger, subject) of every joined / removed line.
    let pairs = |verb: &str| -> BTreeSet<(&str, &str)> {
        parsed
            .iter()
            .filter_map(|l| {
                let subject = l
                    .message
                    .strip_prefix("Node ")?
                    .split(' ')
                    .collect::<Vec<_>>();
                (subject.get(1) == Some(&verb)).then(|| (l.logger, subject[0]))
            })
            .collect()
    };
    let joins = pairs("joined");
    let removals = pairs("removed");
    let n = usize::from(NODES);
    let join_ok = joins.len() == n * n || {
        let loggers: BTreeSet<&str> = joins.iter().map(|&(l, _)| l).collect();
        loggers.len() == n
            && loggers.iter().all(|&logger| {
                joins
                    .iter()
                    .filter(|&&(l, s)| l == logger && s != logger)
                    .count()
                    == n - 1
            })
    };
    let naming = |victim: &str| removals.iter().filter(|&&(_, s)| s == victim).count();
    let not_naming = |victim: &str| removals.iter().filter(|&&(_, s)| s != victim).count();
    let (join_points, detect_points) = if which == Mp1::Drop {
        (15, 15)
    } else {
        (10, 10)
    };
    let mut parts = vec![Part::new("join", join_points, join_ok)];
    match which {
        Mp1::Single | Mp1::Drop => {
            let victim = victims.first().copied().unwrap_or("");
            parts.push(Part::new(
                "completeness",
                detect_points,
                !victim.is_empty() && naming(victim) >= n - 1,
            ));
            if which == Mp1::Single {
                parts.push(Part::new(
                    "accuracy",
                    10,
                    !victim.is_empty() && not_naming(victim) == 0,
                ));
            }
        }
        Mp1::Multi => {
            for victim in &victims {
                parts.push(Part::new(
                    format!("completeness {victim}"),
                    2,
                    naming(victim) >= n / 2,
                ));
                parts.push(Part::new(
                    format!("accuracy {victim}"),
                    2,
                    not_naming(victim) == (n / 2) * (n / 2 - 1),
                ));
            }
        }
    }
    parts
}
