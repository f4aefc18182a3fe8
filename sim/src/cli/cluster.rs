//! `sim cluster up|status|down`: a local cluster of node processes on loopback, and the hidden
//! `sim cluster node` each of those processes runs.

use super::{Failure, EXIT_OK, EXIT_VIOLATION};
use crate::real::launcher::{self, Cluster, Ownership, Spec};
use crate::real::layout::Layout;
use crate::real::process::{self, NodeProcess};
use crate::real::DEFAULT_TICK_MS;
use clap::{Args, Subcommand};
use node::{NodeId, Variant};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long `cluster up` waits for the nodes to agree on the membership and hand the ranges
/// over before it returns.
const CONVERGE_MAX: Duration = Duration::from_secs(20);

/// The cluster folder when `--dir` is absent.
pub const DEFAULT_DIR: &str = "sim-cluster";

/// Arguments of `sim cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    command: ClusterCommand,
}

/// The cluster folder flag every cluster command shares.
#[derive(Debug, Clone, Args)]
pub struct DirArg {
    /// The cluster folder (cluster.json, pid files, logs).
    #[arg(long, default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Start node processes on 127.0.0.1 (logs and pid files in DIR) and leave them running.
    Up(UpArgs),
    /// Ask every node how it is.
    Status(DirArg),
    /// Kill every node process of DIR (also after the launcher crashed).
    Down(DirArg),
    /// One node process (started by `up`, `sim jepsen` and tests).
    #[command(hide = true)]
    Node(NodeArgs),
}

#[derive(Debug, Args)]
struct UpArgs {
    /// How many nodes (ids 1..=N).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(3..=16))]
    nodes: u8,
    #[command(flatten)]
    dir: DirArg,
    /// classic | versioned
    #[arg(long, default_value = "versioned", value_parser = super::parse_variant)]
    variant: Variant,
    /// Root seed of the nodes' random streams (drawn from the operating system when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Wall-clock milliseconds per tick.
    #[arg(long, default_value_t = DEFAULT_TICK_MS, value_parser = clap::value_parser!(u64).range(1..=1000))]
    tick_ms: u64,
    /// A planted bug every node runs with (see `sim bugs`).
    #[arg(long, default_value = "none", value_parser = super::parse_bug)]
    bug: node::PlantedBug,
    /// Each node process exits after this many seconds whatever happens.
    #[arg(long, default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    lifetime_secs: u64,
}

#[derive(Debug, Args)]
struct NodeArgs {
    #[arg(long)]
    dir: PathBuf,
    #[arg(long)]
    id: u8,
    #[arg(long, default_value_t = 0)]
    incarnation: u32,
    #[arg(long)]
    lifetime_secs: u64,
    /// Die with this launcher process.
    #[arg(long)]
    parent: Option<u32>,
}

/// Runs `sim cluster`.
pub fn run(args: ClusterArgs) -> Result<u8, Failure> {
    match args.command {
        ClusterCommand::Up(up) => run_up(up),
        ClusterCommand::Status(dir) => run_status(&dir.dir),
        ClusterCommand::Down(dir) => run_down(&dir.dir),
        ClusterCommand::Node(node) => {
            let process = NodeProcess {
                layout: Layout::new(&node.dir),
                id: NodeId(node.id),
                incarnation: node.incarnation,
                lifetime: Duration::from_secs(node.lifetime_secs),
                parent: node.parent,
            };
            process::run(&process).map_err(|e| Failure {
                code: EXIT_VIOLATION,
                message: e,
            })?;
            Ok(EXIT_OK)
        }
    }
}

/// The `sim` executable, to start node processes with.
pub fn own_exe() -> Result<PathBuf, Failure> {
    std::env::current_exe().map_err(|e| Failure {
        code: EXIT_VIOLATION,
        message: format!("cannot find the sim executable: {e}"),
    })
}

fn run_up(up: UpArgs) -> Result<u8, Failure> {
    let seed = up.seed.unwrap_or_else(super::fuzz::os_seed);
    let spec = Spec {
        nodes: up.nodes,
        variant: up.variant,
        seed,
        tick_ms: up.tick_ms,
        bug: up.bug,
        lifetime: Duration::from_secs(up.lifetime_secs),
        exe: own_exe()?,
    };
    let cluster = Cluster::up(&up.dir.dir, spec, Ownership::Detached).map_err(|e| Failure {
        code: EXIT_VIOLATION,
        message: e,
    })?;
    let file = cluster.file().clone();
    let converged = cluster.await_converged(CONVERGE_MAX);
    println!(
        "cluster up: {} {} nodes on 127.0.0.1:{}..={}, seed {seed}, tick {} ms, folder {}",
        file.nodes,
        file.variant.name(),
        file.base_port + 1,
        file.base_port + u16::from(file.nodes),
        file.tick_ms,
        cluster.layout().dir().display()
    );
    for id in file.ids() {
        println!(
            "  n{id} pid {} on {}",
            cluster.pid(id).unwrap_or(0),
            file.addr(id)
        );
    }
    if converged {
        println!("converged: every view full, hand-overs done");
    } else {
        println!("not converged within {CONVERGE_MAX:?}: see `sim cluster status`");
    }
    cluster.detach();
    Ok(EXIT_OK)
}

fn run_status(dir: &Path) -> Result<u8, Failure> {
    let layout = Layout::new(dir);
    let file = layout.read().map_err(Failure::usage)?;
    let statuses = launcher::statuses(&file);
    let mut answered = 0;
    for (id, status) in &statuses {
        let pid = layout
            .pid(*id)
            .map_or_else(|| "-".to_string(), |p| p.to_string());
        match status {
            Some(s) => {
                answered += 1;
                let c = &s.counters;
                println!(
                    "n{id} pid {pid} up: incarnation {}, tick {}, view {:?}, keys {}, pending {}, \
                     blocked {:?}, handovers {}; datagrams received {}, delivered {}, \
                     refused malformed {} oversized {} foreign {}, partitioned {}",
                    s.incarnation,
                    s.now_ticks,
                    s.view.iter().map(|n| n.0).collect::<Vec<_>>(),
                    s.stored_keys,
                    s.pending_ops,
                    s.blocked.iter().map(|n| n.0).collect::<Vec<_>>(),
                    if s.handovers_done { "done" } else { "running" },
                    c.received,
                    c.delivered,
                    c.malformed,
                    c.oversized,
                    c.foreign,
                    c.partitioned
                );
            }
            None => println!("n{id} pid {pid} not answering"),
        }
    }
    println!("{answered} of {} nodes answer", file.nodes);
    Ok(if answered == usize::from(file.nodes) {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    })
}

fn run_down(dir: &Path) -> Result<u8, Failure> {
    let layout = Layout::new(dir);
    if !layout.cluster_file().exists() {
        return Err(Failure::usage(format!(
            "{}: no cluster.json (no cluster in this folder)",
            layout.cluster_file().display()
        )));
    }
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let killed = launcher::down(&Layout::new(&dir));
    for (id, pid) in &killed {
        println!("n{id} pid {pid} killed");
    }
    println!("cluster down: {} node processes killed", killed.len());
    Ok(EXIT_OK)
}
