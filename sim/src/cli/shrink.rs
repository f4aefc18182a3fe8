//! `sim shrink`: a smaller scenario that fails the same property.

use super::{Failure, EXIT_OK, EXIT_VIOLATION};
use crate::judge::run_checked;
use crate::run::RunOptions;
use crate::seedfile::{Expect, SeedFile};
use crate::shrink::{shrink, Shrunk, Target};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sim shrink`.
#[derive(Debug, Args)]
pub struct ShrinkArgs {
    /// A failing seed file.
    file: PathBuf,
    /// Most runs to spend.
    #[arg(long, default_value_t = 1000, value_parser = super::parse_positive)]
    max_runs: u64,
}

/// Runs `sim shrink`: writes `<name>-shrunk.yaml` next to the file.
pub fn run(args: ShrinkArgs) -> Result<u8, Failure> {
    let file = SeedFile::load(&args.file).map_err(|e| Failure::usage(e.0))?;
    let key = file.run_key();
    let before = run_checked(&file.scenario, &key, RunOptions::default());
    let Some(found) = before.judgement.first().cloned() else {
        println!("{}: the run passes; nothing to shrink", args.file.display());
        return Ok(EXIT_VIOLATION);
    };
    let property = file
        .property
        .filter(|p| before.judgement.violations.iter().any(|v| &v.property == p))
        .unwrap_or(found.property);
    // Keep the file's signature where the run still shows it, so the kind of failure stays.
    let signature = file.signature.clone().filter(|s| {
        before
            .judgement
            .violations
            .iter()
            .any(|v| &v.signature == s)
    });
    let target = Target {
        property,
        signature,
    };
    let Shrunk {
        scenario: smaller,
        run: after,
        report,
    } = shrink(&file.scenario, &key, &target, args.max_runs);
    let Some(verified) = after
        .judgement
        .violations
        .iter()
        .find(|v| target.matches(v))
        .cloned()
    else {
        return Err(Failure {
            code: EXIT_VIOLATION,
            message: "the shrunk scenario no longer fails; kept the original".into(),
        });
    };
    let stem = args
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("seed");
    let out = args.file.with_file_name(format!("{stem}-shrunk.yaml"));
    let shrunk = SeedFile {
        expect: Expect::Fail,
        property: Some(property),
        signature: Some(verified.signature),
        trace_hash: format!("{:016x}", after.trace_hash()),
        note: format!("{}; shrunk: {}", file.note, report.steps.join(", ")),
        scenario: smaller.clone(),
        ..file.clone()
    };
    shrunk
        .save(&out)
        .map_err(|e| Failure::usage(format!("{}: cannot write: {e}", out.display())))?;
    println!(
        "shrunk {} in {} runs: {} reductions",
        args.file.display(),
        report.runs,
        report.steps.len()
    );
    for step in &report.steps {
        println!("  {step}");
    }
    println!(
        "faults {} -> {}, nodes {} -> {}, clients {} -> {}, operations {} -> {}, events {} -> {}",
        file.scenario.faults.len(),
        smaller.faults.len(),
        file.scenario.nodes,
        smaller.nodes,
        file.scenario.workload.clients,
        smaller.workload.clients,
        before.execution.record.history.len(),
        after.execution.record.history.len(),
        before.execution.world.trace().events(),
        after.execution.world.trace().events()
    );
    println!("{property} still fails: {}", out.display());
    Ok(EXIT_OK)
}
