//! `sim fuzz`: many seeds over all cores, failing seeds on disk at once, a summary at the end.

use crate::judge::{run_checked, Checked, Found, RunKey};
use crate::profile::{resolve_checked, Drift, Profile};
use crate::run::RunOptions;
use crate::scenario::Scenario;
use crate::seedfile::{Expect, SeedFile, FORMAT_VERSION};
use crate::trace::TraceLevel;
use checker::properties::Property;
use checker::record::Outcome;
use node::{PlantedBug, Variant};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// One seed in `DETERMINISM_SAMPLE` is run twice and the trace hashes compared.
pub const DETERMINISM_SAMPLE: u64 = 50;

/// What to fuzz.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// First seed.
    pub seed: u64,
    /// How many seeds (before sharding).
    pub runs: u64,
    /// Worker threads.
    pub jobs: usize,
    /// Fault model.
    pub profile: Profile,
    /// Store variant.
    pub variant: Variant,
    /// Planted bug.
    pub bug: PlantedBug,
    /// Properties checked on top of the promised ones.
    pub extra: Vec<checker::properties::Property>,
    /// `(k, m)`: run only seed indices i with i mod m = k - 1.
    pub shard: Option<(u64, u64)>,
    /// Where failing seeds go.
    pub out: PathBuf,
    /// Stop at the first failure.
    pub stop_on_failure: bool,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Shrink and re-verify each kept failing seed at the end.
    pub shrink: bool,
}

impl FuzzOptions {
    /// How many seeds this invocation runs (its shard of the `runs`), without listing them: a
    /// campaign of `u64::MAX` runs stopped by `--duration` must not allocate them all.
    pub fn seed_count(&self) -> u64 {
        match self.shard {
            None => self.runs,
            Some((k, m)) if self.runs >= k => (self.runs - k) / m + 1,
            Some(_) => 0,
        }
    }

    /// The `n`-th seed this invocation runs (`n < seed_count()`): index `i = n * m + k - 1`.
    pub fn nth_seed(&self, n: u64) -> u64 {
        let index = match self.shard {
            None => n,
            Some((k, m)) => n * m + (k - 1),
        };
        self.seed.wrapping_add(index)
    }

    /// The seeds this invocation runs, in order.
    pub fn seeds(&self) -> Vec<u64> {
        (0..self.seed_count()).map(|n| self.nth_seed(n)).collect()
    }
}

/// A kept failing seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingSeed {
    /// Its root seed.
    pub seed: u64,
    /// The file it was written to.
    pub file: PathBuf,
    /// The violated property.
    pub property: Property,
    /// The violation signature.
    pub signature: String,
}

/// What one seed's run gave.
#[derive(Debug)]
struct SeedResult {
    seed: u64,
    scenario: Scenario,
    failure: Option<Found>,
    unknown: bool,
    ticks: u64,
    events: u64,
    outcomes: [u64; 3],
    faults: BTreeMap<String, u64>,
    coverage: BTreeMap<String, u64>,
    trace_hash: u64,
    divergence: Option<String>,
}

/// The campaign's summary.
#[derive(Debug, Default)]
pub struct FuzzSummary {
    /// First seed of the range.
    pub seed: u64,
    /// Seeds run (determinism re-runs not counted).
    pub runs: u64,
    /// The seeds that ran, as inclusive ranges.
    pub ran: Vec<(u64, u64)>,
    /// Failing runs.
    pub failures: u64,
    /// Failing runs by the first property they violated.
    pub failures_by_property: BTreeMap<Property, u64>,
    /// Runs whose checker verdict was unknown.
    pub unknown: u64,
    /// Runs whose re-run gave another trace hash, with the first divergence.
    pub nondeterministic: Vec<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Simulated ticks.
    pub ticks: u64,
    /// Trace events (every send, delivery, timer, client and node event), so that speed can
    /// be stated per event.
    pub events: u64,
    /// Kept failing seeds, sorted by seed.
    pub failing_seeds: Vec<FailingSeed>,
    /// Operation outcomes: ok, rejected, unknown.
    pub outcomes: [u64; 3],
    /// Fault kind -> times fired.
    pub faults: BTreeMap<String, u64>,
    /// Coverage mark -> count.
    pub coverage: BTreeMap<String, u64>,
    /// Whether the campaign stopped early (Ctrl-C, --duration, --stop-on-failure).
    pub stopped_early: bool,
}

/// The project version in seed files.
pub fn written_by() -> String {
    format!("sim {}", env!("CARGO_PKG_VERSION"))
}

/// The seed file of a failing run.
pub fn failing_file(
    key: &RunKey,
    scenario: &Scenario,
    found: &Found,
    trace_hash: u64,
    note: String,
) -> SeedFile {
    SeedFile {
        format: FORMAT_VERSION,
        written_by: written_by(),
        seed: key.seed,
        profile: key.profile,
        variant: scenario.params.variant,
        bug: scenario.params.bug,
        expect: Expect::Fail,
        property: Some(found.property),
        extra_checks: key.extra.clone(),
        signature: Some(found.signature.clone()),
        trace_hash: format!("{trace_hash:016x}"),
        note,
        scenario: scenario.clone(),
    }
}

/// `<variant>-<profile>[-<bug>]-<property>-<seed>.yaml`.
pub fn file_name(scenario: &Scenario, profile: Profile, property: Property, seed: u64) -> String {
    let bug = match scenario.params.bug {
        PlantedBug::None => String::new(),
        bug => format!("-{}", bug.name()),
    };
    format!(
        "{}-{}{bug}-{property}-{seed}.yaml",
        scenario.params.variant.name(),
        profile.name()
    )
}

/// The first line where two full traces of the same seed differ.
pub fn first_divergence(scenario: &Scenario, key: &RunKey) -> String {
    let options = RunOptions {
        trace: TraceLevel::Full,
        ..RunOptions::default()
    };
    let a = run_checked(scenario, key, options);
    let b = run_checked(scenario, key, options);
    let (la, lb) = (
        a.execution.world.trace().lines(),
        b.execution.world.trace().lines(),
    );
    match la.iter().zip(lb).position(|(x, y)| x != y) {
        Some(i) => format!("seed {}: event {i}: `{}` vs `{}`", key.seed, la[i], lb[i]),
        None => format!(
            "seed {}: traces agree line by line but hashes differ",
            key.seed
        ),
    }
}

fn run_one(options: &FuzzOptions, seed: u64, index: u64) -> Result<SeedResult, Drift> {
    let scenario = resolve_checked(options.profile, options.variant, options.bug, seed)?;
    let key = RunKey {
        seed,
        profile: options.profile,
        extra: options.extra.clone(),
    };
    let checked: Checked = run_checked(&scenario, &key, RunOptions::default());
    let trace_hash = checked.trace_hash();
    let divergence = index
        .is_multiple_of(DETERMINISM_SAMPLE)
        .then(|| run_checked(&scenario, &key, RunOptions::default()).trace_hash())
        .filter(|&again| again != trace_hash)
        .map(|_| first_divergence(&scenario, &key));
    let mut outcomes = [0; 3];
    for op in &checked.execution.record.history {
        outcomes[match op.outcome {
            Outcome::Ok => 0,
            Outcome::Rejected => 1,
            Outcome::Unknown => 2,
        }] += 1;
    }
    Ok(SeedResult {
        seed,
        failure: checked.judgement.first().cloned(),
        unknown: checked.judgement.unknown,
        ticks: checked.execution.ticks,
        events: checked.execution.world.trace().events(),
        outcomes,
        faults: checked.execution.faults,
        coverage: checked.execution.coverage,
        trace_hash,
        divergence,
        scenario,
    })
}

/// Keeps, per violation signature, the lowest failing seed on disk.
#[derive(Debug, Default)]
struct Kept {
    by_signature: BTreeMap<String, FailingSeed>,
}

impl Kept {
    /// Writes the failing seed unless a lower seed with its signature is kept already.
    fn offer(
        &mut self,
        out: &Path,
        options: &FuzzOptions,
        result: &SeedResult,
        found: &Found,
    ) -> std::io::Result<()> {
        if self
            .by_signature
            .get(&found.signature)
            .is_some_and(|k| k.seed <= result.seed)
        {
            return Ok(());
        }
        let key = RunKey {
            seed: result.seed,
            profile: options.profile,
            extra: options.extra.clone(),
        };
        let note = format!("found by sim fuzz: {}", found.details);
        let file = failing_file(&key, &result.scenario, found, result.trace_hash, note);
        let path = out.join(file_name(
            &result.scenario,
            options.profile,
            found.property,
            result.seed,
        ));
        file.save(&path)?;
        let kept = FailingSeed {
            seed: result.seed,
            file: path,
            property: found.property,
            signature: found.signature.clone(),
        };
        if let Some(old) = self.by_signature.insert(found.signature.clone(), kept) {
            let _ = std::fs::remove_file(old.file);
        }
        Ok(())
    }
}

/// Compresses sorted seeds into inclusive ranges.
fn ranges(mut seeds: Vec<u64>) -> Vec<(u64, u64)> {
    seeds.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for s in seeds {
        match out.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(s) => *end = s,
            _ => out.push((s, s)),
        }
    }
    out
}

/// Progress reporting, so the library does not depend on how it is shown.
pub trait Progress: Sync {
    /// One more seed finished; `failures` so far.
    fn seed_done(&self, failures: u64);
}

/// Why a campaign stopped without a summary.
#[derive(Debug)]
pub enum FuzzError {
    /// A failing seed could not be written.
    Write(std::io::Error),
    /// The generator drew a scenario outside the stated ranges (the lowest such seed).
    Drift(Drift),
}

/// Runs the campaign. `stop` is raised by Ctrl-C; the campaign also raises it itself.
pub fn fuzz(
    options: &FuzzOptions,
    stop: &Arc<AtomicBool>,
    progress: &dyn Progress,
) -> Result<FuzzSummary, FuzzError> {
    let started = Instant::now();
    let count = options.seed_count();
    let next = AtomicU64::new(0);
    let (tx, rx) = mpsc::channel::<Result<SeedResult, Drift>>();
    let mut summary = FuzzSummary {
        seed: options.seed,
        ..FuzzSummary::default()
    };
    let mut kept = Kept::default();
    let mut ran = Vec::new();
    let mut write_error = None;
    let mut drift: Option<Drift> = None;
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            let tx = tx.clone();
            let (next, stop) = (&next, Arc::clone(stop));
            scope.spawn(move || loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= count {
                    return;
                }
                let seed = options.nth_seed(index);
                if tx.send(run_one(options, seed, index)).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        loop {
            let result = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(result) => result,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if options.duration.is_some_and(|d| started.elapsed() >= d) {
                        stop.store(true, Ordering::SeqCst);
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let result = match result {
                Ok(result) => result,
                Err(found) => {
                    // Caught at once: no run of a scenario outside the ranges counts.
                    stop.store(true, Ordering::SeqCst);
                    if drift.as_ref().is_none_or(|d| found.seed < d.seed) {
                        drift = Some(found);
                    }
                    continue;
                }
            };
            ran.push(result.seed);
            summary.runs += 1;
            summary.ticks += result.ticks;
            summary.events += result.events;
            summary.unknown += u64::from(result.unknown && result.failure.is_none());
            for (total, n) in summary.outcomes.iter_mut().zip(result.outcomes) {
                *total += n;
            }
            for (k, v) in &result.faults {
                *summary.faults.entry(k.clone()).or_default() += v;
            }
            for (k, v) in &result.coverage {
                *summary.coverage.entry(k.clone()).or_default() += v;
            }
            if let Some(divergence) = &result.divergence {
                summary.nondeterministic.push(divergence.clone());
            }
            if let Some(found) = &result.failure {
                summary.failures += 1;
                *summary
                    .failures_by_property
                    .entry(found.property)
                    .or_default() += 1;
                // On disk before anything else happens to the process.
                if let Err(e) = kept.offer(&options.out, options, &result, found) {
                    write_error.get_or_insert(e);
                    stop.store(true, Ordering::SeqCst);
                }
                if options.stop_on_failure {
                    stop.store(true, Ordering::SeqCst);
                }
            }
            progress.seed_done(summary.failures);
            if options.duration.is_some_and(|d| started.elapsed() >= d) {
                stop.store(true, Ordering::SeqCst);
            }
        }
    });
    if let Some(e) = write_error {
        return Err(FuzzError::Write(e));
    }
    if let Some(d) = drift {
        return Err(FuzzError::Drift(d));
    }
    summary.stopped_early = (ran.len() as u64) < count;
    summary.ran = ranges(ran);
    summary.failing_seeds = kept.by_signature.into_values().collect();
    summary.failing_seeds.sort_by_key(|f| f.seed);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(runs: u64, shard: Option<(u64, u64)>) -> FuzzOptions {
        FuzzOptions {
            seed: 100,
            runs,
            jobs: 1,
            profile: Profile::Default,
            variant: Variant::Classic,
            bug: PlantedBug::None,
            extra: Vec::new(),
            shard,
            out: PathBuf::from("unused"),
            stop_on_failure: false,
            duration: None,
            shrink: false,
        }
    }

    #[test]
    fn shards_together_run_exactly_the_unsharded_seeds() {
        let all = options(37, None).seeds();
        let mut union: Vec<u64> = (1..=4)
            .flat_map(|k| options(37, Some((k, 4))).seeds())
            .collect();
        let total: usize = (1..=4)
            .map(|k| options(37, Some((k, 4))).seeds().len())
            .sum();
        union.sort_unstable();
        assert_eq!(total, all.len(), "shards are disjoint");
        assert_eq!(union, all);
        assert_eq!(options(37, Some((2, 4))).seeds()[..2], [101, 105]);
    }

    #[test]
    fn a_huge_campaign_is_counted_not_listed() {
        let all = options(u64::MAX, None);
        assert_eq!(all.seed_count(), u64::MAX);
        assert_eq!(
            all.nth_seed(u64::MAX - 1),
            100u64.wrapping_add(u64::MAX - 1)
        );
        let shard = options(u64::MAX, Some((4, 4)));
        assert_eq!(shard.seed_count(), u64::MAX / 4);
        assert_eq!(shard.nth_seed(1), 107);
        assert_eq!(options(2, Some((3, 4))).seed_count(), 0);
    }

    #[test]
    fn ranges_compress_seed_lists() {
        assert_eq!(
            ranges(vec![5, 3, 4, 9, 10, 12]),
            [(3, 5), (9, 10), (12, 12)]
        );
    }
}
