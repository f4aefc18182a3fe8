//! A witness as a plain-text timeline that a person reads in ten seconds: one line per
//! operation, a bar from invocation to completion, what it asked and what it got, and for each
//! read what it could have seen instead.
//!
//! The time axis is compressed to the order of events (every distinct instant gets two columns),
//! so short operations stay visible next to long ones, and bars that touch share a column, as
//! closed intervals should.

use crate::model::Explain;
use crate::witness::Witness;
use std::fmt::Write;

/// Renders `witness` (on `key`, which had `key_ops` operations); `unit` names the time axis
/// ("tick" for native histories, "line" for log files).
pub fn timeline<M: Explain>(
    model: &M,
    key: &str,
    key_ops: usize,
    witness: &Witness<M::Op, M::State>,
    unit: &str,
) -> String {
    let mut instants: Vec<_> = witness
        .ops
        .iter()
        .flat_map(|w| {
            let end = if w.answered_later {
                None
            } else {
                w.op.complete
            };
            std::iter::once(w.op.invoke).chain(end)
        })
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let column = |at| 2 * instants.binary_search(&at).unwrap_or(0);
    let width = 2 * instants.len();

    let rows: Vec<[String; 6]> = witness
        .ops
        .iter()
        .map(|w| {
            let op = &w.op;
            let start = column(op.invoke);
            let (end, tail) = match (op.complete, w.answered_later) {
                (Some(done), false) => (column(done) + 1, ']'),
                (Some(_), true) => (width - 1, '>'),
                (None, _) => (width - 1, '?'),
            };
            let bar: String = (0..width)
                .map(|c| match c {
                    c if c == start => '[',
                    c if c == end => tail,
                    c if c > start && c < end => '=',
                    _ => ' ',
                })
                .collect();
            let span = match op.complete {
                Some(done) => format!("{}-{}", op.invoke.tick, done.tick),
                None => format!("{}-?", op.invoke.tick),
            };
            let mut outcome = model.outcome(&op.op);
            if w.answered_later {
                outcome.push_str(" (answered later)");
            }
            if let Some(states) = &w.could_see {
                let mut seen: Vec<String> =
                    states.iter().map(|&s| model.describe_state(s)).collect();
                seen.sort();
                // Long strings are shown by their ends, so two states may read the same.
                seen.dedup();
                if w.could_see_more {
                    seen.push("others".to_string());
                }
                if seen.is_empty() {
                    outcome.push_str("; could have seen nothing");
                } else {
                    let _ = write!(outcome, "; could have seen {}", seen.join(" or "));
                }
            }
            [
                format!("#{}", op.id),
                op.client.to_string(),
                span,
                bar,
                model.describe(&op.op),
                outcome,
            ]
        })
        .collect();

    let header = [
        "op",
        "client",
        &format!("{unit}s"),
        "",
        "operation",
        "outcome",
    ];
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut text = String::new();
    let count = witness.ops.len();
    if witness.minimal {
        let _ = writeln!(
            text,
            "key {key:?}: these {count} of its {key_ops} operations cannot be linearized, \
             whatever the others did; without any one of them (and the reads of its value) \
             the rest can."
        );
    } else {
        let _ = writeln!(
            text,
            "key {key:?}: these {count} of its {key_ops} operations cannot be linearized, \
             whatever the others did (the budget ran out before the witness was shown to be \
             minimal)."
        );
    }
    let _ = writeln!(
        text,
        "Bars run from invocation [ to completion ]; bars that touch overlap in time. \
         > : answered after the conflict; ? : outcome unknown."
    );
    text.push('\n');
    let mut line = |cells: [&str; 6]| {
        let _ = writeln!(
            text,
            "{:>w0$}  {:>w1$}  {:<w2$}  |{:<w3$}|  {:<w4$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
        );
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
    }
    text
}
