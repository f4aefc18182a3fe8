//! `sim grader`: the original scenarios, their logs and their scores.

use super::{Failure, EXIT_OK, EXIT_VIOLATION};
use crate::grader::{full_marks, report, run_selection, Selection};
use clap::Args;
use std::fs;
use std::path::{Path, PathBuf};

/// Arguments of `sim grader`.
#[derive(Debug, Args)]
pub struct GraderArgs {
    /// all | mp1 | kv | mp1-single | mp1-multi | mp1-drop | create | delete | read | update
    #[arg(value_parser = parse_selection)]
    scenario: Selection,
    /// Root seed of every scenario run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Log file (one scenario) or directory of `<scenario>.log` files (a group).
    #[arg(long)]
    log: Option<PathBuf>,
}

fn parse_selection(name: &str) -> Result<Selection, String> {
    Selection::parse(name).ok_or_else(|| {
        format!(
            "unknown scenario '{name}' (expected one of {})",
            Selection::NAMES.join(", ")
        )
    })
}

/// Where each scenario's log goes, checked before anything runs so a bad path fails fast.
fn log_paths(selection: Selection, log: &Path) -> Result<Vec<PathBuf>, Failure> {
    if selection.is_group() {
        fs::create_dir_all(log).map_err(|e| {
            Failure::usage(format!(
                "--log {}: cannot create directory: {e}",
                log.display()
            ))
        })?;
        Ok(selection
            .scenarios()
            .iter()
            .map(|s| log.join(format!("{}.log", s.name())))
            .collect())
    } else {
        if log.is_dir() {
            return Err(Failure::usage(format!(
                "--log {}: is a directory; one scenario writes one file",
                log.display()
            )));
        }
        fs::write(log, b"")
            .map_err(|e| Failure::usage(format!("--log {}: cannot write: {e}", log.display())))?;
        Ok(vec![log.to_path_buf()])
    }
}

/// Runs `sim grader`.
pub fn run(args: GraderArgs) -> Result<u8, Failure> {
    let paths = args
        .log
        .as_deref()
        .map(|log| log_paths(args.scenario, log))
        .transpose()?;
    let runs = run_selection(args.scenario, args.seed);
    if let Some(paths) = paths {
        for ((_, run), path) in runs.iter().zip(paths) {
            run.write_log(&path).map_err(|e| {
                Failure::usage(format!("--log {}: cannot write: {e}", path.display()))
            })?;
        }
    }
    print!("{}", report(args.scenario, args.seed, &runs));
    Ok(if full_marks(&runs) {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    })
}
