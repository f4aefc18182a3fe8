//! The checker against Porcupine's reference timings (one core): all 102 non-empty etcd files
//! 758 ms, etcd_002 312 ms, kv c50-ok 307 ms, c50-bad 50 ms, parsing excluded.
//!
//! Each history is timed three ways, single-threaded:
//! - `verdict`: the search alone on the parsed history (what Porcupine's figures measure);
//! - `parse+verdict`: from the file's text;
//! - `parse+verdict+witness`: what `sim check` does, minus starting the process.
//!
//! `PORCUPINE_DATA=/path/to/shared/data/porcupine cargo bench -p checker --bench porcupine`

#[path = "../tests/support/porcupine.rs"]
mod porcupine;

use checker::check::verdict;
use checker::cli::check_text;
use checker::formats::{jepsen_etcd, jepsen_kv};
use checker::{Budget, Format, Verdict};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;

const BUDGET: Budget = Budget::Millis(Budget::DEFAULT_CHECK_MS);

/// One file's text and format, with the verdict it must get.
struct Input {
    text: String,
    format: Format,
    linearizable: bool,
}

/// The search alone, on a freshly parsed copy (models intern what the search discovers, so a
/// reused one would be warmer than a real run).
fn verdict_of(input: &Input) -> Verdict {
    match input.format {
        Format::JepsenEtcd => {
            let (mut model, partitions) = jepsen_etcd::parse(&input.text).unwrap();
            verdict(&mut model, &partitions, BUDGET)
        }
        Format::JepsenKv => {
            let (mut model, partitions) = jepsen_kv::parse(&input.text).unwrap();
            verdict(&mut model, &partitions, BUDGET)
        }
        Format::Native => unreachable!("Porcupine's data has no native histories"),
    }
}

fn bench_set(c: &mut Criterion, name: &str, inputs: &[Input]) {
    let expected = |v: Verdict, input: &Input| {
        assert_eq!(v == Verdict::Linearizable, input.linearizable);
    };
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    match inputs[0].format {
        Format::JepsenEtcd => {
            group.bench_function("verdict", |b| {
                b.iter_batched(
                    || {
                        inputs
                            .iter()
                            .map(|i| jepsen_etcd::parse(&i.text).unwrap())
                            .collect::<Vec<_>>()
                    },
                    |parsed| {
                        for ((mut model, partitions), input) in parsed.into_iter().zip(inputs) {
                            expected(verdict(&mut model, &partitions, BUDGET), input);
                        }
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        Format::JepsenKv => {
            group.bench_function("verdict", |b| {
                b.iter_batched(
                    || {
                        inputs
                            .iter()
                            .map(|i| jepsen_kv::parse(&i.text).unwrap())
                            .collect::<Vec<_>>()
                    },
                    |parsed| {
                        for ((mut model, partitions), input) in parsed.into_iter().zip(inputs) {
                            expected(verdict(&mut model, &partitions, BUDGET), input);
                        }
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        Format::Native => unreachable!("Porcupine's data has no native histories"),
    }
    group.bench_function("parse+verdict", |b| {
        b.iter(|| {
            for input in inputs {
                expected(black_box(verdict_of(input)), input);
            }
        })
    });
    group.bench_function("parse+verdict+witness", |b| {
        b.iter(|| {
            for input in inputs {
                let judgement = check_text(&input.text, input.format, BUDGET).unwrap();
                expected(black_box(judgement.verdict), input);
            }
        })
    });
    group.finish();
}

fn porcupine(c: &mut Criterion) {
    let Some(dir) = porcupine::data_dir() else {
        println!("skipped: PORCUPINE_DATA unset (it names the folder of Porcupine's test data)");
        return;
    };
    let cases = porcupine::cases(&dir);
    let input = |file: &str| {
        let case = cases
            .iter()
            .find(|c| c.file == file)
            .expect("a file of the table");
        Input {
            text: porcupine::read(case),
            format: case.format,
            linearizable: case.expected() == "linearizable",
        }
    };
    let etcd: Vec<Input> = cases
        .iter()
        .filter(|c| c.format == Format::JepsenEtcd && c.ops > 0)
        .map(|c| input(&c.file))
        .collect();
    assert_eq!(etcd.len(), 102);
    bench_set(c, "etcd-all", &etcd);
    bench_set(c, "etcd_002", &[input("jepsen/etcd_002.log")]);
    bench_set(c, "kv-c50-ok", &[input("kv/c50-ok.txt")]);
    bench_set(c, "kv-c50-bad", &[input("kv/c50-bad.txt")]);
}

criterion_group!(benches, porcupine);
criterion_main!(benches);
