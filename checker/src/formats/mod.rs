//! Readers (and for the native format, a writer) of the history files `sim check` accepts.

pub mod jepsen_etcd;
pub mod jepsen_kv;
pub mod native;

use std::fmt;

/// Why a history file could not be read: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was expected (and, where useful, what was found).
    pub expected: String,
}

impl ParseError {
    /// An error on `line` (1-based).
    pub fn new(line: usize, expected: impl Into<String>) -> ParseError {
        ParseError {
            line,
            expected: expected.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.expected)
    }
}

/// Shows at most a few dozen characters of what was found, so an error stays one short line.
pub(crate) fn found(text: &str) -> String {
    const SHOWN_CHARS: usize = 40;
    if text.chars().count() <= SHOWN_CHARS {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(SHOWN_CHARS).collect();
        format!("{:?}…", head)
    }
}
