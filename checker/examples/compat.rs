//! Runs the checker on every history of Porcupine's test data and prints, per file, the verdict
//! Porcupine asserts, ours, the operation count (as `VERDICTS.tsv` counts invocations, and the
//! operations we checked: failed or timed-out reads carry nothing and are left out) and the time
//! (parse + check + witness, one thread). Exits 1 on any disagreement, 2 when the data cannot be
//! found.
//!
//! `PORCUPINE_DATA=/path/to/shared/data/porcupine cargo run --release -p checker --example compat`

#[path = "../tests/support/porcupine.rs"]
mod porcupine;

use checker::cli::check_text;
use checker::Budget;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(dir) = porcupine::data_dir() else {
        eprintln!("error: PORCUPINE_DATA is unset: set it to the folder of Porcupine's data");
        return ExitCode::from(2);
    };
    let cases = porcupine::cases(&dir);
    let mut mismatches = 0;
    let mut total_ms = 0.0;
    println!(
        "{:<22} {:<17} {:<17} {:>5} {:>8} {:>10}",
        "file", "expected", "got", "ops", "checked", "time (ms)"
    );
    for case in &cases {
        let text = porcupine::read(case);
        let started = Instant::now();
        let got = check_text(&text, case.format, Budget::Millis(Budget::DEFAULT_CHECK_MS));
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        total_ms += elapsed_ms;
        let (verdict, checked) = match &got {
            Ok(judgement) => (
                judgement.verdict.name().to_string(),
                judgement.ops.to_string(),
            ),
            Err(e) => (format!("error line {}", e.line), "-".to_string()),
        };
        let agrees = verdict == case.expected();
        if !agrees {
            mismatches += 1;
        }
        println!(
            "{:<22} {:<17} {:<17} {:>5} {:>8} {:>10.3}{}",
            case.file,
            case.verdict,
            verdict,
            case.ops,
            checked,
            elapsed_ms,
            if agrees { "" } else { "  MISMATCH" }
        );
    }
    println!(
        "{} files, {} agree, {} disagree, {:.1} ms in total",
        cases.len(),
        cases.len() - mismatches,
        mismatches,
        total_ms
    );
    if mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
