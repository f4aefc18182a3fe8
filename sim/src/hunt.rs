//! `sim hunt`: how fast the harness finds each planted bug, the way mutation testing measures a
//! test suite. For each bug: fuzz from several starting seeds until the first failure, take the
//! median runs and seconds, and shrink the first counterexample to report its size.

use crate::judge::{run_checked, RunKey};
use crate::profile::{resolve, Profile};
use crate::run::RunOptions;
use crate::shrink::{shrink, Target};
use checker::properties::Property;
use node::{PlantedBug, Variant};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Starting seeds per bug; the medians are over these.
pub const STARTS: u64 = 5;
/// Distance between starting seeds, so their ranges do not overlap.
const START_STRIDE: u64 = 1_000_003;
/// Runs a hunt's shrink may spend.
const SHRINK_MAX_RUNS: u64 = 300;

/// What one bug's hunt found.
#[derive(Debug, Clone, PartialEq)]
pub struct BugHunt {
    /// The bug.
    pub bug: PlantedBug,
    /// The variant it ran on.
    pub variant: Variant,
    /// Whether any start found a failure.
    pub found: bool,
    /// The property that caught it (first start that found it).
    pub property: Option<Property>,
    /// Median runs to the first failure over the starts (a start that found nothing counts as
    /// its whole budget).
    pub median_runs: u64,
    /// Median seconds to the first failure.
    pub median_seconds: f64,
    /// Trace events of the shrunk counterexample.
    pub shrunk_events: u64,
    /// Client operations of the shrunk counterexample.
    pub shrunk_ops: u64,
}

/// The variant a bug is hunted on: the one it applies to, or the default one.
pub fn variant_for(bug: PlantedBug) -> Variant {
    bug.info()
        .variant
        .and_then(Variant::parse)
        .unwrap_or_default()
}

/// One start's result: runs to the first failure, seconds, and the failing seed and property.
type StartResult = (u64, f64, Option<(u64, Property)>);

fn hunt_from(bug: PlantedBug, variant: Variant, start: u64, budget_runs: u64) -> StartResult {
    let began = Instant::now();
    for i in 0..budget_runs {
        let seed = start.wrapping_add(i); // like fuzz: `--runs` near u64::MAX must not overflow
        let scenario = resolve(Profile::Default, variant, bug, seed);
        let key = RunKey {
            seed,
            profile: Profile::Default,
            extra: Vec::new(),
        };
        let checked = run_checked(&scenario, &key, RunOptions::default());
        if let Some(found) = checked.judgement.first() {
            return (
                i + 1,
                began.elapsed().as_secs_f64(),
                Some((seed, found.property)),
            );
        }
    }
    (budget_runs, began.elapsed().as_secs_f64(), None)
}

fn median<T: Copy + PartialOrd>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    values[values.len() / 2]
}

/// `f` of every item, in order, computed on `jobs` threads that each take the next item.
fn parallel_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else {
                    return;
                };
                let result = f(item);
                results.lock().expect("no worker panicked")[i] = Some(result);
            });
        }
    });
    let results = results.into_inner().expect("no worker panicked");
    results
        .into_iter()
        .map(|r| r.expect("every item computed"))
        .collect()
}

/// Trace events and client operations of the shrunk counterexample of `seed`.
fn shrunk_size(bug: PlantedBug, seed: u64, property: Property) -> (u64, u64) {
    let scenario = resolve(Profile::Default, variant_for(bug), bug, seed);
    let key = RunKey {
        seed,
        profile: Profile::Default,
        extra: Vec::new(),
    };
    let run = shrink(
        &scenario,
        &key,
        &Target::property(property),
        SHRINK_MAX_RUNS,
    )
    .run;
    (
        run.execution.world.trace().events(),
        run.execution.record.history.len() as u64,
    )
}

/// Hunts `bugs`, spreading (bug, start) jobs, then the shrinks of each bug's first
/// counterexample, over `jobs` threads.
pub fn hunt(bugs: &[PlantedBug], budget_runs: u64, jobs: usize) -> Vec<BugHunt> {
    let tasks: Vec<(PlantedBug, u64)> = bugs
        .iter()
        .flat_map(|&bug| (0..STARTS).map(move |s| (bug, 1 + s * START_STRIDE)))
        .collect();
    let results = parallel_map(&tasks, jobs, |&(bug, start)| {
        hunt_from(bug, variant_for(bug), start, budget_runs)
    });
    let starts: Vec<&[StartResult]> = results.chunks(STARTS as usize).collect();
    let firsts: Vec<(PlantedBug, Option<(u64, Property)>)> = bugs
        .iter()
        .zip(&starts)
        .map(|(&bug, starts)| (bug, starts.iter().find_map(|(_, _, f)| *f)))
        .collect();
    let sizes = parallel_map(&firsts, jobs, |&(bug, first)| {
        first.map_or((0, 0), |(seed, property)| shrunk_size(bug, seed, property))
    });
    firsts
        .iter()
        .zip(starts)
        .zip(sizes)
        .map(
            |((&(bug, first), starts), (shrunk_events, shrunk_ops))| BugHunt {
                bug,
                variant: variant_for(bug),
                found: first.is_some(),
                property: first.map(|(_, p)| p),
                median_runs: median(starts.iter().map(|(r, _, _)| *r).collect()),
                median_seconds: median(starts.iter().map(|(_, t, _)| *t).collect()),
                shrunk_events,
                shrunk_ops,
            },
        )
        .collect()
}

/// The catalog as a table a person reads (and the README reproduces).
pub fn catalog_table() -> String {
    let mut out = String::from(
        "| bug | area | variant | caught by | what goes wrong |\n|---|---|---|---|---|\n",
    );
    for bug in PlantedBug::ALL
        .into_iter()
        .filter(|b| *b != PlantedBug::None)
    {
        let i = bug.info();
        out += &format!(
            "| `{}` | {} | {} | `{}` | {} |\n",
            i.name,
            i.area,
            i.variant.unwrap_or("any"),
            i.property,
            i.description
        );
    }
    out
}

/// Hunt results as a Markdown table.
pub fn results_table(hunts: &[BugHunt]) -> String {
    let mut out = String::from(
        "| bug | variant | found | property | median runs | median seconds | shrunk events | shrunk ops |\n|---|---|---|---|---|---|---|---|\n",
    );
    for h in hunts {
        out += &format!(
            "| `{}` | {} | {} | {} | {} | {:.3} | {} | {} |\n",
            h.bug.name(),
            h.variant.name(),
            if h.found { "yes" } else { "no" },
            h.property.map_or("-", Property::name),
            h.median_runs,
            h.median_seconds,
            h.shrunk_events,
            h.shrunk_ops
        );
    }
    out
}
