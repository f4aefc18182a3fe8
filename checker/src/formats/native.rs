//! The native history format: what `sim replay --history-out` writes and `sim check --format
//! native` reads.
//!
//! JSON lines, one operation event per line, in real-time order. An operation has an `invoke`
//! event and, once answered, a `complete` event with the same `id`:
//!
//! ```text
//! {"event":"invoke","id":7,"client":2,"coordinator":3,"tick":100,"seq":5012,"op":"create","key":"k1","value":"v9"}
//! {"event":"complete","id":7,"tick":103,"seq":5100,"outcome":"ok","reason":"ok","output":null,"acks":[{"from":3,"value":null},{"from":5,"value":null}]}
//! ```
//!
//! `invoke` fields:
//! - `id` (unsigned integer, unique): the operation;
//! - `client` (unsigned integer): who issued it;
//! - `coordinator` (node id 0..=255, optional, default 0): the node that coordinated it;
//! - `tick`, `seq` (unsigned integers): when, as (virtual time, global event sequence number);
//! - `op`: `"create"`, `"read"`, `"update"` or `"delete"`;
//! - `key` (string);
//! - `value` (string): the value written, for `create` and `update` only.
//!
//! `complete` fields:
//! - `id`: an operation invoked on an earlier line and not yet completed;
//! - `tick`, `seq`: when the client got the answer; not before the invocation;
//! - `outcome`: `"ok"` (took effect), `"rejected"` (definitely did not; the reason observes the
//!   state) or `"unknown"` (may take effect once, any time after invocation, or never);
//! - `reason`: `"ok"`, `"exists"`, `"not-found"`, `"no-quorum"`, `"timeout"` or
//!   `"coordinator-crashed"`;
//! - `output` (string or null, optional, default null): for an `ok` read, the value read (null:
//!   absent); for a rejection, the value it observed, if the store said;
//! - `acks` (optional, default empty): the replica answers the coordinator counted, each
//!   `{"from": node id, "value": string or null}`.
//!
//! An operation with no `complete` line was never answered: its outcome is unknown. Blank lines
//! are ignored. Real-time order is `(tick, seq)` order; intervals are closed.

use crate::formats::{found, ParseError};
use crate::record::{Ack, KvInput, NodeId, Operation, Outcome, Reason, Stamp};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The history of a run in the native format.
pub fn write_native(ops: &[Operation]) -> String {
    // (stamp, completion after invocation at equal stamps, id) orders the lines in real time.
    let mut lines: Vec<((Stamp, bool, u64), String)> = Vec::with_capacity(ops.len() * 2);
    for op in ops {
        lines.push(((op.invoke, false, op.id), invoke_line(op)));
        if let Some(complete) = op.complete {
            lines.push(((complete, true, op.id), complete_line(op, complete)));
        }
    }
    lines.sort_by_key(|(order, _)| *order);
    let mut text = String::new();
    for (_, line) in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn json_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn json_option(text: Option<&str>) -> String {
    text.map_or_else(|| "null".to_string(), json_string)
}

fn invoke_line(op: &Operation) -> String {
    let (name, value) = match &op.input {
        KvInput::Create { value, .. } => ("create", Some(value.as_str())),
        KvInput::Read { .. } => ("read", None),
        KvInput::Update { value, .. } => ("update", Some(value.as_str())),
        KvInput::Delete { .. } => ("delete", None),
    };
    let mut line = format!(
        "{{\"event\":\"invoke\",\"id\":{},\"client\":{},\"coordinator\":{},\"tick\":{},\
         \"seq\":{},\"op\":\"{name}\",\"key\":{}",
        op.id,
        op.client,
        op.coordinator,
        op.invoke.tick,
        op.invoke.seq,
        json_string(op.input.key())
    );
    if let Some(value) = value {
        line.push_str(&format!(",\"value\":{}", json_string(value)));
    }
    line.push('}');
    line
}

fn complete_line(op: &Operation, at: Stamp) -> String {
    let acks: Vec<String> = op
        .acks
        .iter()
        .map(|ack| {
            format!(
                "{{\"from\":{},\"value\":{}}}",
                ack.from,
                json_option(ack.value.as_deref())
            )
        })
        .collect();
    format!(
        "{{\"event\":\"complete\",\"id\":{},\"tick\":{},\"seq\":{},\"outcome\":\"{}\",\
         \"reason\":\"{}\",\"output\":{},\"acks\":[{}]}}",
        op.id,
        at.tick,
        at.seq,
        outcome_name(op.outcome),
        reason_name(op.reason),
        json_option(op.output.as_deref()),
        acks.join(",")
    )
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::Rejected => "rejected",
        Outcome::Unknown => "unknown",
    }
}

const REASONS: [(Reason, &str); 6] = [
    (Reason::Ok, "ok"),
    (Reason::Exists, "exists"),
    (Reason::NotFound, "not-found"),
    (Reason::NoQuorum, "no-quorum"),
    (Reason::Timeout, "timeout"),
    (Reason::CoordinatorCrashed, "coordinator-crashed"),
];

fn reason_name(reason: Reason) -> &'static str {
    REASONS
        .iter()
        .find(|(r, _)| *r == reason)
        .map_or("ok", |(_, name)| name)
}

/// A JSON value as it appeared, cut short if long.
fn shown_json(value: &Value) -> String {
    const SHOWN_CHARS: usize = 40;
    let text = value.to_string();
    if text.chars().count() <= SHOWN_CHARS {
        text
    } else {
        format!("{}…", text.chars().take(SHOWN_CHARS).collect::<String>())
    }
}

/// One line's fields, with typed access that names the field in errors.
struct Fields<'a> {
    line: usize,
    map: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn error(&self, field: &str, expected: &str) -> ParseError {
        let shown = match self.map.get(field) {
            None => "nothing".to_string(),
            Some(value) => shown_json(value),
        };
        ParseError::new(
            self.line,
            format!("field \"{field}\": expected {expected}, found {shown}"),
        )
    }

    fn unsigned(&self, field: &str) -> Result<u64, ParseError> {
        self.map
            .get(field)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.error(field, "an unsigned integer"))
    }

    fn text(&self, field: &str) -> Result<&str, ParseError> {
        self.map
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| self.error(field, "a string"))
    }

    fn optional_text(&self, field: &str) -> Result<Option<String>, ParseError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.error(field, "a string or null")),
        }
    }

    fn node(&self, field: &str) -> Result<NodeId, ParseError> {
        self.map
            .get(field)
            .and_then(Value::as_u64)
            .and_then(|n| NodeId::try_from(n).ok())
            .ok_or_else(|| self.error(field, "a node id from 0 to 255"))
    }

    fn stamp(&self) -> Result<Stamp, ParseError> {
        Ok(Stamp {
            tick: self.unsigned("tick")?,
            seq: self.unsigned("seq")?,
        })
    }

    fn choice<T: Copy>(&self, field: &str, choices: &[(T, &str)]) -> Result<T, ParseError> {
        let name = self.map.get(field).and_then(Value::as_str);
        choices
            .iter()
            .find(|(_, n)| Some(*n) == name)
            .map(|(choice, _)| *choice)
            .ok_or_else(|| {
                let names: Vec<String> = choices.iter().map(|(_, n)| format!("\"{n}\"")).collect();
                self.error(field, &format!("one of {}", names.join(", ")))
            })
    }
}

/// An operation under construction: invoked, perhaps completed.
struct Invoked {
    line: usize,
    op: Operation,
    completed: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Create,
    Read,
    Update,
    Delete,
}

/// Parses a native history into operations sorted by invocation.
pub fn parse_native(text: &str) -> Result<Vec<Operation>, ParseError> {
    let mut ops: BTreeMap<u64, Invoked> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(raw)
            .map_err(|e| ParseError::new(line, format!("expected a JSON object ({e})")))?;
        let Value::Object(map) = &value else {
            return Err(ParseError::new(
                line,
                format!("expected a JSON object, found {}", found(raw.trim())),
            ));
        };
        let fields = Fields { line, map };
        let event = fields.choice("event", &[(true, "invoke"), (false, "complete")])?;
        let id = fields.unsigned("id")?;
        if event {
            if let Some(earlier) = ops.get(&id) {
                return Err(fields.error(
                    "id",
                    &format!("an id not yet used (line {} invoked it)", earlier.line),
                ));
            }
            ops.insert(
                id,
                Invoked {
                    line,
                    op: parse_invoke(&fields, id)?,
                    completed: false,
                },
            );
        } else {
            let Some(invoked) = ops.get_mut(&id) else {
                return Err(fields.error("id", "the id of an operation invoked on an earlier line"));
            };
            if invoked.completed {
                return Err(fields.error(
                    "id",
                    &format!(
                        "an operation not yet completed (line {} invoked it)",
                        invoked.line
                    ),
                ));
            }
            let at = fields.stamp()?;
            if at < invoked.op.invoke {
                return Err(fields.error(
                    "tick",
                    &format!(
                        "a completion (tick, seq) not before the invocation on line {}",
                        invoked.line
                    ),
                ));
            }
            complete(&fields, &mut invoked.op, at)?;
            invoked.completed = true;
        }
    }
    let mut ops: Vec<Operation> = ops.into_values().map(|invoked| invoked.op).collect();
    ops.sort_by_key(|op| (op.invoke, op.id));
    Ok(ops)
}

fn parse_invoke(fields: &Fields<'_>, id: u64) -> Result<Operation, ParseError> {
    let client = fields.unsigned("client")?;
    let coordinator = if fields.map.contains_key("coordinator") {
        fields.node("coordinator")?
    } else {
        0
    };
    let invoke = fields.stamp()?;
    let kind = fields.choice(
        "op",
        &[
            (Kind::Create, "create"),
            (Kind::Read, "read"),
            (Kind::Update, "update"),
            (Kind::Delete, "delete"),
        ],
    )?;
    let key = fields.text("key")?.to_string();
    let input = match kind {
        Kind::Create => KvInput::Create {
            key,
            value: fields.text("value")?.to_string(),
        },
        Kind::Update => KvInput::Update {
            key,
            value: fields.text("value")?.to_string(),
        },
        Kind::Read => KvInput::Read { key },
        Kind::Delete => KvInput::Delete { key },
    };
    Ok(Operation {
        id,
        client,
        coordinator,
        input,
        invoke,
        complete: None,
        // Never answered, unless a completion says otherwise.
        outcome: Outcome::Unknown,
        reason: Reason::Timeout,
        output: None,
        acks: Vec::new(),
    })
}

fn complete(fields: &Fields<'_>, op: &mut Operation, at: Stamp) -> Result<(), ParseError> {
    op.complete = Some(at);
    op.outcome = fields.choice(
        "outcome",
        &[
            (Outcome::Ok, "ok"),
            (Outcome::Rejected, "rejected"),
            (Outcome::Unknown, "unknown"),
        ],
    )?;
    op.reason = fields.choice("reason", &REASONS)?;
    op.output = fields.optional_text("output")?;
    op.acks = match fields.map.get("acks") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(acks)) => acks
            .iter()
            .map(|ack| {
                let map = ack.as_object().ok_or_else(|| {
                    fields.error(
                        "acks",
                        "a list of {\"from\": node id, \"value\": string or null}",
                    )
                })?;
                let ack_fields = Fields {
                    line: fields.line,
                    map,
                };
                Ok(Ack {
                    from: ack_fields.node("from")?,
                    value: ack_fields.optional_text("value")?,
                })
            })
            .collect::<Result<_, ParseError>>()?,
        Some(_) => {
            return Err(fields.error(
                "acks",
                "a list of {\"from\": node id, \"value\": string or null}",
            ))
        }
    };
    Ok(())
}
