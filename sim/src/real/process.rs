//! One node process: a UDP socket on loopback, a wall-clock tick, and the [`Driver`] between
//! them. This is the only place of the runtime that reads a clock for the node, and all it does
//! with it is decide when to call [`Driver::tick`].

use super::driver::{Datagrams, Driver};
use super::layout::Layout;
use super::wire::MAX_DATAGRAM_BYTES;
use node::NodeId;
use std::io::{ErrorKind, Write};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// How a node process is started (by the launcher, through the hidden `sim cluster node`).
#[derive(Debug, Clone)]
pub struct NodeProcess {
    /// The cluster folder.
    pub layout: Layout,
    /// The node.
    pub id: NodeId,
    /// Its incarnation: 0 at first start, one more at every restart.
    pub incarnation: u32,
    /// The process exits after this long whatever happens, so no loop runs unbounded.
    pub lifetime: Duration,
    /// The launcher's pid, when the node must not outlive it (tests, `sim jepsen`): the kernel
    /// kills the node when the launcher dies.
    pub parent: Option<u32>,
}

/// Runs the node until its lifetime ends. Errors (no cluster file, port taken) are one line.
pub fn run(process: &NodeProcess) -> Result<(), String> {
    if let Some(parent) = process.parent {
        die_with_parent(parent)?;
    }
    let cluster = process.layout.read()?;
    if !cluster.contains(process.id) {
        return Err(format!(
            "node {} is not in the cluster of {} nodes",
            process.id, cluster.nodes
        ));
    }
    let addr = cluster.addr(process.id);
    let socket = UdpSocket::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    write_pid_file(&process.layout, process.id)?;
    let tick = Duration::from_millis(cluster.tick_ms.max(1));
    let mut log = std::io::stdout().lock();
    let mut out: Datagrams = Vec::new();
    let _ = writeln!(
        log,
        "node {} incarnation {} on {addr}, seed {} (stream Node({}, {})), tick {} ms, variant {}",
        process.id,
        process.incarnation,
        cluster.seed,
        process.id,
        process.incarnation,
        cluster.tick_ms,
        cluster.variant.name()
    );
    let mut driver = Driver::start(cluster, process.id, process.incarnation, &mut out);
    let end = Instant::now() + process.lifetime;
    let mut next_tick = Instant::now() + tick;
    let mut buf = vec![0u8; MAX_DATAGRAM_BYTES + 1];
    loop {
        for (to, bytes) in out.drain(..) {
            // A send error (the peer's port closed) is a lost datagram, as on any network.
            let _ = socket.send_to(&bytes, to);
        }
        for line in driver.take_log() {
            let _ = writeln!(log, "{line}");
        }
        let now = Instant::now();
        if now >= end {
            let _ = writeln!(log, "lifetime over: exiting");
            return Ok(());
        }
        if now >= next_tick {
            driver.tick(&mut out);
            // Ticks missed while the process was stopped are not made up: its clock stopped.
            next_tick += tick;
            if next_tick <= now {
                next_tick = now + tick;
            }
            let _ = log.flush();
            continue;
        }
        let _ = socket.set_read_timeout(Some(next_tick - now));
        match socket.recv_from(&mut buf) {
            Ok((len, src)) => driver.receive(&buf[..len], src, &mut out),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // ICMP port-unreachable from an earlier send to a dead peer shows up here.
            Err(_) => {}
        }
    }
}

/// Asks the kernel to kill this process when its parent dies, then checks the parent is still
/// the launcher (it may have died before the request).
fn die_with_parent(parent: u32) -> Result<(), String> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("prctl(PR_SET_PDEATHSIG): {e}"))?;
    let actual = nix::unistd::getppid().as_raw();
    if u32::try_from(actual).ok() != Some(parent) {
        return Err(format!("launcher {parent} is gone (parent is {actual})"));
    }
    Ok(())
}

fn write_pid_file(layout: &Layout, id: NodeId) -> Result<(), String> {
    let path = layout.pid_file(id);
    let tmp = path.with_extension("pid.tmp");
    std::fs::write(&tmp, format!("{}\n", std::process::id()))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))
}
