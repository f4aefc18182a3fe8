//! Pictures of a run: a self-contained HTML page to explore it (`sim replay --html`), a static
//! SVG of the violation's window (`sim replay --svg`), and a campaign's page (`sim fuzz --html`,
//! `sim report --html`).
//!
//! A failing run is 1,400 to 30,000 trace events; a person finds a stale read in a picture in
//! seconds. Everything the pages need is inlined (no network, no outside library), and the same
//! run gives the same bytes, so the pages can be snapshot-tested.

pub mod campaign;
pub mod capture;
pub mod focus;
pub mod html;
pub mod model;
pub mod svg;

pub use model::{Picture, Source};
