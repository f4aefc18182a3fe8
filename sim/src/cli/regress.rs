//! `sim regress`: every seed file behaves as it expects.

use super::{Failure, EXIT_OK, EXIT_VIOLATION};
use crate::judge::run_checked;
use crate::run::RunOptions;
use crate::seedfile::{seed_files, Expect, SeedFile};
use checker::properties::Property;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sim regress`.
#[derive(Debug, Args)]
pub struct RegressArgs {
    /// The folder of seed files.
    #[arg(default_value = "seeds")]
    dir: PathBuf,
    /// Rewrite these files' expectations to what they do now (after a fix: `expect: pass`).
    #[arg(long, num_args = 1..)]
    accept: Vec<PathBuf>,
}

/// What a seed file's run does now: `None` passes, `Some(property)` fails it.
pub fn outcome(file: &SeedFile) -> Option<Property> {
    let key = file.run_key();
    let checked = run_checked(&file.scenario, &key, RunOptions::default());
    match (&file.property, checked.judgement.violations.is_empty()) {
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
    }
}

/// Runs `sim regress`.
pub fn run(args: RegressArgs) -> Result<u8, Failure> {
    for path in &args.accept {
        let mut file = SeedFile::load(path).map_err(|e| Failure::usage(e.0))?;
        let now = outcome(&file);
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
    let mut bad = 0;
    for (file, path) in &loaded {
        let now = outcome(file);
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
    Ok(if bad == 0 { EXIT_OK } else { EXIT_VIOLATION })
}
