//! `sim jepsen`: a real test of a running local cluster, in the style of Jepsen.
//!
//! Closed-loop clients send operations through random nodes while the [`nemesis`] kills,
//! pauses and partitions one node at a time; then every fault is healed, the cluster is given a
//! quiet period to converge, and every key is read once. The [`history`] is recorded with
//! monotonic wall-clock times and judged by the same checker as a simulated run
//! ([`verdict`]). The history, the nemesis's log and the nodes' logs stay in the test's folder.

pub mod history;
pub mod nemesis;
pub mod verdict;
pub mod workload;

use crate::real::launcher::{statuses, Cluster, Ownership, Spec};
use checker::record::FinalNode;
use history::{Ending, History};
use nemesis::{heal, FaultKind, Nemesis, NemesisLog, Timing};
use node::{NodeId, PlantedBug, Variant};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verdict::Report;
use workload::{client_loop, final_reads, Workload};

/// Everything a test needs to know.
#[derive(Debug, Clone)]
pub struct JepsenConfig {
    /// Nodes `1..=nodes`.
    pub nodes: u8,
    /// The store variant.
    pub variant: Variant,
    /// The root seed: nodes, clients and the nemesis draw from its streams.
    pub seed: u64,
    /// Wall-clock milliseconds per tick.
    pub tick_ms: u64,
    /// A planted bug the nodes run with, or `none`.
    pub bug: PlantedBug,
    /// How long the fault phase lasts.
    pub duration: Duration,
    /// The nemesis's fault kinds and timing.
    pub nemesis: Vec<FaultKind>,
    /// How long faults hold and repairs may take.
    pub timing: Timing,
    /// The clients.
    pub workload: Workload,
    /// The test's folder (cluster files, logs, history, nemesis log, summary).
    pub dir: PathBuf,
    /// The `sim` executable.
    pub exe: PathBuf,
    /// Search steps the linearizability checker may spend (a count, as in `fuzz`).
    pub budget_steps: u64,
}

/// How long the clients keep going after the cluster has converged, before the final reads.
const SETTLE: Duration = Duration::from_millis(500);

/// Runs the test: starts a cluster in `config.dir`, tests it, tears it down (also on panic:
/// the cluster is owned), judges the history, and writes the folder's files.
pub fn run_jepsen(config: &JepsenConfig) -> Result<Report, String> {
    let lifetime = config.duration + config.timing.repair_max * 4 + Duration::from_secs(120);
    let spec = Spec {
        nodes: config.nodes,
        variant: config.variant,
        seed: config.seed,
        tick_ms: config.tick_ms,
        bug: config.bug,
        lifetime,
        exe: config.exe.clone(),
    };
    let mut cluster = Cluster::up(&config.dir, spec, Ownership::Owned)?;
    let file = cluster.file().clone();
    let ids: Vec<NodeId> = file.ids().collect();
    let history = History::new();
    let mut log = NemesisLog::default();
    if !cluster.await_converged(config.timing.repair_max) {
        return Err(format!(
            "the cluster did not converge within {:?} of starting; see {}",
            config.timing.repair_max,
            cluster.layout().dir().display()
        ));
    }
    let targets = Arc::new(Mutex::new(ids.iter().copied().collect()));
    let stop = AtomicBool::new(false);
    let nemesis = Nemesis {
        kinds: config.nemesis.clone(),
        timing: config.timing.clone(),
        seed: config.seed,
    };
    let started = Instant::now();
    let mut quiet_from_us = 0;
    let mut converged_at_us = None;
    // Clients run on scoped threads; the nemesis runs on this thread, so every node process is
    // started by the thread that owns the cluster (the parent-death signal follows the thread).
    std::thread::scope(|scope| {
        for index in 0..config.workload.clients {
            let (workload, file, targets, history, stop) =
                (&config.workload, &file, &targets, &history, &stop);
            scope.spawn(move || {
                client_loop(index, config.seed, workload, file, targets, history, stop);
            });
        }
        let until = started + config.duration;
        nemesis::run(&nemesis, &mut cluster, until, &targets, &history, &mut log);
        heal(&cluster, &history, &mut log);
        quiet_from_us = history.now_us();
        log.note(&history, "quiet: no more faults".into());
        if cluster.await_converged(config.timing.repair_max) {
            converged_at_us = Some(history.now_us());
            log.note(&history, "converged: views equal, hand-overs done".into());
        } else {
            log.note(&history, "did not converge in the quiet period".into());
        }
        std::thread::sleep(SETTLE);
        stop.store(true, Ordering::Relaxed);
    });
    let workload_us = history.now_us();
    final_reads(
        config.workload.keys,
        u64::from(config.workload.clients),
        &file,
        &ids,
        &history,
        config.workload.timeout,
    );
    let final_statuses = statuses(&file);
    let final_nodes: Vec<FinalNode> = final_statuses
        .iter()
        .map(|(id, status)| FinalNode {
            node: id.0,
            live: status.is_some(),
            view: status
                .as_ref()
                .map(|s| s.view.iter().map(|n| n.0).collect())
                .unwrap_or_default(),
            store: Vec::new(),
        })
        .collect();
    let params = crate::real::driver::cluster_params(&file);
    let record = history.record(Ending {
        nodes: &ids,
        params: &params,
        tick_ms: file.tick_ms,
        quiet_from_us,
        converged_at_us,
        final_nodes: &final_nodes,
    });
    cluster.down();
    let report = verdict::judge_run(config, &record, &log, &final_statuses, workload_us);
    report.write_files(config, &record, &log)?;
    Ok(report)
}
