//! The `sim` command line: the contract in design.md, with one-line errors and exit statuses
//! 0 (held), 1 (violated / unexpected), 2 (bad usage or input), 3 (checker budget ran out).

mod check;
mod cluster;
mod fuzz;
mod grader;
mod hunt;
mod jepsen;
mod kv;
mod regress;
mod replay;
mod report;
mod shrink;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit status: everything held.
pub const EXIT_OK: u8 = 0;
/// Exit status: a property was violated, a score was short, or a seed file misbehaved.
pub const EXIT_VIOLATION: u8 = 1;
/// Exit status: bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;

/// An error that ends the command with a status and one line on stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub code: u8,
    /// The one-line message.
    pub message: String,
}

impl Failure {
    /// Bad usage or input (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

/// Deterministic simulation testing for a gossip-membership, quorum-replicated key-value store.
#[derive(Debug, Parser)]
#[command(name = "sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run many seeds of a profile; write failing seeds, shrink them, summarize.
    Fuzz(fuzz::FuzzArgs),
    /// Run one seed (file or --seed) bit for bit and print its trace and verdict.
    Replay(replay::ReplayArgs),
    /// Merge sharded campaigns' summaries and seed files into one summary and page.
    Report(report::ReportArgs),
    /// Shrink a failing seed file to a smaller scenario failing the same property.
    Shrink(shrink::ShrinkArgs),
    /// Replay every seed file of a folder and compare with its expectation.
    Regress(regress::RegressArgs),
    /// Run the original course graders' scenarios and score them with the original rules.
    Grader(grader::GraderArgs),
    /// Check a history file for linearizability.
    Check(check::CheckArgs),
    /// List the planted bugs.
    Bugs,
    /// Measure how fast fuzzing finds each planted bug.
    Hunt(hunt::HuntArgs),
    /// A local cluster of node processes on 127.0.0.1: up, status, down.
    Cluster(cluster::ClusterArgs),
    /// Send one request to a running local cluster.
    Kv(kv::KvArgs),
    /// Test a real local cluster under kill -9, pause and partitions; judge it with the checker.
    Jepsen(jepsen::JepsenArgs),
}

/// How the generator draws a scenario from a seed: fault model, store variant, planted bug.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct GeneratorArgs {
    /// calm | default | hostile
    #[arg(long, default_value = "default", value_parser = parse_profile)]
    pub profile: crate::profile::Profile,
    /// classic | versioned (default: the planted bug's variant, else versioned)
    #[arg(long, value_parser = parse_variant)]
    pub variant: Option<node::Variant>,
    /// A planted bug (see `sim bugs`).
    #[arg(long, default_value = "none", value_parser = parse_bug)]
    pub bug: node::PlantedBug,
}

impl GeneratorArgs {
    /// The variant asked for; without `--variant`, the one the planted bug applies to, or the
    /// default variant.
    pub fn variant(&self) -> node::Variant {
        self.variant
            .unwrap_or_else(|| crate::hunt::variant_for(self.bug))
    }
}

fn parse_property(name: &str) -> Result<checker::properties::Property, String> {
    name.parse()
}

fn parse_profile(name: &str) -> Result<crate::profile::Profile, String> {
    crate::profile::Profile::parse(name)
        .ok_or_else(|| format!("unknown profile {name:?} (expected calm, default or hostile)"))
}

fn parse_variant(name: &str) -> Result<node::Variant, String> {
    node::Variant::parse(name).ok_or_else(|| {
        let names: Vec<&str> = node::Variant::ALL.iter().map(|v| v.name()).collect();
        format!(
            "unknown variant {name:?} (expected one of {})",
            names.join(", ")
        )
    })
}

fn parse_bug(name: &str) -> Result<node::PlantedBug, String> {
    node::PlantedBug::parse(name).ok_or_else(|| {
        let names: Vec<&str> = node::PlantedBug::ALL.iter().map(|b| b.name()).collect();
        format!(
            "unknown bug {name:?} (expected one of {}; `sim bugs` describes them)",
            names.join(", ")
        )
    })
}

/// The most worker threads a command starts: more cannot help on any machine this runs on,
/// and spawning without a bound can fail.
pub const JOBS_MAX: usize = 1024;

/// A count that must be at least 1 (`--runs`, `--max-runs`, `--duration`).
fn parse_positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("found 0; allowed: 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "found {text:?}; allowed: a whole number from 1 to {}",
            u64::MAX
        )),
    }
}

/// `--jobs`: worker threads, in `1..=JOBS_MAX`.
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(jobs) if (1..=JOBS_MAX).contains(&jobs) => Ok(jobs),
        Ok(jobs) => Err(format!("found {jobs}; allowed: 1..={JOBS_MAX}")),
        Err(_) => Err(format!("found {text:?}; allowed: 1..={JOBS_MAX}")),
    }
}

/// Parses the arguments and runs the command: its exit status, or the failure whose one line
/// goes to stderr. In-process callers (the input fuzz test) see exactly what `sim` would do.
pub fn execute(args: Vec<String>) -> Result<u8, Failure> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                print!("{err}");
                return Ok(EXIT_OK);
            }
            let rendered = err.to_string();
            let first = rendered.lines().next().unwrap_or("bad usage");
            return Err(Failure::usage(
                first.strip_prefix("error: ").unwrap_or(first),
            ));
        }
    };
    match cli.command {
        Command::Fuzz(args) => fuzz::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Report(args) => report::run(args),
        Command::Shrink(args) => shrink::run(args),
        Command::Regress(args) => regress::run(args),
        Command::Grader(args) => grader::run(args),
        Command::Check(args) => check::run(args),
        Command::Bugs => hunt::bugs(),
        Command::Hunt(args) => hunt::run(args),
        Command::Cluster(args) => cluster::run(args),
        Command::Kv(args) => kv::run(args),
        Command::Jepsen(args) => jepsen::run(args),
    }
}

/// Parses the arguments and runs the command; returns the exit status.
pub fn main_with_args(args: Vec<String>) -> ExitCode {
    match execute(args) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
