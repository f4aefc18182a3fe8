//! `sim jepsen --nodes N --duration 45s [--nemesis kill,pause,partition] [--variant V]
//! [--dir DIR]`: a real test of a local cluster, judged by the checker. Exit status as
//! `sim check`: 0 every judged property held, 1 a violation, 3 the checker's budget ran out,
//! 2 bad usage.

use super::{Failure, EXIT_VIOLATION};
use crate::judge::FUZZ_BUDGET_STEPS;
use crate::real::jepsen::nemesis::{FaultKind, Timing};
use crate::real::jepsen::workload::Workload;
use crate::real::jepsen::{run_jepsen, JepsenConfig};
use crate::real::DEFAULT_TICK_MS;
use clap::Args;
use node::Variant;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `sim jepsen`.
#[derive(Debug, Args)]
pub struct JepsenArgs {
    /// How many nodes (ids 1..=N).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(3..=16))]
    nodes: u8,
    /// How long the fault phase lasts, e.g. 45s, 2m or 60 (seconds); at most an hour.
    #[arg(long, default_value = "45s", value_parser = parse_duration)]
    duration: Duration,
    /// The fault kinds, comma-separated, cycled in this order (`none` for a fault-free run).
    #[arg(long, default_value = "kill,pause,partition", value_parser = parse_nemesis)]
    nemesis: NemesisList,
    /// classic | versioned
    #[arg(long, default_value = "versioned", value_parser = super::parse_variant)]
    variant: Variant,
    /// The test's folder (default: jepsen/<variant>-<seed>).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Root seed of the nodes', clients' and nemesis's streams (from the OS when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Closed-loop client threads.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=64))]
    clients: u32,
    /// Keys k0.. the clients use.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    keys: u32,
    /// A planted bug the nodes run with (see `sim bugs`), to see the test catch it.
    #[arg(long, default_value = "none", value_parser = super::parse_bug)]
    bug: node::PlantedBug,
    /// Wall-clock milliseconds per tick.
    #[arg(long, default_value_t = DEFAULT_TICK_MS, value_parser = clap::value_parser!(u64).range(1..=1000))]
    tick_ms: u64,
}

/// The fault kinds `--nemesis` names.
#[derive(Debug, Clone)]
pub struct NemesisList(pub Vec<FaultKind>);

fn parse_nemesis(text: &str) -> Result<NemesisList, String> {
    if text == "none" {
        return Ok(NemesisList(Vec::new()));
    }
    text.split(',')
        .map(|name| {
            FaultKind::parse(name.trim()).ok_or_else(|| {
                format!("unknown fault {name:?} (expected kill, pause, partition or none)")
            })
        })
        .collect::<Result<_, _>>()
        .map(NemesisList)
}

/// Parses `45s`, `2m`, `500ms` or a plain number of seconds; 1 s to 1 hour.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else {
        (text, 1000)
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("found {text:?}; expected a duration such as 45s, 2m or 500ms"))?;
    let ms = n.saturating_mul(unit_ms);
    if !(1000..=3_600_000).contains(&ms) {
        return Err(format!("found {text:?}; allowed 1s..=1h"));
    }
    Ok(Duration::from_millis(ms))
}

/// The nemesis's timing for a command-line test: faults of 1 to 3 s, repairs within 20 s.
pub fn default_timing() -> Timing {
    Timing {
        hold_ms: (1000, 3000),
        gap_ms: (200, 1000),
        repair_max: Duration::from_secs(20),
    }
}

/// Runs `sim jepsen`.
pub fn run(args: JepsenArgs) -> Result<u8, Failure> {
    let seed = args.seed.unwrap_or_else(super::fuzz::os_seed);
    let dir = args
        .dir
        .unwrap_or_else(|| PathBuf::from("jepsen").join(format!("{}-{seed}", args.variant.name())));
    eprintln!(
        "jepsen {} seed {seed}: {} nodes, {:?} of {}, folder {}",
        args.variant.name(),
        args.nodes,
        args.duration,
        if args.nemesis.0.is_empty() {
            "no faults".to_string()
        } else {
            args.nemesis
                .0
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        },
        dir.display()
    );
    let config = JepsenConfig {
        nodes: args.nodes,
        variant: args.variant,
        seed,
        tick_ms: args.tick_ms,
        bug: args.bug,
        duration: args.duration,
        nemesis: args.nemesis.0,
        timing: default_timing(),
        workload: Workload {
            clients: args.clients,
            keys: args.keys,
            timeout: Duration::from_secs(1),
            think_ms_max: 10,
        },
        dir,
        exe: super::cluster::own_exe()?,
        budget_steps: FUZZ_BUDGET_STEPS * 10,
    };
    let report = run_jepsen(&config).map_err(|e| Failure {
        code: EXIT_VIOLATION,
        message: e,
    })?;
    println!("{}", report.summary);
    Ok(report.verdict.exit_code())
}
