//! The original course graders, reproduced: their timelines on EmulNet, their logs, their scores.

pub mod kv;
pub mod log;
pub mod membership;

use crate::trace::TraceLevel;
use crate::world::World;
use kv::KvTest;
use membership::Mp1;
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::Path;

/// One grader scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Membership: one failure.
    Mp1Single,
    /// Membership: five failures.
    Mp1Multi,
    /// Membership: one failure under 10% message loss.
    Mp1Drop,
    /// Key-value: creates.
    Create,
    /// Key-value: deletes.
    Delete,
    /// Key-value: reads through failures.
    Read,
    /// Key-value: updates through failures.
    Update,
}

impl Scenario {
    /// The membership scenarios.
    pub const MP1: [Scenario; 3] = [Scenario::Mp1Single, Scenario::Mp1Multi, Scenario::Mp1Drop];
    /// The key-value scenarios.
    pub const KV: [Scenario; 4] = [
        Scenario::Create,
        Scenario::Delete,
        Scenario::Read,
        Scenario::Update,
    ];

    /// The name used on the command line and for log files.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Mp1Single => "mp1-single",
            Scenario::Mp1Multi => "mp1-multi",
            Scenario::Mp1Drop => "mp1-drop",
            Scenario::Create => "create",
            Scenario::Delete => "delete",
            Scenario::Read => "read",
            Scenario::Update => "update",
        }
    }

    /// Full marks of the scenario under the original rules.
    pub fn max_points(self) -> u32 {
        match self {
            Scenario::Mp1Single | Scenario::Mp1Multi | Scenario::Mp1Drop => 30,
            Scenario::Create => 3,
            Scenario::Delete => 7,
            Scenario::Read | Scenario::Update => 40,
        }
    }

    /// Runs the scenario with `seed`.
    pub fn run(self, seed: u64, trace: TraceLevel) -> ScenarioRun {
        match self {
            Scenario::Mp1Single => membership::run(Mp1::Single, seed, trace),
            Scenario::Mp1Multi => membership::run(Mp1::Multi, seed, trace),
            Scenario::Mp1Drop => membership::run(Mp1::Drop, seed, trace),
            Scenario::Create => kv::run(KvTest::Create, seed, trace),
            Scenario::Delete => kv::run(KvTest::Delete, seed, trace),
            Scenario::Read => kv::run(KvTest::Read, seed, trace),
            Scenario::Update => kv::run(KvTest::Update, seed, trace),
        }
    }
}

/// What `sim grader` was asked to run: one scenario or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// One scenario.
    One(Scenario),
    /// The three membership scenarios.
    Mp1,
    /// The four key-value scenarios.
    Kv,
    /// All seven.
    All,
}

impl Selection {
    /// Every accepted name, for help and errors.
    pub const NAMES: [&'static str; 10] = [
        "all",
        "mp1",
        "kv",
        "mp1-single",
        "mp1-multi",
        "mp1-drop",
        "create",
        "delete",
        "read",
        "update",
    ];

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Selection> {
        Some(match name {
            "all" => Selection::All,
            "mp1" => Selection::Mp1,
            "kv" => Selection::Kv,
            _ => Selection::One(
                Scenario::MP1
                    .iter()
                    .chain(Scenario::KV.iter())
                    .copied()
                    .find(|s| s.name() == name)?,
            ),
        })
    }

    /// The scenarios, in the order they run.
    pub fn scenarios(self) -> Vec<Scenario> {
        match self {
            Selection::One(s) => vec![s],
            Selection::Mp1 => Scenario::MP1.to_vec(),
            Selection::Kv => Scenario::KV.to_vec(),
            Selection::All => Scenario::MP1
                .iter()
                .chain(Scenario::KV.iter())
                .copied()
                .collect(),
        }
    }

    /// Whether `--log` names a directory (groups) rather than a file.
    pub fn is_group(self) -> bool {
        !matches!(self, Selection::One(_))
    }

    /// The words before the total on the last report line.
    fn total_label(self) -> String {
        match self {
            Selection::One(s) => format!("{} total", s.name()),
            Selection::Mp1 => "membership total".to_string(),
            Selection::Kv => "key-value total".to_string(),
            Selection::All => "total".to_string(),
        }
    }
}

/// One scored part of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// What it checks.
    pub name: String,
    /// Points it is worth.
    pub max: u32,
    /// Points scored.
    pub got: u32,
}

impl Part {
    /// A part worth `max` points, all scored if `passed`.
    pub fn new(name: impl Into<String>, max: u32, passed: bool) -> Part {
        Part {
            name: name.into(),
            max,
            got: if passed { max } else { 0 },
        }
    }
}

/// The outcome of one scenario run.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The log, in the original format, one line per entry.
    pub log: Vec<String>,
    /// The scored parts.
    pub parts: Vec<Part>,
    /// The trace hash of the run.
    pub trace_hash: u64,
    /// Events in the trace.
    pub trace_events: u64,
}

impl ScenarioRun {
    /// Bundles a finished run.
    pub fn new(log: Vec<String>, parts: Vec<Part>, world: &World) -> ScenarioRun {
        ScenarioRun {
            log,
            parts,
            trace_hash: world.trace().hash(),
            trace_events: world.trace().events(),
        }
    }

    /// Points scored.
    pub fn points(&self) -> u32 {
        self.parts.iter().map(|p| p.got).sum()
    }

    /// The log as one text, as written to a file.
    pub fn log_text(&self) -> String {
        let mut text = self.log.join("\n");
        text.push('\n');
        text
    }

    /// Writes the log to `path`, over what the file held: written in place and then cut to
    /// its length, rather than emptied first. Emptying a file frees its blocks and writing
    /// allocates them again, which on this project's disk took 128 us for a 6 KB log against
    /// 8 us in place, a tenth of a whole membership scenario.
    pub fn write_log(&self, path: &Path) -> io::Result<()> {
        let text = self.log_text();
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        file.write_all(text.as_bytes())?;
        file.set_len(text.len() as u64)
    }
}

/// Runs every scenario of a selection with one seed.
pub fn run_selection(selection: Selection, seed: u64) -> Vec<(Scenario, ScenarioRun)> {
    selection
        .scenarios()
        .into_iter()
        .map(|s| (s, s.run(seed, TraceLevel::HashOnly)))
        .collect()
}

/// The score report a person reads; its last line is the total.
pub fn report(selection: Selection, seed: u64, runs: &[(Scenario, ScenarioRun)]) -> String {
    let mut out = String::new();
    let mut got = 0;
    let mut max = 0;
    for (scenario, run) in runs {
        let _ = writeln!(
            out,
            "{} (seed {seed}, trace {:016x})",
            scenario.name(),
            run.trace_hash
        );
        for part in &run.parts {
            let _ = writeln!(out, "  {:<34} {:>2}/{:<2}", part.name, part.got, part.max);
        }
        let _ = writeln!(
            out,
            "  {:<34} {:>2}/{:<2}",
            "score",
            run.points(),
            scenario.max_points()
        );
        got += run.points();
        max += scenario.max_points();
    }
    let _ = writeln!(out, "{}: {got}/{max}", selection.total_label());
    out
}

/// Whether every scenario scored full marks.
pub fn full_marks(runs: &[(Scenario, ScenarioRun)]) -> bool {
    runs.iter().all(|(s, r)| r.points() == s.max_points())
}
