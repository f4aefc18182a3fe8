//! Jepsen's etcd logs, as Porcupine's test data has them: one compare-and-set register.
//!
//! One event per line, fields separated by tabs (shown as spaces here) or runs of spaces:
//! ```text
//! INFO  jepsen.util - 0  :invoke  :read  nil
//! INFO  jepsen.util - 0  :ok  :read  3
//! INFO  jepsen.util - 1  :invoke  :cas  [0 3]
//! INFO  jepsen.util - 1  :fail  :cas  [0 3]
//! INFO  jepsen.util - 4  :info  :write  :timed-out
//! ```
//! A process has at most one operation open. `:ok` took effect; `:fail` did not (a failed cas
//! observed a value other than the expected one; a failed read or write carries nothing and is
//! dropped); `:info` is unknown (the operation stays open to the end; an unknown read carries
//! nothing and is dropped). An invocation never completed is unknown too. Real-time order is
//! line order.

use crate::formats::{found, ParseError};
use crate::history::{line_stamp, HistoryOp, Partition};
use crate::models::etcd::{EtcdModel, EtcdOp};
use rustc_hash::FxHashMap;

/// The name of the one register, where other formats have keys.
pub const REGISTER: &str = "register";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Read,
    Write(i64),
    Cas(i64, i64),
}

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::Read => ":read",
            Function::Write(_) => ":write",
            Function::Cas(..) => ":cas",
        }
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Never completed, or `:info`: unknown.
    Unknown,
    /// `:ok` on this line; a read saw this value (`None`: nil).
    Ok { line: usize, read: Option<i64> },
    /// `:fail` on this line.
    Fail { line: usize },
}

/// One invocation and how it ended.
struct Slot {
    process: u64,
    line: usize,
    function: Function,
    end: End,
}

/// Parses a log into the register model and its one partition.
pub fn parse(text: &str) -> Result<(EtcdModel, Vec<Partition<EtcdOp>>), ParseError> {
    let mut slots: Vec<Slot> = Vec::new();
    // Process -> index of its open slot.
    let mut open: FxHashMap<u64, usize> = FxHashMap::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let mut fields = raw.split_whitespace();
        if !(fields.next() == Some("INFO")
            && fields.next() == Some("jepsen.util")
            && fields.next() == Some("-"))
        {
            return Err(ParseError::new(
                line,
                format!(
                    "expected \"INFO jepsen.util - PROCESS :TYPE :F VALUE\", found {}",
                    found(raw.trim())
                ),
            ));
        }
        let process_text = fields.next().unwrap_or("");
        let process: u64 = process_text.parse().map_err(|_| {
            ParseError::new(
                line,
                format!("expected a process number, found {}", found(process_text)),
            )
        })?;
        let kind = fields.next().unwrap_or("");
        let name = fields.next().unwrap_or("");
        let value = fields.collect::<Vec<&str>>().join(" ");
        if kind == ":invoke" {
            if let Some(&previous) = open.get(&process) {
                return Err(ParseError::new(
                    line,
                    format!(
                        "expected process {process} to complete its {} from line {} before \
                         invoking again",
                        slots[previous].function.name(),
                        slots[previous].line
                    ),
                ));
            }
            let function = parse_invocation(line, name, &value)?;
            open.insert(process, slots.len());
            slots.push(Slot {
                process,
                line,
                function,
                end: End::Unknown,
            });
            continue;
        }
        if !matches!(kind, ":ok" | ":fail" | ":info") {
            return Err(ParseError::new(
                line,
                format!(
                    "expected :invoke, :ok, :fail or :info after the process, found {}",
                    found(kind)
                ),
            ));
        }
        let Some(slot) = open.remove(&process) else {
            return Err(ParseError::new(
                line,
                format!("expected an open invocation of process {process} to complete"),
            ));
        };
        let invoked = &mut slots[slot];
        if invoked.function.name() != name {
            return Err(ParseError::new(
                line,
                format!(
                    "expected process {process} to complete {} (invoked on line {}), found {}",
                    invoked.function.name(),
                    invoked.line,
                    found(name)
                ),
            ));
        }
        invoked.end = match kind {
            ":ok" => End::Ok {
                line,
                read: match invoked.function {
                    Function::Read => parse_read(line, &value)?,
                    Function::Write(_) | Function::Cas(..) => None,
                },
            },
            ":fail" => End::Fail { line },
            _ => End::Unknown,
        };
    }
    let mut model = EtcdModel::default();
    let ops = slots
        .iter()
        .filter_map(|slot| {
            let value = |model: &mut EtcdModel, v: i64| model.value(Some(v));
            let (op, complete) = match (slot.end, slot.function) {
                (End::Ok { line, read }, Function::Read) => {
                    (EtcdOp::Read(model.value(read)), Some(line))
                }
                (End::Ok { line, .. }, Function::Write(v)) => {
                    (EtcdOp::Write(value(&mut model, v)), Some(line))
                }
                (End::Ok { line, .. }, Function::Cas(from, to)) => (
                    EtcdOp::Cas {
                        from: value(&mut model, from),
                        to: value(&mut model, to),
                    },
                    Some(line),
                ),
                (End::Fail { line }, Function::Cas(from, to)) => (
                    EtcdOp::CasFailed {
                        from: value(&mut model, from),
                        to: value(&mut model, to),
                    },
                    Some(line),
                ),
                // A failed read or write, and an unknown read, carry nothing.
                (End::Fail { .. }, Function::Read | Function::Write(_))
                | (End::Unknown, Function::Read) => return None,
                (End::Unknown, Function::Write(v)) => {
                    (EtcdOp::MaybeWrite(value(&mut model, v)), None)
                }
                (End::Unknown, Function::Cas(from, to)) => (
                    EtcdOp::MaybeCas {
                        from: value(&mut model, from),
                        to: value(&mut model, to),
                    },
                    None,
                ),
            };
            Some(HistoryOp {
                id: slot.line as u64,
                client: slot.process,
                invoke: line_stamp(slot.line),
                complete: complete.map(line_stamp),
                op,
            })
        })
        .collect();
    Ok((
        model,
        vec![Partition {
            key: REGISTER.to_string(),
            ops,
        }],
    ))
}

fn integer(line: usize, text: &str, what: &str, whole: &str) -> Result<i64, ParseError> {
    text.parse::<i64>()
        .map_err(|_| ParseError::new(line, format!("expected {what}, found {}", found(whole))))
}

fn parse_invocation(line: usize, name: &str, value: &str) -> Result<Function, ParseError> {
    match name {
        ":read" => Ok(Function::Read),
        ":write" => Ok(Function::Write(integer(
            line,
            value,
            "an integer to write",
            value,
        )?)),
        ":cas" => {
            const PAIR: &str = "[FROM TO] with two integers";
            let pair = value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .map(|v| v.split_whitespace().collect::<Vec<_>>());
            match pair.as_deref() {
                Some([from, to]) => Ok(Function::Cas(
                    integer(line, from, PAIR, value)?,
                    integer(line, to, PAIR, value)?,
                )),
                _ => Err(ParseError::new(
                    line,
                    format!("expected {PAIR}, found {}", found(value)),
                )),
            }
        }
        other => Err(ParseError::new(
            line,
            format!("expected :read, :write or :cas, found {}", found(other)),
        )),
    }
}

fn parse_read(line: usize, value: &str) -> Result<Option<i64>, ParseError> {
    if value == "nil" {
        Ok(None)
    } else {
        integer(line, value, "the integer read, or nil", value).map(Some)
    }
}
