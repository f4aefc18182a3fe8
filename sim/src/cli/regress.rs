//! `sim regress`: every seed file behaves as it expects.

use super::{Failure, EXIT_OK, EXIT_VIOLATION};
use crate::judge::run_checked;
use crate::run::RunOptions;
use crate::seedfile::{seed_files, Expect, SeedFile};
use checker::properties::Property;
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Arguments of `sim regress`.
#[derive(Debug, Args)]
pub struct RegressArgs {
    /// The folder of seed files.
    #[arg(default_value = "seeds")]
    dir: PathBuf,
    /// Rewrite these files' expectations to what they do now (after a fix: `expect: pass`).
    #[arg(long, num_args = 1..)]
    accept: Vec<PathBuf>,
    /// Write each file's replayed trace hash to this file (`<path> <hash>` lines, sorted by path),
    /// so that a refactor can prove it changed no run.
    #[arg(long, conflicts_with_all = ["accept", "hashes_against"])]
    hashes_out: Option<PathBuf>,
    /// Compare each file's replayed trace hash with a file written by `--hashes-out`; any
    /// difference, missing or extra file exits 1 and is named.
    #[arg(long, conflicts_with = "accept")]
    hashes_against: Option<PathBuf>,
}

/// What a seed file's run does now.
pub struct Outcome {
    /// `None` passes, `Some(property)` fails it.
    pub verdict: Option<Property>,
    /// The replayed run's trace hash.
    pub trace_hash: u64,
}

/// What a seed file's run does now.
pub fn outcome(file: &SeedFile) -> Outcome {
    let key = file.run_key();
    let checked = run_checked(&file.scenario, &key, RunOptions::default());
    let verdict = match (&file.property, checked.judgement.violations.is_empty()) {
        (_, true) => None,
        // A file that expects one property keeps matching while that property fails.
        (Some(p), false)
            if checked
                .judgement
                .violations
                .iter()
                .any(|v| &v.property == p) =>
        {
            Some(*p)
        }
        (_, false) => checked.judgement.first().map(|v| v.property),
    };
    Outcome {
        verdict,
        trace_hash: checked.trace_hash(),
    }
}

/// Reads a `--hashes-out` file: `<path> <16 hex digits>` per line.
fn read_hashes(path: &Path) -> Result<BTreeMap<String, u64>, Failure> {
    let text = fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("{}: cannot read: {e}", path.display())))?;
    let mut hashes = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let bad = |what: &str| {
            Failure::usage(format!(
                "{}:{}: {what}: found {line:?}; allowed `<path> <16 hex digits>`",
                path.display(),
                index + 1
            ))
        };
        let (name, hash) = line.rsplit_once(' ').ok_or_else(|| bad("line"))?;
        if hash.len() != 16 {
            return Err(bad("hash"));
        }
        let hash = u64::from_str_radix(hash, 16).map_err(|_| bad("hash"))?;
        if hashes.insert(name.to_string(), hash).is_some() {
            return Err(bad("path (repeated)"));
        }
    }
    Ok(hashes)
}

/// Runs `sim regress`.
pub fn run(args: RegressArgs) -> Result<u8, Failure> {
    for path in &args.accept {
        let mut file = SeedFile::load(path).map_err(|e| Failure::usage(e.0))?;
        let now = outcome(&file).verdict;
        file.expect = if now.is_some() {
            Expect::Fail
        } else {
            Expect::Pass
        };
        file.property = now;
        file.save(path)
            .map_err(|e| Failure::usage(format!("{}: cannot write: {e}", path.display())))?;
        println!(
            "accepted {}: expect {}",
            path.display(),
            now.map_or("pass".to_string(), |p| format!("fail {p}"))
        );
    }
    if !args.accept.is_empty() {
        return Ok(EXIT_OK);
    }
    let files = seed_files(&args.dir).map_err(|e| {
        Failure::usage(format!(
            "{}: cannot read directory: {e}",
            args.dir.display()
        ))
    })?;
    let mut loaded = Vec::new();
    for path in files {
        loaded.push((
            SeedFile::load(&path).map_err(|e| Failure::usage(e.0))?,
            path,
        ));
    }
    let against = args
        .hashes_against
        .as_deref()
        .map(read_hashes)
        .transpose()?;
    let mut hashes = BTreeMap::new();
    let mut bad = 0;
    for (file, path) in &loaded {
        let Outcome {
            verdict: now,
            trace_hash,
        } = outcome(file);
        hashes.insert(path.display().to_string(), trace_hash);
        let expected = match file.expect {
            Expect::Pass => None,
            Expect::Fail => file.property,
        };
        let show = |o: &Option<Property>| {
            o.as_ref()
                .map_or("pass".to_string(), |p| format!("fail {p}"))
        };
        if now == expected {
            println!("ok        {}  {}", path.display(), show(&now));
        } else {
            bad += 1;
            println!(
                "MISMATCH  {}  expected {}, got {}",
                path.display(),
                show(&expected),
                show(&now)
            );
        }
    }
    println!(
        "{} seed files, {} as expected, {bad} not",
        loaded.len(),
        loaded.len() - bad
    );
    if let Some(out) = &args.hashes_out {
        let text: String = hashes
            .iter()
            .map(|(name, hash)| format!("{name} {hash:016x}\n"))
            .collect();
        fs::write(out, text)
            .map_err(|e| Failure::usage(format!("{}: cannot write: {e}", out.display())))?;
        println!("wrote {} trace hashes to {}", hashes.len(), out.display());
    }
    if let Some(before) = &against {
        let changed = compare_hashes(before, &hashes);
        for line in &changed {
            println!("{line}");
        }
        println!(
            "trace hashes: {} compared, {} differ",
            before.len().max(hashes.len()),
            changed.len()
        );
        bad += changed.len();
    }
    Ok(if bad == 0 { EXIT_OK } else { EXIT_VIOLATION })
}

/// One line per file whose hash differs from `before`, or that only one side has.
fn compare_hashes(before: &BTreeMap<String, u64>, now: &BTreeMap<String, u64>) -> Vec<String> {
    let names: BTreeSet<&String> = before.keys().chain(now.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| match (before.get(name), now.get(name)) {
            (Some(a), Some(b)) if a == b => None,
            (Some(a), Some(b)) => Some(format!("HASH      {name}  was {a:016x}, now {b:016x}")),
            (Some(a), None) => Some(format!("HASH      {name}  was {a:016x}, not replayed now")),
            (None, Some(b)) => Some(format!("HASH      {name}  new, now {b:016x}")),
            (None, None) => None,
        })
        .collect()
}
