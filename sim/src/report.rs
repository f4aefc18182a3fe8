//! A campaign's summary as `sim fuzz --json` prints it, and the merge of sharded campaigns'
//! summaries (`sim report`) into the one the unsharded campaign would have printed.
//!
//! Shards run disjoint seeds of one range, so counts add up; of the failing seeds with one
//! violation signature the lowest is kept, exactly as one campaign keeps it. Only timings differ:
//! shards run side by side, so the merged wall-clock time is the longest shard's.

use crate::fuzz::{FuzzOptions, FuzzSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A kept failing seed, as the summary lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingEntry {
    /// Root seed.
    pub seed: u64,
    /// Its seed file, as the campaign wrote it.
    pub file: String,
    /// The violated property.
    pub property: String,
    /// The violation signature (one kept seed per signature).
    pub signature: String,
}

/// Operation outcome counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Answered ok.
    pub ok: u64,
    /// Definitely refused.
    pub rejected: u64,
    /// Effect unknown.
    pub unknown: u64,
}

/// One campaign's summary: design.md's `fuzz --json` fields, plus what a merge needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    /// First seed of the range.
    pub seed: u64,
    /// Seeds run.
    pub runs: u64,
    /// Failing runs.
    pub failures: u64,
    /// Runs whose checker verdict was unknown.
    pub unknown: u64,
    /// Runs whose re-run gave another trace hash.
    pub nondeterministic: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Seeds per second.
    pub runs_per_second: f64,
    /// Simulated ticks per second.
    pub ticks_per_second: f64,
    /// Kept failing seeds, sorted by seed.
    pub failing_seeds: Vec<FailingEntry>,
    /// Operation outcomes.
    pub outcomes: Outcomes,
    /// Fault kind -> times fired.
    pub faults: BTreeMap<String, u64>,
    /// Coverage mark -> count.
    pub coverage: BTreeMap<String, u64>,
    /// Store variant.
    #[serde(default)]
    pub variant: String,
    /// Fault model.
    #[serde(default)]
    pub profile: String,
    /// Planted bug.
    #[serde(default)]
    pub bug: String,
    /// The shard this campaign ran (`K/M`), if it was one.
    #[serde(default)]
    pub shard: Option<String>,
    /// The seeds that ran, as `[first, last, step]` (a shard's seeds are one strided range).
    #[serde(default)]
    pub ran: Vec<(u64, u64, u64)>,
    /// Simulated ticks.
    #[serde(default)]
    pub ticks: u64,
    /// Trace events (every send, delivery, timer, client and node event).
    #[serde(default)]
    pub events: u64,
    /// Trace events per second, so that speed can be stated per event.
    #[serde(default)]
    pub events_per_second: f64,
    /// Failing runs by the first property they violated.
    #[serde(default)]
    pub failures_by_property: BTreeMap<String, u64>,
}

impl CampaignSummary {
    /// One line of JSON with its keys in alphabetical order, as `fuzz --json` always printed.
    pub fn to_json_line(&self) -> String {
        serde_json::to_value(self)
            .map(|v| v.to_string())
            .expect("a summary serializes")
    }

    /// The summary of a finished campaign.
    pub fn of(s: &FuzzSummary, options: &FuzzOptions) -> CampaignSummary {
        let seconds = s.seconds.max(1e-9);
        CampaignSummary {
            seed: s.seed,
            runs: s.runs,
            failures: s.failures,
            unknown: s.unknown,
            nondeterministic: s.nondeterministic.len() as u64,
            seconds: s.seconds,
            runs_per_second: s.runs as f64 / seconds,
            ticks_per_second: s.ticks as f64 / seconds,
            failing_seeds: s
                .failing_seeds
                .iter()
                .map(|f| FailingEntry {
                    seed: f.seed,
                    file: f.file.display().to_string(),
                    property: f.property.name().to_string(),
                    signature: f.signature.clone(),
                })
                .collect(),
            outcomes: Outcomes {
                ok: s.outcomes[0],
                rejected: s.outcomes[1],
                unknown: s.outcomes[2],
            },
            faults: s.faults.clone(),
            coverage: s.coverage.clone(),
            variant: options.variant.name().to_string(),
            profile: options.profile.name().to_string(),
            bug: options.bug.name().to_string(),
            shard: options.shard.map(|(k, m)| format!("{k}/{m}")),
            ran: strided(
                &expand(s.ran.iter().map(|&(a, b)| (a, b, 1))),
                options.shard.map_or(1, |(_, m)| m),
            ),
            ticks: s.ticks,
            events: s.events,
            events_per_second: s.events as f64 / seconds,
            failures_by_property: s
                .failures_by_property
                .iter()
                .map(|(p, n)| (p.name().to_string(), *n))
                .collect(),
        }
    }
}

fn add_all(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Every seed of strided ranges, sorted.
fn expand(ranges: impl Iterator<Item = (u64, u64, u64)>) -> Vec<u64> {
    let mut seeds: Vec<u64> = ranges
        .flat_map(|(a, b, step)| (a..=b).step_by(usize::try_from(step.max(1)).unwrap_or(1)))
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds
}

/// Sorted seeds as `[first, last, step]` ranges with the given step.
fn strided(seeds: &[u64], step: u64) -> Vec<(u64, u64, u64)> {
    let mut out: Vec<(u64, u64, u64)> = Vec::new();
    for &s in seeds {
        match out.last_mut() {
            Some((_, last, _)) if last.checked_add(step) == Some(s) => *last = s,
            _ => out.push((s, s, step)),
        }
    }
    out
}

/// A summary read from disk, with the folder its seed files are in.
#[derive(Debug, Clone)]
pub struct ShardSummary {
    /// The summary file.
    pub path: PathBuf,
    /// What it says.
    pub summary: CampaignSummary,
}

impl ShardSummary {
    /// Reads a summary file; an error names the file (and the line and field serde names).
    pub fn load(path: &Path) -> Result<ShardSummary, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let summary = serde_json::from_str(text.trim())
            .map_err(|e| format!("{}:{}: {e}", path.display(), e.line()))?;
        Ok(ShardSummary {
            path: path.to_path_buf(),
            summary,
        })
    }

    /// Where a seed file this shard listed is now: beside its summary, by file name.
    pub fn seed_file(&self, entry: &FailingEntry) -> PathBuf {
        let name = Path::new(&entry.file)
            .file_name()
            .map_or_else(|| entry.file.clone().into(), PathBuf::from);
        self.path
            .parent()
            .map_or_else(|| name.clone(), |dir| dir.join(&name))
    }
}

/// Every `summary*.json` under `dir`, in path order.
pub fn find_summaries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            found.extend(find_summaries(&path)?);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("summary") && n.ends_with(".json"))
        {
            found.push(path);
        }
    }
    Ok(found)
}

/// The merged summary, and for each kept failing seed the file it is in now.
pub fn merge(shards: &[ShardSummary]) -> (CampaignSummary, Vec<PathBuf>) {
    let first = shards.first().map(|s| &s.summary);
    let mut out = CampaignSummary {
        seed: shards.iter().map(|s| s.summary.seed).min().unwrap_or(0),
        runs: 0,
        failures: 0,
        unknown: 0,
        nondeterministic: 0,
        seconds: 0.0,
        runs_per_second: 0.0,
        ticks_per_second: 0.0,
        failing_seeds: Vec::new(),
        outcomes: Outcomes::default(),
        faults: BTreeMap::new(),
        coverage: BTreeMap::new(),
        variant: first.map(|s| s.variant.clone()).unwrap_or_default(),
        profile: first.map(|s| s.profile.clone()).unwrap_or_default(),
        bug: first.map(|s| s.bug.clone()).unwrap_or_default(),
        shard: None,
        ran: Vec::new(),
        ticks: 0,
        events: 0,
        events_per_second: 0.0,
        failures_by_property: BTreeMap::new(),
    };
    let mut kept: BTreeMap<String, (FailingEntry, PathBuf)> = BTreeMap::new();
    for shard in shards {
        let s = &shard.summary;
        out.runs += s.runs;
        out.failures += s.failures;
        out.unknown += s.unknown;
        out.nondeterministic += s.nondeterministic;
        out.seconds = out.seconds.max(s.seconds);
        out.ticks += s.ticks;
        out.events += s.events;
        out.outcomes.ok += s.outcomes.ok;
        out.outcomes.rejected += s.outcomes.rejected;
        out.outcomes.unknown += s.outcomes.unknown;
        add_all(&mut out.faults, &s.faults);
        add_all(&mut out.coverage, &s.coverage);
        add_all(&mut out.failures_by_property, &s.failures_by_property);
        out.ran.extend(s.ran.iter().copied());
        for entry in &s.failing_seeds {
            let lower = kept
                .get(&entry.signature)
                .is_none_or(|(k, _)| entry.seed < k.seed);
            if lower {
                kept.insert(
                    entry.signature.clone(),
                    (entry.clone(), shard.seed_file(entry)),
                );
            }
        }
    }
    out.ran = strided(&expand(out.ran.into_iter()), 1);
    let seconds = out.seconds.max(1e-9);
    out.runs_per_second = out.runs as f64 / seconds;
    out.ticks_per_second = out.ticks as f64 / seconds;
    out.events_per_second = out.events as f64 / seconds;
    let mut kept: Vec<(FailingEntry, PathBuf)> = kept.into_values().collect();
    kept.sort_by_key(|(e, _)| e.seed);
    let files = kept.iter().map(|(_, p)| p.clone()).collect();
    out.failing_seeds = kept
        .into_iter()
        .map(|(mut e, p)| {
            e.file = p.display().to_string();
            e
        })
        .collect();
    (out, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_shards_join_into_one() {
        let shards = [(1, 9, 4), (2, 10, 4), (3, 7, 4), (4, 8, 4)];
        assert_eq!(strided(&expand(shards.into_iter()), 1), [(1, 10, 1)]);
        assert_eq!(strided(&[2, 6, 10, 18], 4), [(2, 10, 4), (18, 18, 4)]);
    }
}
