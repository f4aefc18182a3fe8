//! The library side of `sim check FILE --format native|jepsen-kv|jepsen-etcd [--budget-ms MS]
//! [--json]`: read a history, judge it, and say so with the exit status design.md fixes.
//!
//! Exit status: 0 linearizable; 1 not linearizable (stdout shows the witness); 3 the budget ran
//! out (unknown); 2 the file could not be read or parsed (stderr: one line naming the file, the
//! line and what was expected). Nothing here panics on bad input.

use crate::budget::Budget;
use crate::check::{check, Report};
use crate::formats::{jepsen_etcd, jepsen_kv, native, ParseError};
use crate::history::Partition;
use crate::model::Explain;
use crate::models::kv::KvModel;
use crate::render::timeline;
use crate::search::Verdict;
use serde_json::json;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

/// A history file format `sim check` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON lines of the store's operations ([`crate::formats::native`]).
    Native,
    /// Porcupine's Jepsen key-value histories ([`crate::formats::jepsen_kv`]).
    JepsenKv,
    /// Jepsen's etcd logs ([`crate::formats::jepsen_etcd`]).
    JepsenEtcd,
}

impl Format {
    /// Every format, in the order the command line lists them.
    pub const ALL: [Format; 3] = [Format::Native, Format::JepsenKv, Format::JepsenEtcd];

    /// The name used on the command line and in `VERDICTS.tsv`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::JepsenKv => "jepsen-kv",
            Format::JepsenEtcd => "jepsen-etcd",
        }
    }

    /// What the time axis of the format counts.
    fn time_unit(self) -> &'static str {
        match self {
            Format::Native => "tick",
            Format::JepsenKv | Format::JepsenEtcd => "line",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|format| format.name() == name)
            .ok_or_else(|| {
                format!("unknown format {name:?}: expected native, jepsen-kv or jepsen-etcd")
            })
    }
}

/// What `sim check` prints and the status it exits with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckExit {
    /// 0 linearizable, 1 not, 2 malformed input, 3 unknown.
    pub code: i32,
    /// The verdict (and witness), or one JSON object on one line with `--json`.
    pub stdout: String,
    /// Empty, or one line saying what was wrong with the input.
    pub stderr: String,
}

/// The verdict on a history, in words a format-independent caller can print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Operations checked (those that carry information).
    pub ops: usize,
    /// Keys checked.
    pub keys: usize,
    /// The key found not linearizable.
    pub key: Option<String>,
    /// The source ids (op ids, or line numbers) of the witness's operations.
    pub witness_ids: Vec<u64>,
    /// Whether the witness was shown 1-minimal.
    pub minimal: bool,
    /// The witness as a timeline.
    pub timeline: Option<String>,
    /// Keys whose search ran out of budget.
    pub unknown_keys: Vec<String>,
}

fn judge<M: Explain>(
    mut model: M,
    partitions: &[Partition<M::Op>],
    budget: Budget,
    unit: &str,
) -> Judgement {
    let report: Report<M::Op, M::State> = check(&mut model, partitions, budget);
    let counterexample = report.counterexample.as_ref();
    Judgement {
        verdict: report.verdict,
        ops: report.ops,
        keys: report.keys,
        key: counterexample.map(|c| c.key.clone()),
        witness_ids: counterexample
            .map(|c| c.witness.ops.iter().map(|w| w.op.id).collect())
            .unwrap_or_default(),
        minimal: counterexample.is_some_and(|c| c.witness.minimal),
        timeline: counterexample.map(|c| timeline(&model, &c.key, c.key_ops, &c.witness, unit)),
        unknown_keys: report.unknown_keys,
    }
}

/// Parses `text` in `format` and judges it: `sim check` without the file and the printing.
pub fn check_text(text: &str, format: Format, budget: Budget) -> Result<Judgement, ParseError> {
    let unit = format.time_unit();
    Ok(match format {
        Format::Native => {
            let ops = native::parse_native(text)?;
            let (model, partitions) = KvModel::partitions(&ops);
            judge(model, &partitions, budget, unit)
        }
        Format::JepsenKv => {
            let (model, partitions) = jepsen_kv::parse(text)?;
            judge(model, &partitions, budget, unit)
        }
        Format::JepsenEtcd => {
            let (model, partitions) = jepsen_etcd::parse(text)?;
            judge(model, &partitions, budget, unit)
        }
    })
}

/// `sim check`: reads `path` in `format`, checks it within `budget_ms` of wall-clock time, and
/// says what it found, as text or (with `json`) as one JSON object on one line.
pub fn run_check(path: &Path, format: Format, budget_ms: u64, json: bool) -> CheckExit {
    let started = Instant::now();
    let shown = path.display();
    let malformed = |message: String| CheckExit {
        code: 2,
        stdout: String::new(),
        stderr: format!("error: {message}\n"),
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                return malformed(format!("{shown}:{line}: expected UTF-8 text"));
            }
        },
        Err(e) => return malformed(format!("{shown}: cannot read the file: {e}")),
    };
    let judgement = match check_text(&text, format, Budget::Millis(budget_ms)) {
        Ok(judgement) => judgement,
        Err(e) => return malformed(format!("{shown}:{}: {}", e.line, e.expected)),
    };
    let code = match judgement.verdict {
        Verdict::Linearizable => 0,
        Verdict::NotLinearizable => 1,
        Verdict::Unknown => 3,
    };
    let stdout = if json {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let object = json!({
            "file": shown.to_string(),
            "format": format.name(),
            "verdict": judgement.verdict.name(),
            "ops": judgement.ops,
            "keys": judgement.keys,
            "key": judgement.key,
            "witness_ids": judgement.witness_ids,
            "minimal": judgement.key.is_some().then_some(judgement.minimal),
            "unknown_keys": judgement.unknown_keys,
            "budget_ms": budget_ms,
            "elapsed_ms": (elapsed_ms * 1000.0).round() / 1000.0,
        });
        format!("{object}\n")
    } else {
        words(&judgement, budget_ms)
    };
    CheckExit {
        code,
        stdout,
        stderr: String::new(),
    }
}

fn words(judgement: &Judgement, budget_ms: u64) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let size = format!(
        "{} on {}",
        plural(judgement.ops, "operation"),
        plural(judgement.keys, "key")
    );
    match judgement.verdict {
        Verdict::Linearizable => format!("linearizable: {size}\n"),
        Verdict::NotLinearizable => format!(
            "not linearizable: {size}\n\n{}",
            judgement.timeline.as_deref().unwrap_or("")
        ),
        Verdict::Unknown => {
            let keys: Vec<String> = judgement
                .unknown_keys
                .iter()
                .map(|k| format!("{k:?}"))
                .collect();
            format!(
                "unknown: the budget of {budget_ms} ms ran out on {} {} before a verdict ({size})\n",
                if keys.len() == 1 { "key" } else { "keys" },
                keys.join(", ")
            )
        }
    }
}
