//! A fuzz test of every input parser and of the scenario validation: real seed files and real
//! histories of the three `sim check` formats, mutated the way a person editing them by hand (or
//! a truncated download) would, run through the entry points the command line uses, in-process.
//!
//! Asserted for every case: no panic; a status of 0, 1, 2 or 3; a status of 2 always with exactly
//! one line that starts with `<file>:<line>: ` (and, for seed files, the field next); and a seed
//! file that is accepted has a tick cap within `RUN_TICKS_MAX` and a run that ends by it.
//!
//! `INPUT_FUZZ_CASES` sets the number of cases (default 3000, which `cargo test` runs in a few
//! seconds); `just fuzz-inputs` runs 100,000 and prints the figures. Every run prints its random
//! seed first, and `PROPTEST_RNG_SEED` with the same case count runs the same cases again. With
//! `PORCUPINE_DATA` set, a few of its histories join the inputs.

use checker::{run_check, Format};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use sim::judge::run_checked;
use sim::run::RunOptions;
use sim::seedfile::{seed_files, SeedFile};
use sim::validate::RUN_TICKS_MAX;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What an input is read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// `sim replay <file>`.
    SeedFile,
    /// `sim check <file> --format F`.
    History(Format),
}

/// One real input: its reader and its text.
#[derive(Debug, Clone)]
struct Input {
    name: String,
    reader: Reader,
    text: Vec<u8>,
}

/// Values a hand edit puts where a scalar was: every integer boundary of the field types,
/// floats, strings, null and containers (a changed type).
const REPLACEMENTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "255",
    "256",
    "65536",
    "1000001",
    "4294967296",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1.5",
    "-0.0",
    "1e309",
    ".nan",
    "\"x\"",
    "''",
    "x",
    "null",
    "~",
    "true",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    ":ok",
    "nil",
];

/// Bytes a careless edit or a broken transfer leaves in a file.
const INSERTIONS: &[&[u8]] = &[
    b": ",
    b"- ",
    b"\t",
    b"{",
    b"]",
    b"&a ",
    b"*a",
    b"!!binary ",
    b"\0",
    b"#",
    b"\n",
    b"\"",
    b"\xff\xfe",
    b"\xc3",
];

/// One mutation; the `usize`s pick a place (modulo what the text has).
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, usize),
    DropLine(usize),
    RepeatLine(usize),
    Truncate(usize),
    Insert(usize, usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..REPLACEMENTS.len()).prop_map(|(a, b)| Mutation::Replace(a, b)),
        1 => any::<usize>().prop_map(Mutation::DropLine),
        1 => any::<usize>().prop_map(Mutation::RepeatLine),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), 0..INSERTIONS.len()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

/// Byte ranges of the scalar-looking tokens: runs of letters, digits and `_.:+-`, and quoted
/// strings.
fn tokens(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    let word = |b: u8| b.is_ascii_alphanumeric() || b"_.:+-".contains(&b);
    while i < text.len() {
        if text[i] == b'"' {
            let end = text[i + 1..]
                .iter()
                .position(|&b| b == b'"')
                .map_or(text.len(), |p| i + p + 2);
            out.push((i, end));
            i = end;
        } else if word(text[i]) {
            let start = i;
            while i < text.len() && word(text[i]) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    match *m {
        Mutation::Replace(at, value) => {
            let spans = tokens(text);
            if let Some(&(start, end)) = spans.get(at % spans.len().max(1)) {
                text.splice(start..end, REPLACEMENTS[value].bytes());
            }
        }
        Mutation::DropLine(at) | Mutation::RepeatLine(at) => {
            let mut ls = lines(text);
            if ls.is_empty() {
                return;
            }
            let i = at % ls.len();
            if matches!(m, Mutation::DropLine(_)) {
                ls.remove(i);
            } else {
                let copy = ls[i].clone();
                ls.insert(i, copy);
            }
            *text = ls.concat();
        }
        Mutation::Truncate(at) => text.truncate(at % (text.len() + 1)),
        Mutation::Insert(at, what) => {
            let at = at % (text.len() + 1);
            text.splice(at..at, INSERTIONS[what].iter().copied());
        }
        Mutation::SwapLines(a, b) => {
            let mut ls = lines(text);
            if !ls.is_empty() {
                let n = ls.len();
                ls.swap(a % n, b % n);
                *text = ls.concat();
            }
        }
    }
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The seed corpus, a fixture seed file with long key names, the fixtures' histories, and (when
/// set) a few of `PORCUPINE_DATA`'s.
fn inputs() -> Vec<Input> {
    let read = |path: &Path, reader: Reader| Input {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        reader,
        text: std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    };
    let mut out: Vec<Input> = seed_files(&manifest().join("../seeds"))
        .expect("seeds/")
        .iter()
        .map(|p| read(p, Reader::SeedFile))
        .collect();
    // No corpus file names a key prefix (every one uses the default), so one fixture with a
    // long prefix gives the mutations that field to work on.
    let fixture = manifest().join("tests/fixtures/calm-five-nodes.yaml");
    let mut long_keys = read(&fixture, Reader::SeedFile);
    let text = String::from_utf8(long_keys.text).expect("the fixture is UTF-8");
    assert!(
        text.contains("\n    keys: 2\n"),
        "{}: no `keys: 2` line",
        fixture.display()
    );
    long_keys.text = text
        .replacen(
            "\n    keys: 2\n",
            "\n    keys: 2\n    key_prefix: 'orders:2026/'\n",
            1,
        )
        .into_bytes();
    long_keys.name = "calm-five-nodes-long-keys.yaml".to_string();
    out.push(long_keys);
    let histories = manifest().join("tests/fixtures/histories");
    for (file, format) in [
        ("native.jsonl", Format::Native),
        ("jepsen-kv.txt", Format::JepsenKv),
        ("jepsen-etcd.log", Format::JepsenEtcd),
    ] {
        out.push(read(&histories.join(file), Reader::History(format)));
    }
    match std::env::var_os("PORCUPINE_DATA") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            for (file, format) in [
                ("kv/c01-ok.txt", Format::JepsenKv),
                ("kv/c01-bad.txt", Format::JepsenKv),
                ("jepsen/etcd_000.log", Format::JepsenEtcd),
                ("jepsen/etcd_001.log", Format::JepsenEtcd),
            ] {
                if dir.join(file).exists() {
                    out.push(read(&dir.join(file), Reader::History(format)));
                }
            }
        }
        None => eprintln!("inputs: PORCUPINE_DATA is not set; fuzzing the fixture histories only"),
    }
    out
}

/// What the cases did, for the summary.
#[derive(Debug, Default)]
struct Tally {
    cases: u64,
    by_status: BTreeMap<(String, u8), u64>,
    full_runs: u64,
    ticks_max: u64,
    case_ms_max: u128,
    slowest: String,
    syntax_errors: u64,
}

/// A status-2 line must be `<file>:<line>: ...` on one line; returns what follows.
fn assert_names_file_and_line<'a>(line: &'a str, file: &str) -> &'a str {
    assert!(!line.contains('\n'), "more than one line: {line:?}");
    let rest = line
        .strip_prefix(file)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_else(|| panic!("does not name the file {file}: {line:?}"));
    let (number, rest) = rest
        .split_once(": ")
        .unwrap_or_else(|| panic!("no line number: {line:?}"));
    assert!(
        number.parse::<usize>().is_ok_and(|n| n >= 1),
        "no line number: {line:?}"
    );
    rest
}

/// A seed file's status-2 line must be `<file>:<line>: <field>: ...` on one line.
fn assert_names_file_line_and_field(line: &str, file: &str) {
    let rest = assert_names_file_and_line(line, file);
    let (field, _) = rest
        .split_once(": ")
        .unwrap_or_else(|| panic!("no field: {line:?}"));
    assert!(
        !field.is_empty() && !field.contains(' '),
        "no field: {line:?}"
    );
}

/// Runs one mutated input through its reader; returns the status.
fn run_case(input: &Input, text: &[u8], path: &Path, tally: &mut Tally) -> u8 {
    std::fs::write(path, text).unwrap();
    let shown = path.display().to_string();
    match input.reader {
        Reader::SeedFile => {
            // `--until 0`: the command's own reading, validation and world set-up, and one tick.
            let args = ["sim", "replay", &shown, "--until", "0"].map(String::from);
            let status = match sim::cli::execute(args.to_vec()) {
                Ok(code) => code,
                Err(failure) => {
                    assert_eq!(failure.code, 2, "{}", failure.message);
                    assert_names_file_line_and_field(&failure.message, &shown);
                    tally.syntax_errors += u64::from(failure.message.contains(": syntax: "));
                    return failure.code;
                }
            };
            let file = SeedFile::load(path).expect("replay accepted it");
            let cap = file.scenario.tick_cap();
            assert!(cap <= RUN_TICKS_MAX, "tick cap {cap} above {RUN_TICKS_MAX}");
            // The whole run, as `sim replay` would do it without `--until`.
            let checked = run_checked(&file.scenario, &file.run_key(), RunOptions::default());
            assert!(checked.execution.ticks <= cap, "ran past the tick cap");
            tally.full_runs += 1;
            tally.ticks_max = tally.ticks_max.max(checked.execution.ticks);
            status
        }
        Reader::History(format) => {
            let exit = run_check(path, format, 2_000, false);
            let code = u8::try_from(exit.code).expect("a small status");
            if code == 2 {
                let line = exit.stderr.trim_end_matches('\n');
                let line = line.strip_prefix("error: ").unwrap_or(line);
                // The history parsers say what they expected at the line, not always a field.
                assert_names_file_and_line(line, &shown);
            }
            code
        }
    }
}

#[test]
fn mutated_seed_files_and_histories_never_panic_hang_or_run_silently() {
    let cases: u32 = std::env::var("INPUT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let inputs = inputs();
    let dir = std::env::temp_dir().join(format!("sim-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tally = RefCell::new(Tally::default());
    let started = Instant::now();
    // A fresh seed each time (or PROPTEST_RNG_SEED's), printed first, so that a failure found
    // once can be run again: proptest's own random seed is never shown.
    let seed: u64 = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
    let rerun = format!("PROPTEST_RNG_SEED={seed} INPUT_FUZZ_CASES={cases}");
    println!("inputs: rng seed {seed} ({rerun} runs these cases again)");
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    // A third of the cases go to the histories, however many seed files there are.
    let (seeds, histories): (Vec<&Input>, Vec<&Input>) =
        inputs.iter().partition(|i| i.reader == Reader::SeedFile);
    let strategy = (
        0u8..3,
        any::<usize>(),
        proptest::collection::vec(mutation(), 1..=2),
    );
    let result = runner.run(&strategy, |(class, which, mutations)| {
        let pool = if class == 0 { &histories } else { &seeds };
        let input = pool[which % pool.len()];
        let mut text = input.text.clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        let mut tally = tally.borrow_mut();
        let path = dir.join(format!("case-{}-{}", tally.cases, input.name));
        let began = Instant::now();
        let code = run_case(input, &text, &path, &mut tally);
        let ms = began.elapsed().as_millis();
        prop_assert!(matches!(code, 0..=3), "status {code}");
        let _ = std::fs::remove_file(&path);
        tally.cases += 1;
        let kind = match input.reader {
            Reader::SeedFile => "seed file".to_string(),
            Reader::History(f) => format!("{f:?}"),
        };
        *tally.by_status.entry((kind, code)).or_default() += 1;
        if ms > tally.case_ms_max {
            tally.case_ms_max = ms;
            tally.slowest = format!("{} with {mutations:?}", input.name);
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    let tally = tally.into_inner();
    println!(
        "inputs: {} cases in {:.1} s over {} inputs; slowest case {} ms ({}); {} full runs, \
         longest {} ticks (bound {RUN_TICKS_MAX}); {} exit-2 lines were YAML syntax errors",
        tally.cases,
        started.elapsed().as_secs_f64(),
        inputs.len(),
        tally.case_ms_max,
        tally.slowest,
        tally.full_runs,
        tally.ticks_max,
        tally.syntax_errors
    );
    for ((kind, code), n) in &tally.by_status {
        println!("inputs:   {kind}: exit {code}: {n}");
    }
    if let Err(e) = result {
        panic!("{e} ({rerun} runs these cases again)");
    }
    assert_eq!(tally.cases, u64::from(cases));
}
