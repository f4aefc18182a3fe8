//! A static SVG of the violation's window: node lanes, the key's operations as bars, the
//! witness's messages as arrows and the moment the violation is certain. No script, fixed
//! number formatting, so the same run gives the same bytes (for READMEs, issues and snapshots).

use super::html::escape;
use super::model::{class_of, Picture};
use checker::record::Outcome;
use node::Tick;
use std::fmt::Write as _;

/// Width of the drawing, in pixels.
const WIDTH_PX: f64 = 960.0;
/// Room for lane labels on the left.
const LABEL_PX: f64 = 64.0;
/// Height of a node lane.
const LANE_PX: f64 = 26.0;
/// Height of an operation row.
const ROW_PX: f64 = 20.0;
/// Arrows drawn at most; past this the window says how many it left out.
const ARROWS_MAX: usize = 400;
/// Ticks shown before the first witness operation and after the violation.
const MARGIN_TICKS: Tick = 4;
/// Operations on the key shown for a violation that names a key but no operation.
const KEY_OPS_SHOWN: usize = 4;
/// Ticks shown before an end-of-run violation that names no key and no operation.
const LOOKBACK_TICKS: Tick = 40;

/// Jepsen's outcome colours.
fn outcome_colour(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "#6DB6FE",
        Outcome::Rejected => "#FEB5DA",
        Outcome::Unknown => "#FFAA26",
    }
}

/// The colour of a message class (the page uses the same).
fn class_colour(kind: &str) -> &'static str {
    use super::model::MessageClass::*;
    match class_of(kind) {
        Client => "#1f77b4",
        Agreement => "#2ca02c",
        Refusal => "#d62728",
        Repair => "#9467bd",
        Membership => "#7f7f7f",
    }
}

/// The violation's window (for a run that passed, its first ticks), from the rest of the picture.
pub fn window(p: &Picture) -> (Tick, Tick) {
    let end = p.meta.ticks;
    let Some(f) = &p.focus else {
        return (0, end.min(LOOKBACK_TICKS * 2));
    };
    let key = f
        .key
        .as_ref()
        .and_then(|k| p.keys.iter().position(|x| x == k));
    let mut on_key: Vec<Tick> = (0..p.ops.id.len())
        .filter(|&i| Some(p.ops.key[i]) == key && p.ops.invoke[i] <= f.tick)
        .map(|i| p.ops.invoke[i])
        .collect();
    on_key.sort_unstable();
    let first = p
        .ops
        .id
        .iter()
        .zip(&p.ops.invoke)
        .filter(|(id, _)| f.ops.contains(id))
        .map(|(_, &t)| t)
        .min()
        // A violation of a key that names no operation: the key's last few operations.
        .or_else(|| {
            on_key
                .get(on_key.len().saturating_sub(KEY_OPS_SHOWN))
                .copied()
        })
        .unwrap_or(f.tick.saturating_sub(LOOKBACK_TICKS));
    (
        first.saturating_sub(MARGIN_TICKS),
        (f.tick + MARGIN_TICKS).min(end).max(first + 1),
    )
}

/// The operations the SVG draws: those on the focused key (or every one) that overlap the window.
fn rows(p: &Picture, (t0, t1): (Tick, Tick)) -> Vec<usize> {
    let key = p
        .focus
        .as_ref()
        .and_then(|f| f.key.as_ref())
        .and_then(|k| p.keys.iter().position(|x| x == k));
    (0..p.ops.id.len())
        .filter(|&i| key.is_none_or(|k| p.ops.key[i] == k))
        .filter(|&i| {
            let done = u64::try_from(p.ops.complete[i]).unwrap_or(p.meta.ticks);
            p.ops.invoke[i] <= t1 && done >= t0
        })
        .collect()
}

/// The messages the SVG draws: the witness's, else the focused key's, in the window.
fn arrows(p: &Picture, (t0, t1): (Tick, Tick)) -> Vec<usize> {
    let m = &p.messages;
    let witness: Vec<i64> = p
        .focus
        .as_ref()
        .map(|f| f.ops.iter().map(|&o| o as i64).collect())
        .unwrap_or_default();
    let key = p
        .focus
        .as_ref()
        .and_then(|f| f.key.as_ref())
        .and_then(|k| p.keys.iter().position(|x| x == k))
        .map(|k| k as i64);
    let in_window = |i: usize| m.sent[i] >= t0 && m.sent[i] <= t1;
    let by_op: Vec<usize> = (0..m.id.len())
        .filter(|&i| in_window(i) && witness.contains(&m.op[i]))
        .collect();
    if !by_op.is_empty() {
        return by_op;
    }
    (0..m.id.len())
        .filter(|&i| in_window(i) && (key.is_none() || m.key[i] == key.unwrap_or(-1)))
        .collect()
}

/// The SVG of `p`'s violation window (or of its first ticks, for a run that passed).
pub fn render(p: &Picture) -> String {
    let (t0, t1) = p.window;
    let ops = rows(p, (t0, t1));
    let mut arrows = arrows(p, (t0, t1));
    let left_out = arrows.len().saturating_sub(ARROWS_MAX);
    arrows.truncate(ARROWS_MAX);
    let top = 34.0;
    let lanes_px = LANE_PX * p.nodes.len() as f64;
    let rows_top = top + lanes_px + 10.0;
    let height = rows_top + ROW_PX * ops.len() as f64 + 26.0;
    let span = (t1 - t0).max(1) as f64;
    let x = |t: f64| LABEL_PX + (t - t0 as f64) / span * (WIDTH_PX - LABEL_PX - 12.0);
    let lane_y = |n: u8| {
        let i = p.nodes.iter().position(|&m| m == n).unwrap_or(0);
        top + LANE_PX * (i as f64 + 0.5)
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"witness\" viewBox=\"0 0 {WIDTH_PX:.0} {height:.0}\" \
         width=\"{WIDTH_PX:.0}\" height=\"{height:.0}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <defs><marker id=\"head\" viewBox=\"0 0 6 6\" refX=\"6\" refY=\"3\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\">\
         <path d=\"M0,0 L6,3 L0,6 z\" fill=\"context-stroke\"/></marker></defs>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    let headline = match &p.focus {
        Some(f) => format!("{} ({}), ticks {t0}-{t1}", f.signature, f.property),
        None => format!("passed: ticks {t0}-{t1} of {}", p.meta.ticks),
    };
    let _ = writeln!(
        s,
        "<text x=\"8\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        escape(&headline)
    );
    // Tick scale.
    let step = ((span / 10.0).ceil() as Tick).max(1);
    let mut t = t0.div_ceil(step) * step;
    while t <= t1 {
        let _ = writeln!(
            s,
            "<line x1=\"{:.1}\" y1=\"{top:.0}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eeeeee\"/>\
             <text x=\"{:.1}\" y=\"{:.0}\" fill=\"#888888\" text-anchor=\"middle\">{t}</text>",
            x(t as f64),
            x(t as f64),
            height - 20.0,
            x(t as f64),
            top - 4.0
        );
        t += step;
    }
    // Node lanes with their down time.
    for &n in &p.nodes {
        let y = lane_y(n);
        let _ = writeln!(
            s,
            "<text x=\"8\" y=\"{:.1}\">n{n}</text><line x1=\"{LABEL_PX:.0}\" y1=\"{y:.1}\" x2=\"{:.0}\" y2=\"{y:.1}\" stroke=\"#bbbbbb\"/>",
            y + 4.0,
            WIDTH_PX - 12.0
        );
        for (from, to) in down_spans(p, n) {
            let (a, b) = (from.max(t0), to.min(t1));
            if a < b {
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#cccccc\" opacity=\"0.7\"><title>n{n} down</title></rect>",
                    x(a as f64),
                    y - LANE_PX / 2.0 + 2.0,
                    x(b as f64) - x(a as f64),
                    LANE_PX - 4.0
                );
            }
        }
    }
    // Messages.
    let m = &p.messages;
    for &i in &arrows {
        let kind = p.kinds[m.kind[i]];
        let colour = class_colour(kind);
        let (x1, y1) = (x(m.sent[i] as f64), lane_y(m.from[i]));
        let y2 = lane_y(m.to[i]);
        match u64::try_from(m.delivered[i]) {
            Ok(d) => {
                let _ = writeln!(
                    s,
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{:.1}\" y2=\"{y2:.1}\" stroke=\"{colour}\" marker-end=\"url(#head)\"><title>#{} {kind} n{} -&gt; n{}</title></line>",
                    x(d as f64),
                    m.id[i],
                    m.from[i],
                    m.to[i]
                );
            }
            Err(_) => {
                // The stub ends near the receiver, so the cross says whose message was lost.
                let (x2, ym) = (x(m.sent[i] as f64 + 0.6), y1 + (y2 - y1) * 0.85);
                let _ = writeln!(
                    s,
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{ym:.1}\" stroke=\"{colour}\" stroke-dasharray=\"2,2\"/>\
                     <text x=\"{x2:.1}\" y=\"{:.1}\" fill=\"#d62728\" text-anchor=\"middle\">\u{2715}<title>#{} {kind} n{} -&gt; n{} {}</title></text>",
                    ym + 4.0,
                    m.id[i],
                    m.from[i],
                    m.to[i],
                    lost_reason(p, i)
                );
            }
        }
    }
    // Operations on the key.
    let witness: &[u64] = p.focus.as_ref().map_or(&[], |f| &f.ops);
    for (row, &i) in ops.iter().enumerate() {
        let y = rows_top + ROW_PX * row as f64;
        let done = u64::try_from(p.ops.complete[i]).ok();
        let (a, b) = (p.ops.invoke[i].max(t0), done.unwrap_or(t1).min(t1));
        let in_witness = witness.contains(&p.ops.id[i]);
        let label = op_label(p, i);
        // A bar near the right edge carries its label on its left.
        let (text_x, anchor) = if x(a as f64) > WIDTH_PX * 0.7 {
            (x(a as f64) - 3.0, "end")
        } else {
            (x(a as f64) + 3.0, "start")
        };
        let _ = writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\" opacity=\"{}\"/>\
             <text x=\"{text_x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            x(a as f64),
            x(b as f64 + 1.0).min(WIDTH_PX - 12.0) - x(a as f64),
            ROW_PX - 4.0,
            outcome_colour(p.ops.outcome[i]),
            if in_witness { "#000000" } else { "none" },
            if in_witness { 2 } else { 0 },
            if in_witness || witness.is_empty() { "1" } else { "0.45" },
            y + ROW_PX - 8.0,
            escape(&label)
        );
    }
    if let Some(f) = &p.focus {
        let xv = x(f.tick as f64 + 1.0).min(WIDTH_PX - 12.0);
        let _ = writeln!(
            s,
            "<line x1=\"{xv:.1}\" y1=\"{top:.0}\" x2=\"{xv:.1}\" y2=\"{:.1}\" stroke=\"#d62728\" stroke-width=\"2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#d62728\" text-anchor=\"end\">violation certain at tick {}</text>",
            height - 20.0,
            xv - 4.0,
            height - 8.0,
            f.tick
        );
    }
    if left_out > 0 {
        let _ = writeln!(
            s,
            "<text x=\"8\" y=\"{:.1}\" fill=\"#888888\">{left_out} more messages not drawn</text>",
            height - 8.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Why message `i` was never delivered.
fn lost_reason(p: &Picture, i: usize) -> &'static str {
    p.fates[p.messages.fate[i]]
}

/// `#12 create k0=c1v2 ok` or `#13 read k0 ok c1v2`.
fn op_label(p: &Picture, i: usize) -> String {
    let o = &p.ops;
    let value = o.value[i]
        .as_ref()
        .map(|v| format!("={v}"))
        .unwrap_or_default();
    let saw = o.output[i]
        .as_ref()
        .map(|v| format!(" saw {v}"))
        .unwrap_or_default();
    let outcome = match o.outcome[i] {
        Outcome::Ok => "ok",
        Outcome::Rejected => "rejected",
        Outcome::Unknown => "?",
    };
    format!(
        "#{} c{} {} {}{value} {outcome}{saw}",
        o.id[i], o.client[i], o.kind[i], p.keys[o.key[i]]
    )
}

/// The ticks node `n` was down: from each crash to the next start (or the end).
fn down_spans(p: &Picture, n: u8) -> Vec<(Tick, Tick)> {
    let mut out = Vec::new();
    let mut down_since = None;
    for &(tick, node, incarnation) in &p.lives {
        if node != n {
            continue;
        }
        match (incarnation < 0, down_since) {
            (true, None) => down_since = Some(tick),
            (false, Some(since)) => {
                out.push((since, tick));
                down_since = None;
            }
            _ => {}
        }
    }
    if let Some(since) = down_since {
        out.push((since, p.meta.ticks));
    }
    out
}
