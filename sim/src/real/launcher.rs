//! Starting, killing, pausing and stopping the node processes of a local cluster.
//!
//! A cluster is owned (tests, `sim jepsen`) or detached (`sim cluster up`). An owned cluster's
//! nodes die with the launcher (the kernel's parent-death signal) and are killed when the
//! [`Cluster`] value drops, also while a failing test unwinds; a detached cluster's nodes run in
//! their own process group until `sim cluster down`, which finds them by their pid files (and
//! checks each pid is still one of this cluster's node processes before it kills it).

use super::client::Client;
use super::layout::{free_base_port, ClusterFile, Layout};
use super::wire::{Command, Status};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use node::{NodeId, PlantedBug, Variant};
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// How long a starting node has to answer its first status request.
const START_WAIT: Duration = Duration::from_secs(10);

/// How long a converged state must last before [`Cluster::await_converged`] believes it.
pub const CONVERGED_STABLE: Duration = Duration::from_millis(200);

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Nodes `1..=nodes`.
    pub nodes: u8,
    /// The store variant.
    pub variant: Variant,
    /// The root seed of the nodes' random streams.
    pub seed: u64,
    /// Wall-clock milliseconds per tick.
    pub tick_ms: u64,
    /// A planted bug, or `none`.
    pub bug: PlantedBug,
    /// Each node process exits after this long whatever happens.
    pub lifetime: Duration,
    /// The `sim` executable (the node process is its hidden `cluster node` subcommand).
    pub exe: PathBuf,
}

/// Whether the nodes outlive the launcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// They die with the launcher and when the [`Cluster`] drops.
    Owned,
    /// They run on (own process group) until `sim cluster down`.
    Detached,
}

/// A running local cluster.
#[derive(Debug)]
pub struct Cluster {
    layout: Layout,
    file: ClusterFile,
    spec: Spec,
    ownership: Ownership,
    children: BTreeMap<NodeId, Child>,
    incarnations: BTreeMap<NodeId, u32>,
}

impl Cluster {
    /// Starts every node in `dir` and waits until each answers; on any failure the nodes
    /// already started are killed.
    pub fn up(dir: &Path, spec: Spec, ownership: Ownership) -> Result<Cluster, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let layout = Layout::new(&dir);
        if let Ok(old) = layout.read() {
            if let Some((id, pid)) = live_nodes(&layout, &old).into_iter().next() {
                return Err(format!(
                    "{}: a cluster is already up there (node {id} is pid {pid}); \
                     `sim cluster down --dir {}` first",
                    dir.display(),
                    dir.display()
                ));
            }
        }
        let base_port = free_base_port(spec.nodes)
            .ok_or_else(|| format!("no {} free consecutive UDP ports on loopback", spec.nodes))?;
        let file = ClusterFile {
            nodes: spec.nodes,
            base_port,
            variant: spec.variant,
            seed: spec.seed,
            tick_ms: spec.tick_ms,
            bug: spec.bug,
        };
        layout
            .write(&file)
            .map_err(|e| format!("{}: {e}", layout.cluster_file().display()))?;
        let mut cluster = Cluster {
            layout,
            file,
            spec,
            ownership,
            children: BTreeMap::new(),
            incarnations: BTreeMap::new(),
        };
        let ids: Vec<NodeId> = cluster.file.ids().collect();
        for &id in &ids {
            if let Err(e) = cluster.spawn(id, 0) {
                cluster.down();
                return Err(e);
            }
        }
        for &id in &ids {
            if let Err(e) = cluster.await_answer(id) {
                cluster.down();
                return Err(e);
            }
        }
        Ok(cluster)
    }

    /// The cluster's file (ports, seed, variant).
    pub fn file(&self) -> &ClusterFile {
        &self.file
    }

    /// The cluster folder.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The pid of node `id`'s current process.
    pub fn pid(&self, id: NodeId) -> Option<u32> {
        self.children.get(&id).map(Child::id)
    }

    /// The current incarnation of node `id`.
    pub fn incarnation(&self, id: NodeId) -> u32 {
        self.incarnations.get(&id).copied().unwrap_or(0)
    }

    /// Kills node `id` with SIGKILL (no chance to say goodbye) and reaps it.
    pub fn kill(&mut self, id: NodeId) {
        if let Some(mut child) = self.children.remove(&id) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.layout.pid_file(id));
    }

    /// Starts node `id` again as a new incarnation with an empty store, and waits until it
    /// answers.
    pub fn restart(&mut self, id: NodeId) -> Result<(), String> {
        self.kill(id);
        let incarnation = self.incarnation(id) + 1;
        self.spawn(id, incarnation)?;
        self.await_answer(id)
    }

    /// Stops (SIGSTOP) or continues (SIGCONT) node `id`'s process.
    pub fn signal(&self, id: NodeId, signal: Signal) {
        if let Some(pid) = self.pid(id) {
            let _ = kill(Pid::from_raw(pid as i32), signal);
        }
    }

    /// Kills every node (also those known only by pid file) and reaps the ones it started.
    pub fn down(&mut self) {
        let ids: Vec<NodeId> = self.children.keys().copied().collect();
        for id in ids {
            // A stopped process dies of SIGKILL too.
            self.kill(id);
        }
        down(&self.layout);
    }

    /// Leaves the nodes running (a detached cluster after `sim cluster up`).
    pub fn detach(mut self) {
        self.children.clear();
    }

    fn spawn(&mut self, id: NodeId, incarnation: u32) -> Result<(), String> {
        let log_path = self.layout.log_file(id);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let err = log
            .try_clone()
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let _ = std::fs::remove_file(self.layout.pid_file(id));
        let mut command = std::process::Command::new(&self.spec.exe);
        command
            .arg("cluster")
            .arg("node")
            .arg("--dir")
            .arg(self.layout.dir())
            .arg("--id")
            .arg(id.0.to_string())
            .arg("--incarnation")
            .arg(incarnation.to_string())
            .arg("--lifetime-secs")
            .arg(self.spec.lifetime.as_secs().max(1).to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        match self.ownership {
            Ownership::Owned => {
                command.arg("--parent").arg(std::process::id().to_string());
            }
            Ownership::Detached => {
                command.process_group(0);
            }
        }
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", self.spec.exe.display()))?;
        self.children.insert(id, child);
        self.incarnations.insert(id, incarnation);
        Ok(())
    }

    /// Waits until node `id` answers a status request.
    fn await_answer(&mut self, id: NodeId) -> Result<(), String> {
        let mut client = Client::new().map_err(|e| format!("client socket: {e}"))?;
        let deadline = Instant::now() + START_WAIT;
        while Instant::now() < deadline {
            if let Some(child) = self.children.get_mut(&id) {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "node {id} exited at start ({status}); see {}",
                        self.layout.log_file(id).display()
                    ));
                }
            }
            if client
                .control(self.file.addr(id), &Command::Status)
                .is_some()
            {
                return Ok(());
            }
        }
        Err(format!("node {id} did not answer within {START_WAIT:?}"))
    }

    /// Waits until every node answers with the full view and its hand-overs done, twice in a row
    /// [`CONVERGED_STABLE`] apart (a steward may start a hand-over just after a view settles); `false`
    /// if that did not happen within `max`.
    pub fn await_converged(&self, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        let all: Vec<NodeId> = self.file.ids().collect();
        let mut converged_since: Option<Instant> = None;
        loop {
            let converged = statuses(&self.file).values().all(|s| {
                s.as_ref()
                    .is_some_and(|s| s.view == all && s.handovers_done)
            });
            let now = Instant::now();
            match (converged, converged_since) {
                (true, Some(since)) if now >= since + CONVERGED_STABLE => return true,
                (true, None) => converged_since = Some(now),
                (true, Some(_)) => {}
                (false, _) => converged_since = None,
            }
            if now >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.ownership == Ownership::Owned {
            self.down();
        }
    }
}

/// Every node's status, `None` for a node that does not answer.
pub fn statuses(file: &ClusterFile) -> BTreeMap<NodeId, Option<Status>> {
    let Ok(mut client) = Client::new() else {
        return file.ids().map(|id| (id, None)).collect();
    };
    file.ids()
        .map(|id| (id, client.control(file.addr(id), &Command::Status)))
        .collect()
}

/// Sends `command` to every node; the nodes that did not answer.
pub fn broadcast(file: &ClusterFile, command_for: impl Fn(NodeId) -> Command) -> Vec<NodeId> {
    let Ok(mut client) = Client::new() else {
        return file.ids().collect();
    };
    file.ids()
        .filter(|&id| client.control(file.addr(id), &command_for(id)).is_none())
        .collect()
}

/// The nodes of `file` whose pid file names a live node process of this cluster folder.
pub fn live_nodes(layout: &Layout, file: &ClusterFile) -> Vec<(NodeId, i32)> {
    file.ids()
        .filter_map(|id| {
            let pid = layout.pid(id)?;
            is_node_process(pid, layout.dir(), id).then_some((id, pid))
        })
        .collect()
}

/// Kills every live node process the pid files of `layout` name, and removes the pid files;
/// returns the nodes killed. Works after the launcher crashed: it needs only the folder.
pub fn down(layout: &Layout) -> Vec<(NodeId, i32)> {
    let ids: Vec<NodeId> = match layout.read() {
        Ok(file) => file.ids().collect(),
        Err(_) => (1..=u8::MAX).map(NodeId).collect(),
    };
    let mut killed = Vec::new();
    for id in ids {
        if let Some(pid) = layout.pid(id) {
            if is_node_process(pid, layout.dir(), id) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                killed.push((id, pid));
            }
            let _ = std::fs::remove_file(layout.pid_file(id));
        }
    }
    // Give the kernel a moment to take them down, so a status right after says so.
    let deadline = Instant::now() + Duration::from_secs(2);
    while killed
        .iter()
        .any(|&(id, pid)| is_node_process(pid, layout.dir(), id))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    killed
}

/// Whether `pid` is alive (not a zombie) and is node `id` of the cluster in `dir`, judged by
/// its command line, so a pid reused by another program is never killed.
pub fn is_node_process(pid: i32, dir: &Path, id: NodeId) -> bool {
    node_process_args(pid).is_some_and(|args| {
        has_flag(&args, "--dir", dir.as_os_str().as_encoded_bytes())
            && has_flag(&args, "--id", id.0.to_string().as_bytes())
    })
}

/// Every live node process of the cluster in `dir`, whatever its pid files say: what a test
/// looks for to prove nothing was left behind.
pub fn node_processes_in(dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&pid| {
            node_process_args(pid)
                .is_some_and(|args| has_flag(&args, "--dir", dir.as_os_str().as_encoded_bytes()))
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// The arguments of `pid` if it is a live (not zombie) `cluster node` process.
fn node_process_args(pid: i32) -> Option<Vec<Vec<u8>>> {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    // The state is the field after the parenthesized command name.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next());
    if matches!(state, Some("Z" | "X") | None) {
        return None;
    }
    let cmdline = std::fs::read(proc_dir.join("cmdline")).ok()?;
    let args: Vec<Vec<u8>> = cmdline.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    args.windows(2)
        .any(|w| w[0] == b"cluster" && w[1] == b"node")
        .then_some(args)
}

fn has_flag(args: &[Vec<u8>], flag: &str, value: &[u8]) -> bool {
    args.windows(2)
        .any(|w| w[0] == flag.as_bytes() && w[1] == value)
}
