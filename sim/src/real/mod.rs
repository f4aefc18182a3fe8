//! The real runtime: the same [`node::Node`] driven by real UDP sockets on 127.0.0.1 and a
//! wall-clock tick, one operating-system process per node, instead of by the simulated world.
//!
//! - [`wire`]: the datagram encoding (version byte, postcard, size limit);
//! - [`driver`]: the node between its datagrams and its step function (no socket, no clock);
//! - [`process`]: one node process (socket, tick, log);
//! - [`layout`]: a cluster folder (`cluster.json`, pid files, logs);
//! - [`launcher`]: starting, killing, pausing and stopping node processes;
//! - [`client`]: operations and control commands sent to nodes;
//! - [`jepsen`]: a Jepsen-style test of a running cluster judged by the checker.

pub mod client;
pub mod driver;
pub mod jepsen;
pub mod launcher;
pub mod layout;
pub mod process;
pub mod wire;

/// Wall-clock milliseconds per node tick unless `--tick-ms` says otherwise: with the
/// simulator's parameters a member is suspected after 50 ms of silence, removed after 200 ms,
/// and a coordinator gives up on an operation after 150 ms.
pub const DEFAULT_TICK_MS: u64 = 10;
