//! The original program's `dbg.log`: built from a run's observations, and parsed back for scoring.
//!
//! Scoring reads the log text, as the original grader scripts did, so a line in the wrong format
//! costs points here exactly as it would have there.

use node::{NodeId, Observation, Tick};
use std::fmt::{self, Write as _};

/// The magic number the original log starts with.
pub const MAGIC_FIRST_LINE: &str = "131";

/// Bytes reserved for a line up front: the longest lines (a store line with its key and value)
/// are under 100 bytes, so a line is formatted without growing its string step by step.
const LINE_CAPACITY: usize = 128;

/// A store line's `, value=<v>` tail, or nothing for an operation without a value: written
/// into the line rather than formatted into a string of its own first.
struct ValueTail<'a>(Option<&'a str>);

impl fmt::Display for ValueTail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(f, ", value={value}"),
            None => Ok(()),
        }
    }
}

/// A log under construction: lines with the global sequence number that orders them.
#[derive(Debug, Default)]
pub struct LogBuilder {
    lines: Vec<(u64, String)>,
}

impl LogBuilder {
    /// Adds a line logged by `node` at `tick`.
    pub fn push(&mut self, seq: u64, tick: Tick, node: NodeId, message: impl fmt::Display) {
        let mut line = String::with_capacity(LINE_CAPACITY);
        let _ = write!(line, " {} [{tick}] {message}", node.address());
        self.lines.push((seq, line));
    }

    /// Adds the lines the original program logged for a node's observations.
    pub fn add_observations<'a>(
        &mut self,
        observations: impl IntoIterator<Item = &'a (Tick, u64, NodeId, Observation)>,
    ) {
        for (tick, seq, node, observation) in observations {
            match observation {
                Observation::MemberAdded { member } => self.push(
                    *seq,
                    *tick,
                    *node,
                    format_args!("Node {} joined at time {tick}", member.address()),
                ),
                Observation::MemberRemoved { member } => self.push(
                    *seq,
                    *tick,
                    *node,
                    format_args!("Node {} removed at time {tick}", member.address()),
                ),
                Observation::StoreOp {
                    role,
                    kind,
                    txn,
                    key,
                    value,
                    success,
                } => {
                    let outcome = if *success { "success" } else { "fail" };
                    let value = ValueTail(value.as_deref());
                    self.push(
                        *seq,
                        *tick,
                        *node,
                        format_args!(
                            "{}: {} {outcome} at time {tick}, transID={txn}, key={key}{value}",
                            role.name(),
                            kind.name()
                        ),
                    )
                }
                Observation::MemberSuspected { .. }
                | Observation::SuspicionRefuted { .. }
                | Observation::MemberRejoined { .. }
                | Observation::ReplicaStored { .. }
                | Observation::HandedOver { .. }
                | Observation::BallotConflict { .. }
                | Observation::ReadRepair { .. }
                | Observation::EpochRefused { .. }
                | Observation::NotRecovered { .. }
                | Observation::RangeRecovered { .. }
                | Observation::HandoverDone { .. }
                | Observation::Voted { .. }
                | Observation::Decided { .. }
                | Observation::WriteRouted { .. }
                | Observation::WriteForwarded { .. } => {}
            }
        }
    }

    /// The lines in order, after the magic first line.
    pub fn finish(mut self) -> Vec<String> {
        self.lines.sort_by_key(|(seq, _)| *seq);
        std::iter::once(MAGIC_FIRST_LINE.to_string())
            .chain(self.lines.into_iter().map(|(_, l)| l))
            .collect()
    }
}

/// One parsed log line: ` <addr> [<tick>] <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The logging node's address.
    pub logger: &'a str,
    /// The tick in brackets.
    pub tick: Tick,
    /// The rest of the line.
    pub message: &'a str,
}

/// Parses a log line; `None` for the magic line and anything not in the original shape.
pub fn parse_line(line: &str) -> Option<LogLine<'_>> {
    let rest = line.strip_prefix(' ')?;
    let (logger, rest) = rest.split_once(" [")?;
    let (tick, message) = rest.split_once("] ")?;
    Some(LogLine {
        logger,
        tick: tick.parse().ok()?,
        message,
    })
}

/// The value of a `name=value` field in a store line (fields end at `, ` or the line's end).
pub fn field<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    let start = message.find(&format!("{name}="))? + name.len() + 1;
    let rest = &message[start..];
    Some(rest.split(", ").next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let line = " 3.0.0.0:0 [151] server: create success at time 151, transID=7, key=Ab3xZ, value=value42";
        let parsed = parse_line(line).unwrap();
        assert_eq!(parsed.logger, "3.0.0.0:0");
        assert_eq!(parsed.tick, 151);
        assert_eq!(field(parsed.message, "key"), Some("Ab3xZ"));
        assert_eq!(field(parsed.message, "value"), Some("value42"));
        assert_eq!(field(parsed.message, "transID"), Some("7"));
        assert_eq!(parse_line("131"), None);
    }
}
