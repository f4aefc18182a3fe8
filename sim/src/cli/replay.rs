//! `sim replay`: one run, bit for bit, with its trace and verdict.

use super::{Failure, GeneratorArgs, EXIT_OK, EXIT_VIOLATION};
use crate::judge::{run_checked, RunKey};
use crate::picture::{html, svg, Picture, Source};
use crate::profile::resolve_checked;
use crate::run::RunOptions;
use crate::scenario::Scenario;
use crate::seedfile::SeedFile;
use crate::trace::TraceLevel;
use crate::world::{NodeState, World};
use clap::{Args, ValueEnum};
use std::fmt::Write as _;
use std::path::PathBuf;

/// How much of the trace to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceArg {
    /// Process, client and membership events.
    Short,
    /// Every event, every message included.
    Full,
}

/// Arguments of `sim replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A seed file.
    #[arg(required_unless_present = "seed", conflicts_with = "seed")]
    file: Option<PathBuf>,
    /// A seed to resolve with the generator instead.
    #[arg(long)]
    seed: Option<u64>,
    /// With `--seed`: fault model, variant and planted bug.
    #[command(flatten)]
    generator: GeneratorArgs,
    /// short | full
    #[arg(long, value_enum, default_value = "short")]
    trace: TraceArg,
    /// Stop after this tick.
    #[arg(long)]
    until: Option<u64>,
    /// Print every node's state where the run stopped.
    #[arg(long)]
    dump_state: bool,
    /// Write the client history in the checker's native format.
    #[arg(long)]
    history_out: Option<PathBuf>,
    /// Write a self-contained HTML picture of the run (opens on the violation).
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write a static SVG of the violation's window.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// In the pictures, draw heartbeat gossip as arrows instead of density.
    #[arg(long)]
    gossip_arrows: bool,
}

/// The scenario and run key of a replay, from a file or from `--seed`.
pub fn load_run(
    file: Option<&PathBuf>,
    seed: Option<u64>,
    generator: &GeneratorArgs,
) -> Result<(Scenario, RunKey, String), Failure> {
    let GeneratorArgs { profile, bug, .. } = *generator;
    match file {
        Some(path) => {
            let file = SeedFile::load(path).map_err(|e| Failure::usage(e.0))?;
            let key = file.run_key();
            let title = format!(
                "{} (seed {}, {} {}, bug {})",
                path.display(),
                file.seed,
                file.variant.name(),
                file.profile.name(),
                file.bug.name()
            );
            Ok((file.scenario, key, title))
        }
        None => {
            let seed = seed.expect("clap requires a file or --seed");
            let variant = generator.variant();
            let key = RunKey {
                seed,
                profile,
                extra: Vec::new(),
            };
            let title = format!(
                "seed {seed} ({} {}, bug {})",
                variant.name(),
                profile.name(),
                bug.name()
            );
            let scenario = resolve_checked(profile, variant, bug, seed)
                .map_err(|drift| Failure::usage(drift.to_string()))?;
            Ok((scenario, key, title))
        }
    }
}

/// Every node's state, for a person.
pub fn dump_state(world: &World) -> String {
    let mut out = String::new();
    for slot in world.slots() {
        let state = match slot.state {
            NodeState::NotStarted => "not started",
            NodeState::Up => "up",
            NodeState::Down => "down",
        };
        let _ = writeln!(
            out,
            "node {} [{state}] incarnation {} clock {} rate {}permille",
            slot.id,
            slot.node.incarnation(),
            slot.local_now,
            slot.rate_permille
        );
        let m = slot.node.membership();
        let view: Vec<String> = m
            .view()
            .iter()
            .map(|&id| match m.member(id) {
                Some(e) => format!(
                    "{id}(i{} hb{}{})",
                    e.incarnation,
                    e.heartbeat,
                    if e.suspected { " suspected" } else { "" }
                ),
                None => id.to_string(),
            })
            .collect();
        let _ = writeln!(out, "  view: {}", view.join(" "));
        let ring: Vec<String> = slot.node.ring().nodes().map(|n| n.to_string()).collect();
        let _ = writeln!(out, "  ring: {}", ring.join(" "));
        for e in slot.node.stored() {
            let _ = writeln!(
                out,
                "  {} = {} (v{})",
                e.key,
                e.value.as_deref().unwrap_or("<tombstone>"),
                e.version
            );
        }
        let _ = writeln!(out, "  pending operations: {}", slot.node.pending_ops());
        for line in slot.node.store_summary() {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// Writes an output file; a failure names the file.
fn write_file(path: &PathBuf, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::usage(format!("{}: cannot write: {e}", path.display())))
}

/// What the picture says about where the run came from, and the command that replays it (without
/// the output paths, so a page does not depend on where it was written).
fn picture_source(args: &ReplayArgs, key: &RunKey, scenario: &Scenario, title: String) -> Source {
    let source = match &args.file {
        Some(path) => path.display().to_string(),
        None => format!(
            "--seed {} --profile {} --variant {} --bug {}",
            key.seed,
            key.profile.name(),
            scenario.params.variant.name(),
            scenario.params.bug.name()
        ),
    };
    Source {
        title,
        command: format!("sim replay {source}"),
        seed: key.seed,
        variant: scenario.params.variant.name().to_string(),
        profile: key.profile.name().to_string(),
        bug: scenario.params.bug.name().to_string(),
    }
}

/// Runs `sim replay`.
pub fn run(args: ReplayArgs) -> Result<u8, Failure> {
    let (scenario, key, title) = load_run(args.file.as_ref(), args.seed, &args.generator)?;
    if let Some(until) = args.until.filter(|&u| u > scenario.tick_cap()) {
        return Err(Failure::usage(format!(
            "--until: found {until}; allowed: 0..={} (the run's tick cap)",
            scenario.tick_cap()
        )));
    }
    let trace = match args.trace {
        TraceArg::Short => TraceLevel::Short,
        TraceArg::Full => TraceLevel::Full,
    };
    let checked = run_checked(
        &scenario,
        &key,
        RunOptions {
            trace,
            until: args.until,
            picture: args.html.is_some() || args.svg.is_some(),
        },
    );
    let world = &checked.execution.world;
    let mut out = String::new();
    let _ = writeln!(out, "replay {title}");
    let _ = writeln!(
        out,
        "scenario: {} nodes, {} faults, {} clients x {} ops on {} keys, fault phase {} ticks",
        scenario.nodes,
        scenario.faults.len(),
        scenario.workload.clients,
        scenario.workload.ops_per_client,
        scenario.workload.keys,
        scenario.fault_phase_ticks
    );
    for line in world.trace().lines() {
        out.push_str(line);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "ticks: {}, events: {}, trace hash: {:016x}",
        checked.execution.ticks,
        world.trace().events(),
        checked.trace_hash()
    );
    if args.dump_state {
        out.push_str(&dump_state(world));
    }
    let names: Vec<&str> = checked.properties.iter().map(|p| p.name()).collect();
    let _ = writeln!(out, "checked: {}", names.join(", "));
    match checked.judgement.first() {
        None if checked.judgement.unknown => {
            out.push_str("verdict: pass (some checks ran out of budget: unknown)\n")
        }
        None => out.push_str("verdict: pass\n"),
        Some(_) => {
            for v in &checked.judgement.violations {
                let _ = writeln!(
                    out,
                    "verdict: FAIL {}\n  {}\n{}",
                    v.property, v.signature, v.details
                );
            }
        }
    }
    print!("{out}");
    if let Some(path) = &args.history_out {
        std::fs::write(
            path,
            checker::write_native(&checked.execution.record.history),
        )
        .map_err(|e| {
            Failure::usage(format!(
                "--history-out {}: cannot write: {e}",
                path.display()
            ))
        })?;
    }
    if args.html.is_some() || args.svg.is_some() {
        let source = picture_source(&args, &key, &scenario, title);
        let picture = Picture::build(&scenario, &checked, source, args.gossip_arrows);
        for (path, text) in [
            (&args.html, html::render(&picture)),
            (&args.svg, svg::render(&picture)),
        ] {
            if let Some(path) = path {
                write_file(path, &text)?;
            }
        }
    }
    Ok(if checked.judgement.first().is_some() {
        EXIT_VIOLATION
    } else {
        EXIT_OK
    })
}
