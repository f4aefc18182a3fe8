//! Closed-loop clients: each thread issues one operation at a time (create, read, update or
//! delete on a small key space, so operations collide) through a random node that is not known
//! to be down, with a value no other operation writes, so every read can be attributed.

use super::history::History;
use crate::real::client::Client;
use crate::real::layout::ClusterFile;
use crate::streams::{stream, Consumer};
use node::random::{below, between};
use node::{NodeId, Request};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the clients do.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Client threads.
    pub clients: u32,
    /// Keys `k0 ..`.
    pub keys: u32,
    /// A client waits this long for an answer; after it the operation stays open (unknown).
    pub timeout: Duration,
    /// The most a client pauses between operations (drawn uniformly from 0 up to it).
    pub think_ms_max: u64,
}

/// The nodes clients may send to: every node the nemesis has not killed.
pub type Targets = Arc<Mutex<BTreeSet<NodeId>>>;

/// The key `k<i>`.
pub fn key(i: u32) -> Rc<str> {
    Rc::from(format!("k{i}"))
}

/// Runs client `index` until `stop` is set. Its choices come from the seed's `Client(index)`
/// stream; what the cluster answers, and when, is the real world's.
pub fn client_loop(
    index: u32,
    seed: u64,
    workload: &Workload,
    cluster: &ClusterFile,
    targets: &Targets,
    history: &History,
    stop: &AtomicBool,
) {
    let Ok(mut client) = Client::new() else {
        return;
    };
    let mut rng = stream(seed, Consumer::Client(index));
    let mut written = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let live: Vec<NodeId> = targets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect();
        if live.is_empty() {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let node = live[below(&mut rng, live.len() as u64) as usize];
        let key = key(below(&mut rng, u64::from(workload.keys)) as u32);
        written += 1;
        let value = || Rc::from(format!("c{index}v{written}"));
        let request = match below(&mut rng, 4) {
            0 => Request::Create {
                key,
                value: value(),
            },
            1 => Request::Read { key },
            2 => Request::Update {
                key,
                value: value(),
            },
            _ => Request::Delete { key },
        };
        let id = history.invoke(u64::from(index), node, &request);
        if let Some(answer) = client.request(cluster.addr(node), id, request, workload.timeout) {
            history.complete(id, &answer);
        }
        let think = between(&mut rng, 0, workload.think_ms_max);
        std::thread::sleep(Duration::from_millis(think));
    }
}

/// Reads every key once, through the live nodes in turn, retrying a read that got no definite
/// answer on the next node (a few times at most): the final state the checker sees.
pub fn final_reads(
    keys: u32,
    client_id: u64,
    cluster: &ClusterFile,
    live: &[NodeId],
    history: &History,
    timeout: Duration,
) {
    let Ok(mut client) = Client::new() else {
        return;
    };
    let mut turn = 0usize;
    for i in 0..keys {
        for _attempt in 0..3 {
            let Some(&node) = live.get(turn % live.len().max(1)) else {
                return;
            };
            turn += 1;
            let request = Request::Read { key: key(i) };
            let id = history.invoke(client_id, node, &request);
            if let Some(answer) = client.request(cluster.addr(node), id, request, timeout) {
                let definite = answer.reply.success || answer.reply.rejected;
                history.complete(id, &answer);
                if definite {
                    break;
                }
            }
        }
    }
}
