//! The real runtime: node processes on loopback, tested for real and torn down whatever
//! happens. Every test checks that no node process of its folder is left behind.

use node::{NodeId, Request, Variant};
use sim::real::client::Client;
use sim::real::jepsen::nemesis::{FaultKind, Timing};
use sim::real::jepsen::verdict::Verdict;
use sim::real::jepsen::workload::Workload;
use sim::real::jepsen::{run_jepsen, JepsenConfig};
use sim::real::launcher::{node_processes_in, Cluster, Ownership, Spec};
use sim::real::layout::{ClusterFile, Layout};
use sim::real::wire::{self, Command, Packet, MAX_DATAGRAM_BYTES};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::rc::Rc;
use std::time::{Duration, Instant};

const SIM: &str = env!("CARGO_BIN_EXE_sim");

/// A fresh folder under the target directory, named after the test.
fn folder(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("real-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

fn spec(nodes: u8, seed: u64) -> Spec {
    Spec {
        nodes,
        variant: Variant::Versioned,
        seed,
        tick_ms: 10,
        bug: node::PlantedBug::None,
        lifetime: Duration::from_secs(120),
        exe: PathBuf::from(SIM),
    }
}

/// Waits (a bounded time) until no node process of `dir` is alive, and says which remain.
fn strays_after_wait(dir: &Path) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = node_processes_in(dir);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A short test's configuration: 5 nodes, 4 clients on 6 keys, faults of under a second.
fn short_test(dir: &Path, variant: Variant, nemesis: Vec<FaultKind>) -> JepsenConfig {
    JepsenConfig {
        nodes: 5,
        variant,
        seed: 11,
        tick_ms: 10,
        bug: node::PlantedBug::None,
        duration: Duration::from_secs(5),
        nemesis,
        timing: Timing {
            hold_ms: (600, 900),
            gap_ms: (100, 200),
            repair_max: Duration::from_secs(10),
        },
        workload: Workload {
            clients: 4,
            keys: 6,
            timeout: Duration::from_secs(1),
            think_ms_max: 5,
        },
        dir: dir.to_path_buf(),
        exe: PathBuf::from(SIM),
        budget_steps: 50_000_000,
    }
}

/// Runs a test (catching a panic inside it), checks no node process of its folder is left
/// whatever happened, then hands back its report.
fn run_leaving_nothing(config: &JepsenConfig) -> sim::real::jepsen::verdict::Report {
    let result = std::panic::catch_unwind(|| run_jepsen(config));
    let left = strays_after_wait(&config.dir);
    assert!(left.is_empty(), "node processes left behind: {left:?}");
    result.expect("the test ran").expect("the cluster started")
}

#[test]
fn a_short_test_through_kill_restart_and_partition_is_linearizable() {
    let dir = folder("jepsen");
    let nemesis = vec![FaultKind::Kill, FaultKind::Partition];
    let config = short_test(&dir, Variant::Versioned, nemesis);
    let report = run_leaving_nothing(&config);
    assert_eq!(report.verdict, Verdict::Holds, "{}", report.summary);
    assert!(
        report.faults.get("kill").copied().unwrap_or(0) >= 1,
        "{}",
        report.summary
    );
    assert!(
        report.faults.get("partition").copied().unwrap_or(0) >= 1,
        "{}",
        report.summary
    );
    assert!(report.outcomes["ok"] > 50, "{}", report.summary);
    let nemesis = std::fs::read_to_string(dir.join("nemesis.log")).unwrap();
    assert!(nemesis.contains("kill -9 n"), "{nemesis}");
    assert!(nemesis.contains("restart n"), "{nemesis}");
    assert!(nemesis.contains("partition n"), "{nemesis}");
    // The kept history is one `sim check` reads and finds linearizable.
    let status = std::process::Command::new(SIM)
        .args(["check", "--format", "native"])
        .arg(dir.join("history.jsonl"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_real_test_catches_a_planted_bug() {
    // A coordinator that succeeds on one reply: every `ok` breaks `quorum`, so a verdict of
    // "holds" elsewhere is not the checker seeing nothing.
    let dir = folder("planted");
    let mut config = short_test(&dir, Variant::Classic, Vec::new());
    config.bug = node::PlantedBug::OneReplyQuorum;
    config.duration = Duration::from_secs(1);
    let report = run_leaving_nothing(&config);
    assert_eq!(report.verdict, Verdict::Violated, "{}", report.summary);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.property == checker::properties::Property::Quorum),
        "{}",
        report.summary
    );
}

#[test]
fn an_owned_cluster_is_killed_when_the_test_holding_it_panics() {
    let dir = folder("panic");
    let result = std::panic::catch_unwind(|| {
        let cluster = Cluster::up(&dir, spec(3, 2), Ownership::Owned).unwrap();
        assert_eq!(node_processes_in(&dir).len(), 3);
        let _keep = cluster;
        panic!("a failing test");
    });
    assert!(result.is_err());
    assert_eq!(strays_after_wait(&dir), Vec::<i32>::new());
}

#[test]
fn nodes_die_with_a_launcher_killed_by_sigkill_and_down_cleans_a_detached_cluster() {
    // An owned cluster whose launcher is killed with SIGKILL (no Drop runs): the kernel's
    // parent-death signal takes the nodes down.
    let dir = folder("launcher-crash");
    let mut launcher = std::process::Command::new(SIM)
        .args([
            "jepsen",
            "--nodes",
            "3",
            "--duration",
            "60s",
            "--seed",
            "3",
            "--dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while node_processes_in(&dir).len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(node_processes_in(&dir).len(), 3, "the nodes started");
    launcher.kill().unwrap();
    launcher.wait().unwrap();
    assert_eq!(strays_after_wait(&dir), Vec::<i32>::new());

    // A detached cluster outlives `sim cluster up`; `sim cluster down` finds it by pid file.
    let dir = folder("detached");
    let _guard = DownOnDrop(dir.clone());
    let up = std::process::Command::new(SIM)
        .args([
            "cluster",
            "up",
            "--nodes",
            "3",
            "--seed",
            "4",
            "--lifetime-secs",
            "120",
        ])
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let running = node_processes_in(&dir);
    let kv = |args: &[&str]| {
        let out = std::process::Command::new(SIM)
            .arg("kv")
            .arg("--dir")
            .arg(&dir)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stdout, stderr)
    };
    // Scripts read the exit status: 0 ok, 1 rejected, 2 bad usage (one line on stderr).
    let session = [
        kv(&["create", "k1", "v1"]),
        kv(&["create", "k1", "v2"]),
        kv(&["--node", "2", "read", "k1"]),
        kv(&["--node", "3", "update", "k1", "v3"]),
        kv(&["delete", "k1"]),
        kv(&["read", "k1"]),
        kv(&["--node", "9", "read", "k1"]),
    ];
    let shown: Vec<(Option<i32>, String)> = session
        .iter()
        .map(|(code, out, err)| {
            let line = if out.is_empty() { err } else { out };
            // Which replicas acknowledged depends on timing; the rest does not.
            let line = line.split(" acks=").next().unwrap_or("").trim().to_string();
            (*code, line)
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (Some(0), "n1 ok Ok".to_string()),
            (Some(1), "n1 rejected Exists value=v1".to_string()),
            (Some(0), "n2 ok Ok value=v1".to_string()),
            (Some(0), "n3 ok Ok".to_string()),
            (Some(0), "n1 ok Ok".to_string()),
            (Some(1), "n1 rejected NotFound".to_string()),
            (Some(2), "error: --node: found 9; allowed 1..=3".to_string()),
        ],
        "{session:?}"
    );
    assert_eq!(session[6].2.lines().count(), 1);
    let down = std::process::Command::new(SIM)
        .args(["cluster", "down", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    // Kill them directly too before asserting, so a failure here leaves nothing behind.
    let left = strays_after_wait(&dir);
    for pid in &left {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status();
    }
    assert_eq!(running.len(), 3);
    assert!(down.status.success());
    assert_eq!(left, Vec::<i32>::new());
}

/// Kills a detached cluster by its pid files when dropped, so a failing assertion does not
/// leave it running.
struct DownOnDrop(PathBuf);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        sim::real::launcher::down(&Layout::new(&self.0));
    }
}

/// Sends `bytes` from `client`'s socket to `to`, paced so the node's receive buffer never
/// overflows (a datagram the kernel drops would never reach the node's counters).
fn send_raw(client: &Client, to: std::net::SocketAddr, bytes: &[u8]) {
    client.socket().send_to(bytes, to).unwrap();
    std::thread::sleep(Duration::from_micros(300));
}

#[test]
fn a_node_keeps_serving_through_garbage_truncated_oversized_and_foreign_datagrams() {
    let dir = folder("garbage");
    let cluster = Cluster::up(&dir, spec(3, 5), Ownership::Owned).unwrap();
    let file: ClusterFile = Layout::new(&dir).read().unwrap();
    let target = file.addr(NodeId(1));
    let mut client = Client::new().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        // xorshift: the test's own bytes, nothing the node sees but as datagrams
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..300 {
        let len = (next() % 200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i % 2 == 0 && !bytes.is_empty() {
            bytes[0] = wire::WIRE_VERSION;
        }
        send_raw(&client, target, &bytes);
    }
    let request = wire::encode(&Packet::Request {
        op: 1,
        request: Request::Create {
            key: Rc::from("kx"),
            value: Rc::from("vx"),
        },
    })
    .unwrap();
    for cut in 1..request.len() {
        send_raw(&client, target, &request[..cut]);
    }
    send_raw(
        &client,
        target,
        &vec![wire::WIRE_VERSION; MAX_DATAGRAM_BYTES + 100],
    );
    let gossip = |from: u8| {
        wire::encode(&Packet::Peer {
            from: NodeId(from),
            message: node::Message::JoinRequest {
                member: node::Digest {
                    id: NodeId(from),
                    incarnation: 0,
                    heartbeat: 1,
                },
            },
        })
        .unwrap()
    };
    // Node 77 is outside the cluster; node 2 does not send from a client's port.
    send_raw(&client, target, &gossip(77));
    send_raw(&client, target, &gossip(2));
    let status = client
        .control(target, &Command::Status)
        .expect("it answers");
    let c = status.counters;
    assert!(c.malformed >= 300, "{c:?}");
    assert!(c.oversized >= 1, "{c:?}");
    assert!(c.foreign >= 2, "{c:?}");
    assert_eq!(
        status.view,
        vec![NodeId(1), NodeId(2), NodeId(3)],
        "no stranger joined"
    );
    for (op, request) in [
        (
            10,
            Request::Create {
                key: Rc::from("k1"),
                value: Rc::from("v1"),
            },
        ),
        (
            11,
            Request::Read {
                key: Rc::from("k1"),
            },
        ),
    ] {
        let answer = client
            .request(target, op, request, Duration::from_secs(2))
            .expect("an answer");
        assert!(answer.reply.success, "{answer:?}");
    }
    drop(cluster);
    assert_eq!(strays_after_wait(&dir), Vec::<i32>::new());
}

#[test]
fn bad_flags_and_missing_clusters_are_one_line_and_exit_2() {
    let missing = folder("missing");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["jepsen", "--duration", "0s"],
        vec!["jepsen", "--duration", "soon"],
        vec!["jepsen", "--nemesis", "kill,flood"],
        vec!["jepsen", "--nodes", "2"],
        vec!["cluster", "up", "--nodes", "200"],
        vec!["cluster", "status", "--dir", missing],
        vec!["cluster", "down", "--dir", missing],
        vec!["kv", "--dir", missing, "read", "k1"],
        vec!["kv", "read"],
    ] {
        let out = std::process::Command::new(SIM)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
