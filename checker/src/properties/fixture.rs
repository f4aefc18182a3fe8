//! A small healthy run for the property tests: five nodes that agree on membership, a few
//! operations on two keys acknowledged by their replicas, and final stores that match. Each
//! property's tests change it the way a real bug would.

use super::{check_record, CheckOptions, Property, Violation};
use crate::record::{
    Ack, Bounds, FinalNode, KvInput, NodeId, Operation, Outcome, Reason, RunRecord, Stamp,
    StoreEvent, StoredKey, Tick, ViewChange, Window,
};
use crate::ring::replicas;
use crate::Budget;

pub const NODES: [NodeId; 5] = [1, 2, 3, 4, 5];

/// The violations `property` reports on `record`. The budget is one search step: enough for
/// every property but `linearizable`, whose tests give it a real budget.
pub fn violations(record: &RunRecord, property: Property) -> Vec<Violation> {
    check_record(record, &[property], CheckOptions::new(Budget::Steps(1)))
        .remove(0)
        .violations
}

/// The stamp of `tick`; `n` separates events inside one tick.
pub fn at(tick: Tick, n: u64) -> Stamp {
    Stamp {
        tick,
        seq: tick * 1000 + n,
    }
}

/// The replicas of `key` among all five nodes.
pub fn replicas_of(key: &str) -> Vec<NodeId> {
    replicas(key, &NODES, 3)
}

/// An operation answered `ok` at `done`, acknowledged by the key's first two replicas (with the
/// value read, for a read).
pub fn ok(id: u64, input: KvInput, invoke: Tick, done: Tick, output: Option<&str>) -> Operation {
    let acks = replicas_of(input.key())[..2]
        .iter()
        .map(|&from| Ack {
            from,
            value: match input {
                KvInput::Read { .. } => output.map(str::to_string),
                _ => None,
            },
        })
        .collect();
    Operation {
        output: output.map(str::to_string),
        acks,
        ..failed(id, input, invoke, done, Outcome::Ok, Reason::Ok)
    }
}

/// An operation answered with a definite or unknown failure.
pub fn failed(
    id: u64,
    input: KvInput,
    invoke: Tick,
    done: Tick,
    outcome: Outcome,
    reason: Reason,
) -> Operation {
    Operation {
        id,
        client: id,
        coordinator: 1,
        input,
        invoke: at(invoke, id),
        complete: Some(at(done, id)),
        outcome,
        reason,
        output: None,
        acks: Vec::new(),
    }
}

pub fn create(key: &str, value: &str) -> KvInput {
    KvInput::Create {
        key: key.into(),
        value: value.into(),
    }
}

pub fn update(key: &str, value: &str) -> KvInput {
    KvInput::Update {
        key: key.into(),
        value: value.into(),
    }
}

pub fn read(key: &str) -> KvInput {
    KvInput::Read { key: key.into() }
}

pub fn delete(key: &str) -> KvInput {
    KvInput::Delete { key: key.into() }
}

/// Every replica of `key` stores `value` just before tick `tick`.
pub fn stored_on_replicas(key: &str, value: Option<&str>, tick: Tick) -> Vec<StoreEvent> {
    replicas_of(key)
        .into_iter()
        .map(|node| StoreEvent {
            at: at(tick - 1, 500 + u64::from(node)),
            node,
            key: key.into(),
            value: value.map(str::to_string),
        })
        .collect()
}

/// Five nodes that learned of each other at tick 1, two keys written, read, updated and
/// deleted, all acknowledged by their replicas; at the end "k1" holds "v2" on its replicas and
/// "k3" is gone.
pub fn healthy() -> RunRecord {
    let history = vec![
        ok(1, create("k1", "v1"), 100, 103, None),
        ok(2, create("k3", "v3"), 105, 108, None),
        ok(3, read("k1"), 110, 112, Some("v1")),
        ok(4, update("k1", "v2"), 120, 123, None),
        ok(5, delete("k3"), 130, 133, None),
        ok(6, read("k3"), 140, 142, None),
        failed(
            7,
            create("k1", "v9"),
            150,
            152,
            Outcome::Rejected,
            Reason::Exists,
        ),
        ok(8, read("k1"), 160, 162, Some("v2")),
    ];
    let mut stored = Vec::new();
    stored.extend(stored_on_replicas("k1", Some("v1"), 103));
    stored.extend(stored_on_replicas("k3", Some("v3"), 108));
    stored.extend(stored_on_replicas("k1", Some("v2"), 123));
    stored.extend(stored_on_replicas("k3", None, 133));
    let views = NODES
        .iter()
        .flat_map(|&node| {
            NODES
                .iter()
                .filter(move |&&member| member != node)
                .map(move |&member| ViewChange {
                    at: at(1, u64::from(node) * 10 + u64::from(member)),
                    node,
                    member,
                    added: true,
                })
        })
        .collect();
    let final_nodes = NODES
        .iter()
        .map(|&node| FinalNode {
            node,
            live: true,
            view: NODES.to_vec(),
            store: if replicas_of("k1").contains(&node) {
                vec![StoredKey {
                    key: "k1".into(),
                    value: Some("v2".into()),
                    version: 0,
                }]
            } else {
                Vec::new()
            },
        })
        .collect();
    RunRecord {
        nodes: NODES.to_vec(),
        history,
        views,
        stored,
        process_events: Vec::new(),
        agreement: Vec::new(),
        routes: Vec::new(),
        forwards: Vec::new(),
        log: Vec::new(),
        clean_network: vec![Window { from: 0, to: 1000 }],
        settled: Vec::new(),
        quiet_from: 90,
        converged_at: Some(50),
        tick_cap: 1000,
        final_nodes,
        bounds: Bounds {
            tfail_ticks: 5,
            tremove_ticks: 20,
            detection_slack_ticks: 10,
            op_timeout_ticks: 10,
            response_slack_ticks: 5,
            replicas: 3,
            quorum: 2,
            gossip_fanout: 2,
            sweep_interval_ticks: 10,
            delay_ticks_max: 3,
        },
        fault_draws: Vec::new(),
        held_links: Vec::new(),
        seed_nodes: Vec::new(),
        join_requests: Vec::new(),
        gossip_peak: None,
        probe_peak: None,
        rejoins: Vec::new(),
        range_events: Vec::new(),
        handovers: Vec::new(),
        quick_resends: Vec::new(),
        unchanged_listed: Vec::new(),
        recoveries: Vec::new(),
        clock_rates: Vec::new(),
        panic: None,
    }
}
