//! `sim check` gives the verdict `VERDICTS.tsv` asserts for every file of Porcupine's data, and
//! every counterexample it prints is a witness on one key.

mod support;

use checker::run_check;
use support::porcupine;

#[test]
fn every_file_gets_the_verdict_porcupine_asserts() {
    let Some(dir) = porcupine::data_dir() else {
        println!("skipped: PORCUPINE_DATA unset (it names the folder of Porcupine's test data)");
        return;
    };
    let cases = porcupine::cases(&dir);
    assert_eq!(cases.len(), 109, "VERDICTS.tsv rows");
    let mut wrong = Vec::new();
    for case in &cases {
        let exit = run_check(&case.path, case.format, 10_000, true);
        let json: serde_json::Value = serde_json::from_str(exit.stdout.trim())
            .unwrap_or_else(|e| panic!("{}: {e}: {:?}", case.file, exit.stdout));
        let verdict = json["verdict"].as_str().unwrap_or("");
        let code = match case.expected() {
            "linearizable" => 0,
            _ => 1,
        };
        // The table counts invocations; failed and timed-out reads carry nothing and are left
        // out of the operations checked.
        let checked = json["ops"].as_u64().unwrap_or(u64::MAX) as usize;
        assert!(
            checked <= case.ops,
            "{}: checked {checked} of {}",
            case.file,
            case.ops
        );
        if verdict != case.expected() || exit.code != code || !exit.stderr.is_empty() {
            wrong.push(format!("{}: {verdict} (exit {})", case.file, exit.code));
        }
        if code == 1 {
            // A counterexample names its key and at least one operation, all proven minimal.
            assert!(json["key"].is_string(), "{}: {json}", case.file);
            assert!(
                !json["witness_ids"].as_array().unwrap().is_empty(),
                "{}",
                case.file
            );
            assert_eq!(json["minimal"], true, "{}", case.file);
        }
    }
    assert!(
        wrong.is_empty(),
        "verdicts differ from VERDICTS.tsv: {wrong:#?}"
    );
}
