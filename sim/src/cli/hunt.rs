//! `sim bugs` and `sim hunt`: the planted-bug catalog and how fast the harness finds each bug.

use super::{parse_bug, Failure, EXIT_OK, EXIT_VIOLATION};
use crate::hunt::{catalog_table, hunt, results_table};
use clap::Args;
use node::PlantedBug;
use std::time::Instant;

/// Arguments of `sim hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// One bug (`none`: the control, which must find nothing).
    #[arg(long, value_parser = parse_bug, required_unless_present = "all", conflicts_with = "all")]
    bug: Option<PlantedBug>,
    /// Every bug of the catalog.
    #[arg(long)]
    all: bool,
    /// Runs per starting seed before giving up.
    #[arg(long, default_value_t = 2000, value_parser = super::parse_positive)]
    runs: u64,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_parser = super::parse_jobs)]
    jobs: Option<usize>,
    /// Print one JSON object on one line.
    #[arg(long)]
    json: bool,
}

/// Runs `sim bugs`.
pub fn bugs() -> Result<u8, Failure> {
    print!("{}", catalog_table());
    Ok(EXIT_OK)
}

/// Runs `sim hunt`.
pub fn run(args: HuntArgs) -> Result<u8, Failure> {
    let bugs: Vec<PlantedBug> = match args.bug {
        Some(bug) => vec![bug],
        None => PlantedBug::ALL
            .into_iter()
            .filter(|b| *b != PlantedBug::None)
            .collect(),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = Instant::now();
    let hunts = hunt(&bugs, args.runs, jobs);
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let rows: Vec<serde_json::Value> = hunts
            .iter()
            .map(|h| {
                serde_json::json!({
                    "bug": h.bug.name(),
                    "variant": h.variant.name(),
                    "found": h.found,
                    "property": h.property.map(|p| p.name()),
                    "median_runs": h.median_runs,
                    "median_seconds": h.median_seconds,
                    "shrunk_events": h.shrunk_events,
                    "shrunk_ops": h.shrunk_ops,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "bugs": rows, "seconds": seconds })
        );
    } else {
        print!("{}", results_table(&hunts));
        println!("hunted {} bug(s) in {seconds:.1} s", hunts.len());
    }
    // The control passes when nothing is found; a bug passes when it is found.
    let ok = hunts.iter().all(|h| h.found != (h.bug == PlantedBug::None));
    Ok(if ok { EXIT_OK } else { EXIT_VIOLATION })
}
