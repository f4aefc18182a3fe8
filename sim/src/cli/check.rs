//! `sim check`: the linearizability checker on a history file.

use super::Failure;
use checker::{run_check, Format};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sim check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The history file.
    file: PathBuf,
    /// native | jepsen-kv | jepsen-etcd
    #[arg(long)]
    format: Format,
    /// Wall-clock budget of the search; past it the verdict is unknown (exit 3).
    #[arg(long, default_value_t = 10_000)]
    budget_ms: u64,
    /// Print one JSON object on one line.
    #[arg(long)]
    json: bool,
}

/// Runs `sim check`.
pub fn run(args: CheckArgs) -> Result<u8, Failure> {
    let exit = run_check(&args.file, args.format, args.budget_ms, args.json);
    print!("{}", exit.stdout);
    eprint!("{}", exit.stderr);
    Ok(u8::try_from(exit.code).unwrap_or(super::EXIT_USAGE))
}
