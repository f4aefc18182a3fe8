//! `sim kv [--dir DIR] [--node N] create|read|update|delete KEY [VALUE]`: one request to a
//! running local cluster, its outcome printed the way the simulator prints a reply.
//!
//! Exit status: 0 ok; 1 rejected (a definite no: the key exists, or is missing); 3 unknown (a
//! timeout, no quorum, or no answer: it may or may not have taken effect); 2 bad usage or no
//! cluster in the folder.

use super::cluster::DirArg;
use super::{Failure, EXIT_OK, EXIT_VIOLATION};
use crate::real::client::Client;
use crate::recorder::outcome_of;
use checker::record::Outcome;
use clap::{Args, Subcommand};
use node::{NodeId, Request};
use std::rc::Rc;
use std::time::Duration;

/// Exit status of an operation whose outcome is unknown.
pub const EXIT_UNKNOWN: u8 = 3;

/// Arguments of `sim kv`.
#[derive(Debug, Args)]
pub struct KvArgs {
    #[command(flatten)]
    dir: DirArg,
    /// The node that coordinates the request.
    #[arg(long, default_value_t = 1)]
    node: u8,
    /// How long to wait for the answer.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    timeout_ms: u64,
    #[command(subcommand)]
    op: KvOp,
}

#[derive(Debug, Subcommand)]
enum KvOp {
    /// Create KEY with VALUE (refused if KEY exists).
    Create { key: String, value: String },
    /// Read KEY.
    Read { key: String },
    /// Update KEY to VALUE (refused if KEY is missing).
    Update { key: String, value: String },
    /// Delete KEY (refused if KEY is missing).
    Delete { key: String },
}

impl KvOp {
    fn request(self) -> Request {
        match self {
            KvOp::Create { key, value } => Request::Create {
                key: Rc::from(key),
                value: Rc::from(value),
            },
            KvOp::Read { key } => Request::Read { key: Rc::from(key) },
            KvOp::Update { key, value } => Request::Update {
                key: Rc::from(key),
                value: Rc::from(value),
            },
            KvOp::Delete { key } => Request::Delete { key: Rc::from(key) },
        }
    }
}

/// Runs `sim kv`.
pub fn run(args: KvArgs) -> Result<u8, Failure> {
    let layout = crate::real::layout::Layout::new(&args.dir.dir);
    let file = layout.read().map_err(Failure::usage)?;
    let node = NodeId(args.node);
    if !file.contains(node) {
        return Err(Failure::usage(format!(
            "--node: found {}; allowed 1..={}",
            args.node, file.nodes
        )));
    }
    let mut client = Client::new().map_err(|e| Failure {
        code: EXIT_VIOLATION,
        message: format!("client socket: {e}"),
    })?;
    let timeout = Duration::from_millis(args.timeout_ms);
    let Some(answer) = client.request(file.addr(node), 1, args.op.request(), timeout) else {
        println!("n{node} unknown: no answer within {} ms", args.timeout_ms);
        return Ok(EXIT_UNKNOWN);
    };
    let reply = &answer.reply;
    let outcome = outcome_of(reply);
    let acks: Vec<String> = reply.acks.iter().map(|a| a.from.to_string()).collect();
    println!(
        "n{node} {} {:?}{} acks=[{}]",
        match outcome {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Unknown => "unknown",
        },
        reply.reason,
        reply
            .value
            .as_ref()
            .map(|v| format!(" value={v}"))
            .unwrap_or_default(),
        acks.join(",")
    );
    Ok(match outcome {
        Outcome::Ok => EXIT_OK,
        Outcome::Rejected => EXIT_VIOLATION,
        Outcome::Unknown => EXIT_UNKNOWN,
    })
}
