//! The deterministic simulator: a seeded world with virtual time, a faulty network, crashes and a
//! client workload, the recorder of what happened, the graders, and the `sim` command.

pub mod allocator;
pub mod anomaly;
pub mod caught;
pub mod cli;
pub mod fuzz;
pub mod grader;
pub mod hunt;
pub mod judge;
pub mod net;
pub mod picture;
pub mod profile;
pub mod real;
pub mod recorder;
pub mod report;
pub mod run;
pub mod scenario;
pub mod seedfile;
pub mod shrink;
pub mod streams;
pub mod trace;
pub mod trace_hash;
pub mod validate;
pub mod workload;
pub mod world;
pub mod yaml_line;
