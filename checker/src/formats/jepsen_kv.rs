//! Porcupine's Jepsen key-value histories: one EDN map per line.
//!
//! ```text
//! {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
//! {:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
//! {:process 1, :type :invoke, :f :get, :key "1", :value nil}
//! {:process 1, :type :ok, :f :get, :key "1", :value "x 0 0 y"}
//! ```
//! `:f` is `:get`, `:put` or `:append`; a completion is `:ok` (took effect; a get saw `:value`,
//! nil being the empty string), `:fail` (did not: dropped) or `:info` (unknown: open to the end;
//! an unknown get carries nothing and is dropped). An invocation never completed is unknown.
//! Each key is a register of its own, initially the empty string.

use crate::formats::{found, ParseError};
use crate::history::{line_stamp, HistoryOp, Partition};
use crate::models::jepsen_kv::{JepsenKvModel, JepsenKvOp};
use rustc_hash::FxHashMap;
use std::borrow::Cow;

/// An EDN value of the few kinds these maps hold, borrowed from the line where it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edn<'a> {
    Nil,
    Integer(i64),
    Keyword(&'a str),
    Text(Cow<'a, str>),
}

/// A line's `:type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// A line's `:f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Get,
    Put,
    Append,
}

impl Kind {
    /// Every kind with its name (without the colon).
    const NAMED: [(&'static str, Kind); 4] = [
        ("invoke", Kind::Invoke),
        ("ok", Kind::Ok),
        ("fail", Kind::Fail),
        ("info", Kind::Info),
    ];
}

impl Function {
    /// Every function with its name (without the colon).
    const NAMED: [(&'static str, Function); 3] = [
        ("get", Function::Get),
        ("put", Function::Put),
        ("append", Function::Append),
    ];

    fn name(self) -> &'static str {
        match self {
            Function::Get => "get",
            Function::Put => "put",
            Function::Append => "append",
        }
    }
}

/// The fields of one line.
struct Event<'a> {
    process: u64,
    kind: Kind,
    function: Function,
    key: Cow<'a, str>,
    value: Option<Cow<'a, str>>,
}

/// One invocation and how it ended.
struct Slot<'a> {
    process: u64,
    line: usize,
    function: Function,
    /// Its key's index in `keys`.
    key: usize,
    /// The written value, for put and append; for a get, the value it saw once completed.
    value: Option<Cow<'a, str>>,
    /// `Some((line, kind))` once completed.
    end: Option<(usize, Kind)>,
}

/// Parses a history into the string-register model and one partition per key (sorted by key).
pub fn parse(text: &str) -> Result<(JepsenKvModel, Vec<Partition<JepsenKvOp>>), ParseError> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut open: FxHashMap<u64, usize> = FxHashMap::default();
    // The keys in the order first invoked, with their invocations: a slot names its key by
    // index, so that its operations are put with the others of the key without a lookup, and
    // each key's operations are allocated once, not regrown and copied.
    let mut keys: Vec<(Cow<'_, str>, usize)> = Vec::new();
    let mut key_ids: FxHashMap<Cow<'_, str>, usize> = FxHashMap::default();
    let mut rest = text;
    let mut line = 0;
    while !rest.is_empty() {
        line += 1;
        let event = match canonical_line(rest) {
            Some((event, after)) => {
                rest = after;
                event
            }
            None => {
                let (raw, after) = rest.split_once('\n').unwrap_or((rest, ""));
                rest = after;
                let raw = raw.trim();
                if raw.is_empty() {
                    continue;
                }
                parse_event(line, raw)?
            }
        };
        if event.kind == Kind::Invoke {
            if let Some(&previous) = open.get(&event.process) {
                return Err(ParseError::new(
                    line,
                    format!(
                        "expected process {} to complete its :{} from line {} before invoking \
                         again",
                        event.process,
                        slots[previous].function.name(),
                        slots[previous].line
                    ),
                ));
            }
            open.insert(event.process, slots.len());
            let key = match key_ids.get(&event.key) {
                Some(&key) => key,
                None => {
                    key_ids.insert(event.key.clone(), keys.len());
                    keys.push((event.key, 0));
                    keys.len() - 1
                }
            };
            keys[key].1 += 1;
            slots.push(Slot {
                process: event.process,
                line,
                function: event.function,
                key,
                value: event.value,
                end: None,
            });
            continue;
        }
        let Some(slot) = open.remove(&event.process) else {
            return Err(ParseError::new(
                line,
                format!(
                    "expected an open invocation of process {} to complete",
                    event.process
                ),
            ));
        };
        let invoked = &mut slots[slot];
        let invoked_key = &keys[invoked.key].0;
        if invoked.function != event.function || *invoked_key != event.key {
            return Err(ParseError::new(
                line,
                format!(
                    "expected process {} to complete :{} of key {:?} (invoked on line {})",
                    event.process,
                    invoked.function.name(),
                    invoked_key,
                    invoked.line
                ),
            ));
        }
        if invoked.function == Function::Get {
            invoked.value = event.value;
        }
        invoked.end = Some((line, event.kind));
    }
    let mut model = JepsenKvModel::with_capacity(slots.len(), text.len());
    let mut by_key: Vec<Vec<HistoryOp<JepsenKvOp>>> = keys
        .iter()
        .map(|&(_, invocations)| Vec::with_capacity(invocations))
        .collect();
    for slot in slots {
        let value = slot.value.as_deref().unwrap_or("");
        let (op, complete) = match (slot.end, slot.function) {
            (Some((line, Kind::Ok)), Function::Get) => {
                (JepsenKvOp::Get(model.seen(value)), Some(line))
            }
            (Some((line, Kind::Ok)), Function::Put) => {
                (JepsenKvOp::Put(model.written(value)), Some(line))
            }
            (Some((line, Kind::Ok)), Function::Append) => {
                (JepsenKvOp::Append(model.written(value)), Some(line))
            }
            (Some((_, Kind::Fail)), _) => continue,
            // Unknown: `:info`, or never completed.
            (_, Function::Get) => continue,
            (_, Function::Put) => (JepsenKvOp::MaybePut(model.written(value)), None),
            (_, Function::Append) => (JepsenKvOp::MaybeAppend(model.written(value)), None),
        };
        by_key[slot.key].push(HistoryOp {
            id: slot.line as u64,
            client: slot.process,
            invoke: line_stamp(slot.line),
            complete: complete.map(line_stamp),
            op,
        });
    }
    let mut partitions: Vec<Partition<JepsenKvOp>> = keys
        .into_iter()
        .zip(by_key)
        // A key whose every operation failed (or was an unknown get) has nothing to check.
        .filter(|(_, ops)| !ops.is_empty())
        .map(|((key, _), ops)| Partition {
            key: key.into_owned(),
            ops,
        })
        .collect();
    partitions.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    Ok((model, partitions))
}

/// The canonical event at the start of `text` if it makes up the whole of its line (ended by
/// `\n`, `\r\n` or the end of the text), and the text after the line. The lines of Porcupine's
/// files are all like this, so they are read without first being split off and trimmed; any
/// other line goes the way of [`parse_event`], which reads it the same.
fn canonical_line(text: &str) -> Option<(Event<'_>, &str)> {
    let (event, end) = canonical_prefix(text)?;
    let after = &text[end..];
    let rest = match after.as_bytes() {
        [] => after,
        [b'\n', ..] => &after[1..],
        [b'\r', b'\n', ..] => &after[2..],
        _ => return None,
    };
    Some((event, rest))
}

/// One line's event: the canonical line by a byte scan, any other through the EDN reader
/// (which also says what is wrong with a malformed one).
fn parse_event(line: usize, text: &str) -> Result<Event<'_>, ParseError> {
    match canonical_event(text) {
        Some(event) => Ok(event),
        None => read_event(line, text),
    }
}

/// The event of a line in the shape every line of Porcupine's files has, read byte by byte:
/// `{:process N, :type :T, :f :F, :key "K", :value V}` with `V` a string or nil, strings
/// without escapes. `None` for anything else, well-formed or not: [`read_event`] decides, and
/// gives the same event for the lines this accepts (reading chars and whitespace in general was
/// most of the cost of checking a history).
fn canonical_event(text: &str) -> Option<Event<'_>> {
    canonical_prefix(text)
        .filter(|&(_, end)| end == text.len())
        .map(|(event, _)| event)
}

/// A canonical event (see [`canonical_event`]) at the start of `text`, and where its closing
/// `}` ends; whatever follows is the caller's to judge. It never reads past a newline.
fn canonical_prefix(text: &str) -> Option<(Event<'_>, usize)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    if !skip(bytes, &mut at, b"{:process ") {
        return None;
    }
    let digits = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let process = bytes[at..at + digits]
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    at += digits;
    if !skip(bytes, &mut at, b", :type :") {
        return None;
    }
    let kind = if skip(bytes, &mut at, b"invoke") {
        Kind::Invoke
    } else if skip(bytes, &mut at, b"ok") {
        Kind::Ok
    } else if skip(bytes, &mut at, b"fail") {
        Kind::Fail
    } else if skip(bytes, &mut at, b"info") {
        Kind::Info
    } else {
        return None;
    };
    if !skip(bytes, &mut at, b", :f :") {
        return None;
    }
    let function = if skip(bytes, &mut at, b"get") {
        Function::Get
    } else if skip(bytes, &mut at, b"put") {
        Function::Put
    } else if skip(bytes, &mut at, b"append") {
        Function::Append
    } else {
        return None;
    };
    if !skip(bytes, &mut at, b", :key \"") {
        return None;
    }
    let key = plain_string(text, &mut at)?;
    if !skip(bytes, &mut at, b", :value ") {
        return None;
    }
    let value = if skip(bytes, &mut at, b"\"") {
        Some(Cow::Borrowed(plain_string(text, &mut at)?))
    } else if skip(bytes, &mut at, b"nil") {
        None
    } else {
        return None;
    };
    // Left to the reader: a nil to write, which it reports.
    if bytes.get(at) != Some(&b'}')
        || (value.is_none() && kind == Kind::Invoke && function != Function::Get)
    {
        return None;
    }
    let event = Event {
        process,
        kind,
        function,
        key: Cow::Borrowed(key),
        value,
    };
    Some((event, at + 1))
}

/// Moves `at` past `prefix` if that is what comes next in `bytes`. An array, so that the
/// comparison compiles to a load or two rather than a call to `memcmp`: a line has a dozen.
#[inline]
fn skip<const N: usize>(bytes: &[u8], at: &mut usize, prefix: &[u8; N]) -> bool {
    let next = bytes
        .get(*at..*at + N)
        .and_then(|next| <&[u8; N]>::try_from(next).ok());
    let found = next == Some(prefix);
    if found {
        *at += N;
    }
    found
}

/// The string from `at` to the next `"`, which `at` is moved past; `None` if there is no
/// closing quote on the line or there is an escape before it. The end is found by `memchr3`
/// (a closing quote, an escape, the end of the line), which scans a word or a vector at a
/// time: the values a string register reads grow with every append, and a byte-at-a-time
/// scan of them was a sixth of checking such a history.
fn plain_string<'a>(text: &'a str, at: &mut usize) -> Option<&'a str> {
    let body = &text.as_bytes()[*at..];
    let end = memchr::memchr3(b'"', b'\\', b'\n', body)?;
    if body[end] != b'"' {
        return None;
    }
    let string = &text[*at..*at + end];
    *at += end + 1;
    Some(string)
}

/// The event of any line: its EDN map read field by field, in any order and spacing.
fn read_event(line: usize, text: &str) -> Result<Event<'_>, ParseError> {
    let mut fields: Vec<(&str, Edn<'_>)> = Vec::with_capacity(5);
    let mut rest = text.strip_prefix('{').ok_or_else(|| {
        ParseError::new(
            line,
            format!("expected a map {{...}}, found {}", found(text)),
        )
    })?;
    loop {
        rest = &rest[find_char(rest, |c| !(c.is_whitespace() || c == ','))..];
        if let Some(after) = rest.strip_prefix('}') {
            if !after.trim().is_empty() {
                return Err(ParseError::new(
                    line,
                    format!(
                        "expected the end of the line after }}, found {}",
                        found(after)
                    ),
                ));
            }
            break;
        }
        let (name, after) = parse_atom(rest);
        let Some(name) = name.strip_prefix(':').filter(|n| !n.is_empty()) else {
            return Err(ParseError::new(
                line,
                format!("expected a :keyword or }}, found {}", found(rest)),
            ));
        };
        let (value, after) = parse_value(line, after.trim_start(), name)?;
        fields.push((name, value));
        rest = after;
    }
    let mut take = |name: &str| {
        let at = fields.iter().position(|(n, _)| *n == name).ok_or_else(|| {
            ParseError::new(line, format!("field :{name}: expected it, found nothing"))
        })?;
        Ok::<_, ParseError>(fields.swap_remove(at).1)
    };
    let process = match take("process")? {
        Edn::Integer(p) if p >= 0 => p as u64,
        other => return Err(wrong(line, "process", "a process number", &other)),
    };
    let type_value = take("type")?;
    let Some(kind) = keyword_in(&Kind::NAMED, &type_value) else {
        let expected = ":invoke, :ok, :fail or :info";
        return Err(wrong(line, "type", expected, &type_value));
    };
    let f_value = take("f")?;
    let Some(function) = keyword_in(&Function::NAMED, &f_value) else {
        return Err(wrong(line, "f", ":get, :put or :append", &f_value));
    };
    let key = match take("key")? {
        Edn::Text(k) => k,
        Edn::Integer(k) => Cow::Owned(k.to_string()),
        other => return Err(wrong(line, "key", "a string", &other)),
    };
    let value = match take("value")? {
        Edn::Text(v) => Some(v),
        Edn::Nil => None,
        other => return Err(wrong(line, "value", "a string or nil", &other)),
    };
    if value.is_none() && kind == Kind::Invoke && function != Function::Get {
        return Err(ParseError::new(
            line,
            format!(
                "field :value: expected the string to {}, found nil",
                function.name()
            ),
        ));
    }
    Ok(Event {
        process,
        kind,
        function,
        key,
        value,
    })
}

/// What the keyword `value` names in `table`; `None` if it is not a keyword or names nothing.
fn keyword_in<T: Copy>(table: &[(&str, T)], value: &Edn<'_>) -> Option<T> {
    match value {
        Edn::Keyword(name) => table
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, named)| named),
        _ => None,
    }
}

fn wrong(line: usize, field: &str, expected: &str, found_value: &Edn<'_>) -> ParseError {
    let shown = match found_value {
        Edn::Nil => "nil".to_string(),
        Edn::Integer(i) => i.to_string(),
        Edn::Keyword(k) => format!(":{k}"),
        Edn::Text(t) => found(t),
    };
    ParseError::new(
        line,
        format!("field :{field}: expected {expected}, found {shown}"),
    )
}

/// The byte offset of the first char of `text` that `stop` accepts, or its length. ASCII
/// bytes are tested as they are, without decoding; the first other byte hands over to
/// decoding chars. (These files are ASCII: decoding every char was most of parsing.)
fn find_char(text: &str, stop: impl Fn(char) -> bool) -> usize {
    match text
        .bytes()
        .position(|b| !b.is_ascii() || stop(char::from(b)))
    {
        Some(at) if !text.as_bytes()[at].is_ascii() => {
            at + text[at..].find(&stop).unwrap_or(text.len() - at)
        }
        Some(at) => at,
        None => text.len(),
    }
}

/// A bare token (keyword, integer, nil) and what follows it.
fn parse_atom(text: &str) -> (&str, &str) {
    text.split_at(find_char(text, |c| {
        c.is_whitespace() || c == ',' || c == '}'
    }))
}

fn parse_value<'a>(
    line: usize,
    text: &'a str,
    field: &str,
) -> Result<(Edn<'a>, &'a str), ParseError> {
    if let Some(body) = text.strip_prefix('"') {
        // Borrowed unless an escape forces a copy.
        let end = find_char(body, |c| c == '"' || c == '\\');
        if body[end..].starts_with('"') {
            return Ok((Edn::Text(Cow::Borrowed(&body[..end])), &body[end + 1..]));
        }
        let mut copy: Option<String> = None;
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    let value = match copy {
                        Some(owned) => Cow::Owned(owned),
                        None => Cow::Borrowed(&body[..i]),
                    };
                    return Ok((Edn::Text(value), &body[i + 1..]));
                }
                '\\' => {
                    let owned = copy.get_or_insert_with(|| body[..i].to_string());
                    match chars.next() {
                        Some((_, 'n')) => owned.push('\n'),
                        Some((_, 't')) => owned.push('\t'),
                        Some((_, escaped)) => owned.push(escaped),
                        None => break,
                    }
                }
                c => {
                    if let Some(owned) = copy.as_mut() {
                        owned.push(c);
                    }
                }
            }
        }
        return Err(ParseError::new(
            line,
            format!("field :{field}: expected a closing \" for the string"),
        ));
    }
    let (atom, rest) = parse_atom(text);
    let value = if atom == "nil" {
        Edn::Nil
    } else if let Some(keyword) = atom.strip_prefix(':') {
        Edn::Keyword(keyword)
    } else if let Ok(integer) = atom.parse::<i64>() {
        Edn::Integer(integer)
    } else {
        return Err(ParseError::new(
            line,
            format!(
                "field :{field}: expected a string, integer, keyword or nil, found {}",
                found(atom)
            ),
        ));
    };
    Ok((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_a_char_decodes_only_past_ascii() {
        let space = |c: char| c.is_whitespace();
        assert_eq!(find_char("ab c", space), 2);
        assert_eq!(find_char("abc", space), 3);
        // U+00A0 is whitespace only as a char; "é" is not whitespace at all.
        assert_eq!(find_char("é\u{a0}x", space), "é".len());
        assert_eq!(find_char("aé b", space), 1 + "é".len());
    }

    /// The fields of an event, to compare the two readers.
    fn fields(event: &Event<'_>) -> (u64, String, String, String, Option<String>) {
        (
            event.process,
            format!("{:?}", event.kind),
            event.function.name().to_string(),
            event.key.to_string(),
            event.value.as_deref().map(str::to_string),
        )
    }

    #[test]
    fn the_byte_scan_reads_canonical_lines_as_the_edn_reader_does_and_leaves_it_the_rest() {
        let canonical = [
            r#"{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}"#,
            r#"{:process 12, :type :ok, :f :get, :key "3", :value ""}"#,
            r#"{:process 7, :type :invoke, :f :get, :key "1", :value nil}"#,
            r#"{:process 007, :type :info, :f :put, :key "é", :value "ü"}"#,
            r#"{:process 3, :type :fail, :f :put, :key "9", :value "a b"}"#,
        ];
        for line in canonical {
            let scanned = canonical_event(line).unwrap_or_else(|| panic!("not scanned: {line}"));
            let read = read_event(1, line).unwrap();
            assert_eq!(fields(&scanned), fields(&read), "{line}");
        }
        // Well-formed but not canonical, or malformed: the reader's to accept or report.
        let others = [
            r#"{:process 0,  :type :invoke, :f :append, :key "0", :value "x"}"#,
            r#"{:type :invoke, :process 0, :f :append, :key "0", :value "x"}"#,
            r#"{:process 0, :type :invoke, :f :append, :key 0, :value "x"}"#,
            r#"{:process 0, :type :invoke, :f :append, :key "0", :value "a\"b"}"#,
            r#"{:process 0, :type :invoke, :f :append, :key "0", :value "x"} "#,
            r#"{:process 0, :type :invoke, :f :append, :key "0", :value "x", :time 5}"#,
            r#"{:process 0, :type :invokes, :f :append, :key "0", :value "x"}"#,
            r#"{:process 0, :type :invoke, :f :appendx, :key "0", :value "x"}"#,
            r#"{:process 0, :type :invoke, :f :put, :key "0", :value nil}"#,
            r#"{:process 0, :type :ok, :f :get, :key "0", :value nill}"#,
            r#"{:process 0, :type :ok, :f :get, :key "0", :value "open}"#,
            r#"{:process 1234567890123456789, :type :ok, :f :get, :key "0", :value nil}"#,
            r#"{:process -1, :type :ok, :f :get, :key "0", :value nil}"#,
            r#"{:process 0, :type :ok, :f :get, :key "0", :value nil"#,
        ];
        for line in others {
            assert!(canonical_event(line).is_none(), "scanned: {line}");
        }
        let read: Vec<bool> = others.iter().map(|l| read_event(1, l).is_ok()).collect();
        assert_eq!(
            read,
            [
                true, true, true, true, true, true, false, false, false, false, false, true, false,
                false
            ]
        );
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let (plain, rest) = parse_value(1, "\"x 1 0 y\"}", "value").unwrap();
        assert_eq!(plain, Edn::Text(Cow::Borrowed("x 1 0 y")));
        assert_eq!(rest, "}");
        let (escaped, _) = parse_value(1, r#""a\"b\\c\nd""#, "value").unwrap();
        assert_eq!(escaped, Edn::Text(Cow::Owned("a\"b\\c\nd".to_string())));
        assert!(parse_value(1, "\"open", "value").is_err());
    }
}
