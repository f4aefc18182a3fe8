//! Runs resolved scenarios back to back, for profilers:
//! `cargo run --release --example profile_runs -- default 200`.

use node::{PlantedBug, Variant};
use sim::profile::{resolve, Profile};
use sim::run::{execute, RunOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let profile = args
        .next()
        .and_then(|p| Profile::parse(&p))
        .unwrap_or(Profile::Default);
    let runs: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    let (mut ticks, mut ops, mut unconverged) = (0, 0, 0);
    for seed in 0..runs {
        let scenario = resolve(profile, Variant::Classic, PlantedBug::None, seed);
        let run = execute(&scenario, seed, RunOptions::default());
        ticks += run.ticks;
        ops += run.record.history.len();
        unconverged += u64::from(run.record.converged_at.is_none());
    }
    println!("runs {runs} ticks {ticks} ops {ops} unconverged {unconverged}");
}
