//! Pure functions over what a run recorded: histories, linearizability, guarantee checks.
//!
//! This crate does not depend on `node`: it re-derives what it needs (for example which 3 nodes
//! must hold a key) from its own small oracle, so a bug in the node's ring code cannot hide itself.
//!
//! What the simulator calls:
//! - [`check_record`]: the guarantee [`Property`]s over a [`record::RunRecord`], each with its
//!   violations as data (class, key, operations, nodes) and their signatures; its
//!   [`CheckOptions`] take the budget ([`Budget::Steps`] inside `fuzz`) and the scope of
//!   `stabilization`;
//! - [`run_check`]: `sim check FILE --format F [--budget-ms MS] [--json]`, as an exit status and
//!   the text to print;
//! - [`write_native`]: a run's history in the format `sim check --format native` reads.
//!
//! How the linearizability checker is built: [`history`] (operations and their intervals),
//! [`model`] and [`models`] (sequential specifications), [`search`] (the Wing-Gong-Lowe search
//! for one key), [`check`] (all keys within one [`budget`]), [`witness`] and [`render`] (a
//! minimal counterexample as a timeline), [`formats`] (the history files).

#![warn(missing_docs)]

pub mod budget;
pub mod check;
pub mod cli;
pub mod formats;
pub mod history;
pub mod intern;
mod lookahead;
mod memo;
pub mod model;
pub mod models;
pub mod properties;
pub mod record;
pub mod render;
pub mod ring;
pub mod search;
pub mod witness;

pub use budget::Budget;
pub use cli::{run_check, CheckExit, Format};
pub use formats::native::write_native;
pub use properties::{
    check_record, CheckOptions, Class, Property, PropertyReport, StabilizationScope, Violation,
};
pub use search::Verdict;
