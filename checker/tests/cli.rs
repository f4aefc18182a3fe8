//! The library side of `sim check`: exit statuses, output shapes, and errors that name the
//! file, the line and what was expected.

use checker::cli::check_text;
use checker::formats::native::parse_native;
use checker::record::{Ack, KvInput, Operation, Outcome, Reason, Stamp};
use checker::{run_check, write_native, Budget, CheckExit, Format, Verdict};
use proptest::prelude::*;
use std::path::PathBuf;

/// Writes `text` to a file of its own under the target's scratch folder.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn check(name: &str, text: &str, format: Format, json: bool) -> CheckExit {
    run_check(&file(name, text), format, 10_000, json)
}

fn op(id: u64, input: KvInput, invoke: (u64, u64), complete: Option<(u64, u64)>) -> Operation {
    Operation {
        id,
        client: id % 3,
        coordinator: (id % 5) as u8 + 1,
        input,
        invoke: Stamp {
            tick: invoke.0,
            seq: invoke.1,
        },
        complete: complete.map(|(tick, seq)| Stamp { tick, seq }),
        outcome: Outcome::Ok,
        reason: Reason::Ok,
        output: None,
        acks: Vec::new(),
    }
}

fn create(key: &str, value: &str) -> KvInput {
    KvInput::Create {
        key: key.into(),
        value: value.into(),
    }
}

fn read(key: &str) -> KvInput {
    KvInput::Read { key: key.into() }
}

/// A create, a concurrent update, and two reads; the last read sees `last_read`.
fn history(last_read: &str) -> Vec<Operation> {
    let mut read_early = op(3, read("k1"), (105, 4), Some((106, 5)));
    read_early.output = Some("v2".into());
    let mut read_late = op(4, read("k1"), (110, 7), Some((112, 8)));
    read_late.output = Some(last_read.into());
    read_late.acks = vec![Ack {
        from: 2,
        value: Some(last_read.into()),
    }];
    vec![
        op(1, create("k1", "v1"), (100, 1), Some((103, 2))),
        op(
            2,
            KvInput::Update {
                key: "k1".into(),
                value: "v2".into(),
            },
            (104, 3),
            Some((108, 6)),
        ),
        read_early,
        read_late,
    ]
}

#[test]
fn a_linearizable_history_exits_0() {
    let exit = check(
        "ok.jsonl",
        &write_native(&history("v2")),
        Format::Native,
        false,
    );
    assert_eq!(exit.code, 0, "{exit:?}");
    assert_eq!(exit.stdout, "linearizable: 4 operations on 1 key\n");
    assert!(exit.stderr.is_empty());
}

#[test]
fn a_stale_read_exits_1_with_its_witness() {
    let exit = check(
        "stale.jsonl",
        &write_native(&history("v1")),
        Format::Native,
        false,
    );
    assert_eq!(exit.code, 1, "{exit:?}");
    assert!(exit
        .stdout
        .starts_with("not linearizable: 4 operations on 1 key\n"));
    assert!(exit
        .stdout
        .contains("key \"k1\": these 3 of its 4 operations"));
    assert!(
        exit.stdout.contains("ok, saw v1; could have seen v2"),
        "{}",
        exit.stdout
    );
    assert!(exit.stderr.is_empty());
}

#[test]
fn json_output_is_one_object_on_one_line() {
    let exit = check(
        "stale-json.jsonl",
        &write_native(&history("v1")),
        Format::Native,
        true,
    );
    assert_eq!(exit.code, 1);
    assert_eq!(exit.stdout.matches('\n').count(), 1);
    let json: serde_json::Value = serde_json::from_str(exit.stdout.trim()).unwrap();
    assert_eq!(json["verdict"], "not-linearizable");
    assert_eq!(json["key"], "k1");
    assert_eq!(json["ops"], 4);
    assert_eq!(json["witness_ids"], serde_json::json!([1, 2, 4]));
    assert_eq!(json["minimal"], true);
    assert!(json["elapsed_ms"].as_f64().is_some());
}

#[test]
fn the_empty_history_is_linearizable_in_every_format() {
    for format in Format::ALL {
        let exit = check(&format!("empty-{format}"), "", format, false);
        assert_eq!(exit.code, 0, "{format}: {exit:?}");
    }
}

#[test]
fn a_budget_that_runs_out_exits_3() {
    // A long sequential history needs more search steps than a spent clock budget allows.
    let ops: Vec<Operation> = (0..5000)
        .map(|i| {
            let mut r = op(i, read("k"), (10 * i, 2 * i), Some((10 * i + 1, 2 * i + 1)));
            r.output = None;
            r
        })
        .collect();
    let exit = run_check(
        &file("long.jsonl", &write_native(&ops)),
        Format::Native,
        0,
        false,
    );
    assert_eq!(exit.code, 3, "{exit:?}");
    assert!(exit
        .stdout
        .starts_with("unknown: the budget of 0 ms ran out on key \"k\""));
    let judged = check_text(&write_native(&ops), Format::Native, Budget::Steps(10)).unwrap();
    assert_eq!(judged.verdict, Verdict::Unknown);
    assert_eq!(judged.unknown_keys, vec!["k".to_string()]);
}

fn malformed(name: &str, text: &str, format: Format) -> String {
    let path = file(name, text);
    let exit = run_check(&path, format, 10_000, false);
    assert_eq!(exit.code, 2, "{exit:?}");
    assert!(exit.stdout.is_empty());
    assert_eq!(exit.stderr.matches('\n').count(), 1, "{:?}", exit.stderr);
    let prefix = format!("error: {}:", path.display());
    assert!(exit.stderr.starts_with(&prefix), "{}", exit.stderr);
    exit.stderr[prefix.len()..].trim_end().to_string()
}

#[test]
fn malformed_native_lines_name_the_line_and_the_field() {
    let good = write_native(&history("v2"));
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    lines[2] = lines[2].replace("\"tick\":104", "\"tick\":\"soon\"");
    assert_eq!(
        malformed("tick.jsonl", &lines.join("\n"), Format::Native),
        "3: field \"tick\": expected an unsigned integer, found \"soon\""
    );
    assert_eq!(
        malformed(
            "garbage.jsonl",
            "{\"event\":\"invoke\"\nnot json",
            Format::Native
        ),
        "1: expected a JSON object (EOF while parsing an object at line 1 column 17)"
    );
    assert_eq!(
        malformed(
            "orphan.jsonl",
            "{\"event\":\"complete\",\"id\":9,\"tick\":1,\"seq\":1,\"outcome\":\"ok\",\"reason\":\"ok\"}",
            Format::Native
        ),
        "1: field \"id\": expected the id of an operation invoked on an earlier line, found 9"
    );
    assert_eq!(
        malformed(
            "op.jsonl",
            "{\"event\":\"invoke\",\"id\":1,\"client\":1,\"tick\":1,\"seq\":1,\"op\":\"upsert\",\"key\":\"k\"}",
            Format::Native
        ),
        "1: field \"op\": expected one of \"create\", \"read\", \"update\", \"delete\", found \"upsert\""
    );
}

#[test]
fn malformed_jepsen_lines_name_the_line_and_what_was_expected() {
    assert_eq!(
        malformed(
            "etcd.log",
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tthree\n",
            Format::JepsenEtcd
        ),
        "2: expected the integer read, or nil, found \"three\""
    );
    assert_eq!(
        malformed("etcd2.log", "hello\n", Format::JepsenEtcd),
        "1: expected \"INFO jepsen.util - PROCESS :TYPE :F VALUE\", found \"hello\""
    );
    assert_eq!(
        malformed(
            "kv.txt",
            "{:process 0, :type :invoke, :f :append, :key \"0\", :value 5}\n",
            Format::JepsenKv
        ),
        "1: field :value: expected a string or nil, found 5"
    );
}

#[test]
fn an_unreadable_file_exits_2_naming_it() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-history.jsonl");
    let exit = run_check(&path, Format::Native, 10_000, false);
    assert_eq!(exit.code, 2);
    assert!(exit
        .stderr
        .starts_with(&format!("error: {}: cannot read the file", path.display())));
    assert_eq!(exit.stderr.matches('\n').count(), 1);
}

#[test]
fn formats_parse_from_their_command_line_names() {
    for format in Format::ALL {
        assert_eq!(format.name().parse::<Format>(), Ok(format));
    }
    assert!("edn".parse::<Format>().is_err());
}

#[test]
fn the_native_writer_and_parser_round_trip_a_run() {
    let mut ops = history("v1");
    ops[1].acks = vec![
        Ack {
            from: 3,
            value: None,
        },
        Ack {
            from: 4,
            value: None,
        },
    ];
    ops.push(Operation {
        outcome: Outcome::Unknown,
        reason: Reason::Timeout,
        ..op(5, create("k\"2\n", "v\u{e9}"), (120, 9), Some((130, 10)))
    });
    ops.push(Operation {
        outcome: Outcome::Rejected,
        reason: Reason::Exists,
        output: Some("v1".into()),
        ..op(6, create("k1", "v6"), (121, 11), Some((122, 12)))
    });
    // Never answered: an invocation without a completion line.
    ops.push(Operation {
        outcome: Outcome::Unknown,
        reason: Reason::Timeout,
        ..op(7, KvInput::Delete { key: "k1".into() }, (125, 13), None)
    });
    let text = write_native(&ops);
    assert_eq!(text.lines().count(), 13);
    assert_eq!(parse_native(&text), Ok(ops));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Whatever the bytes, every format answers with a verdict or a one-line error, and never
    /// panics.
    #[test]
    fn arbitrary_input_never_panics(text in "(\\PC|\n|\t){0,200}", which in 0usize..3) {
        let format = Format::ALL[which];
        if let Err(e) = check_text(&text, format, Budget::Steps(10_000)) {
            prop_assert!(e.line >= 1);
            prop_assert!(!e.expected.contains('\n'));
        }
    }

    /// Lines that look almost right exercise the field checks.
    #[test]
    fn near_miss_lines_never_panic(
        fields in proptest::collection::vec(
            prop_oneof![
                Just("\"event\":\"invoke\"".to_string()),
                Just("\"event\":\"complete\"".to_string()),
                Just("\"id\":1".to_string()),
                Just("\"id\":-1".to_string()),
                Just("\"tick\":5".to_string()),
                Just("\"seq\":1.5".to_string()),
                Just("\"op\":\"read\"".to_string()),
                Just("\"op\":\"create\"".to_string()),
                Just("\"key\":\"k\"".to_string()),
                Just("\"outcome\":\"ok\"".to_string()),
                Just("\"reason\":\"nope\"".to_string()),
                Just("\"acks\":[{\"from\":300}]".to_string()),
                Just("\"coordinator\":2".to_string()),
            ],
            0..8,
        ),
        lines in 1usize..4,
    ) {
        let line = format!("{{{}}}", fields.join(","));
        let text = vec![line; lines].join("\n");
        let _ = check_text(&text, Format::Native, Budget::Steps(10_000));
    }
}
