//! How witnesses read: snapshots of two timelines, one from the store's history format and
//! one from a Jepsen etcd log.

use checker::cli::check_text;
use checker::{Budget, Format, Verdict};

fn witness(text: &str, format: Format) -> String {
    let judgement = check_text(text, format, Budget::Steps(1_000_000)).unwrap();
    assert_eq!(judgement.verdict, Verdict::NotLinearizable);
    assert!(judgement.minimal);
    judgement.timeline.unwrap()
}

#[test]
fn a_stale_read_after_an_update() {
    // Two clients create, update and read "k1"; a third reads the old value after the update
    // completed. A read of "k2" that is fine stays out of the witness.
    let history = r#"{"event":"invoke","id":1,"client":1,"coordinator":4,"tick":100,"seq":1,"op":"create","key":"k1","value":"v1"}
{"event":"complete","id":1,"tick":103,"seq":2,"outcome":"ok","reason":"ok","output":null}
{"event":"invoke","id":2,"client":2,"coordinator":5,"tick":104,"seq":3,"op":"update","key":"k1","value":"v2"}
{"event":"invoke","id":3,"client":1,"coordinator":1,"tick":105,"seq":4,"op":"read","key":"k1"}
{"event":"complete","id":3,"tick":106,"seq":5,"outcome":"ok","reason":"ok","output":"v2"}
{"event":"invoke","id":5,"client":1,"coordinator":3,"tick":107,"seq":6,"op":"read","key":"k2"}
{"event":"complete","id":2,"tick":108,"seq":7,"outcome":"ok","reason":"ok","output":null}
{"event":"complete","id":5,"tick":109,"seq":8,"outcome":"ok","reason":"ok","output":null}
{"event":"invoke","id":4,"client":3,"coordinator":2,"tick":110,"seq":9,"op":"read","key":"k1"}
{"event":"complete","id":4,"tick":112,"seq":10,"outcome":"ok","reason":"ok","output":"v1"}
{"event":"invoke","id":6,"client":2,"coordinator":2,"tick":113,"seq":11,"op":"update","key":"k1","value":"v3"}
"#;
    insta::assert_snapshot!("stale_read", witness(history, Format::Native));
}

/// Process 1's write of 2 timed out, but process 2 read 2, so it took effect; then a failed
/// compare-and-set says the register no longer held 2, though nothing else was written.
const UNDONE_WRITE: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:write\t2
INFO  jepsen.util - 2\t:invoke\t:read\tnil
INFO  jepsen.util - 2\t:ok\t:read\t2
INFO  jepsen.util - 1\t:info\t:write\t:timed-out
INFO  jepsen.util - 3\t:invoke\t:cas\t[2 3]
INFO  jepsen.util - 3\t:fail\t:cas\t[2 3]
INFO  jepsen.util - 4\t:invoke\t:read\tnil
INFO  jepsen.util - 4\t:ok\t:read\t2
";

#[test]
fn a_timed_out_write_seen_then_undone() {
    insta::assert_snapshot!("undone_write", witness(UNDONE_WRITE, Format::JepsenEtcd));
}

#[test]
fn a_read_that_could_have_seen_many_states_lists_a_few() {
    // "e" was appended before "a".."d" began, so a get after all of them can have seen any of
    // the 24 orders of "a".."d" after "e", but not the "abcde" it saw. The witness needs all
    // five appends (the get saw each of them), and its line names four states and "others".
    let line = |process: u32, kind: &str, f: &str, value: &str| {
        format!("{{:process {process}, :type :{kind}, :f :{f}, :key \"k\", :value {value}}}\n")
    };
    let mut log = line(4, "invoke", "append", "\"e\"") + &line(4, "ok", "append", "\"e\"");
    for (process, value) in ["a", "b", "c", "d"].iter().enumerate() {
        log += &line(process as u32, "invoke", "append", &format!("{value:?}"));
    }
    for (process, value) in ["a", "b", "c", "d"].iter().enumerate() {
        log += &line(process as u32, "ok", "append", &format!("{value:?}"));
    }
    log += &(line(5, "invoke", "get", "nil") + &line(5, "ok", "get", "\"abcde\""));
    let timeline = witness(&log, Format::JepsenKv);
    let get = timeline.lines().last().unwrap();
    assert!(get.ends_with(" or others"), "{get}");
    assert_eq!(get.matches(" or ").count(), checker::witness::SHOWN_STATES);
    insta::assert_snapshot!("many_states", timeline);
}

#[test]
fn a_witness_the_budget_did_not_let_finish_says_it_is_not_proven_minimal() {
    // A step budget just large enough for the verdict: the minimizer gets nothing, so the
    // witness is what it started from, and says so.
    let judge = |steps| check_text(UNDONE_WRITE, Format::JepsenEtcd, Budget::Steps(steps)).unwrap();
    let least = (1..10_000)
        .find(|&steps| judge(steps).verdict == Verdict::NotLinearizable)
        .expect("a verdict within 10,000 steps");
    let cut_off = judge(least);
    assert!(!cut_off.minimal);
    let timeline = cut_off.timeline.unwrap();
    assert!(
        timeline.contains("(the budget ran out before the witness was shown to be minimal)"),
        "{timeline}"
    );
    let full = judge(1_000_000);
    assert!(full.minimal);
    assert!(full.witness_ids.len() < cut_off.witness_ids.len());
    assert!(full.timeline.unwrap().contains("without any one of them"));
}
