//! The deterministic simulator: a seeded world with virtual time, a faulty network, crashes and a
//! client workload, the recorder of what happened, the graders, and the `sim` command.

pub mod cli;
pub mod grader;
pub mod net;
pub mod recorder;
pub mod streams;
pub mod trace;
pub mod trace_hash;
pub mod world;
