//! One original grader scenario (700 ticks, 10 nodes, EmulNet) in release: the figures the
//! original C++ program is compared with (30-40 ms for MP1, about 148 ms for a key-value test).

use criterion::{criterion_group, criterion_main, Criterion};
use sim::grader::Scenario;
use sim::trace::TraceLevel;
use std::hint::black_box;

/// The allocator the `sim` binary runs with (see `sim/src/main.rs`), so that the figure is the
/// one `sim grader` pays rather than the system allocator's.
#[global_allocator]
static ALLOCATOR: sim::allocator::Mimalloc = sim::allocator::Mimalloc;

fn scenarios(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("sim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for scenario in [
        Scenario::Mp1Single,
        Scenario::Mp1Multi,
        Scenario::Mp1Drop,
        Scenario::Read,
        Scenario::Create,
    ] {
        c.bench_function(&format!("{} without log", scenario.name()), |b| {
            b.iter(|| black_box(scenario.run(black_box(1), TraceLevel::HashOnly).points()))
        });
        let path = dir.join(format!("{}.log", scenario.name()));
        c.bench_function(&format!("{} with log", scenario.name()), |b| {
            b.iter(|| {
                let run = scenario.run(black_box(1), TraceLevel::HashOnly);
                run.write_log(&path).expect("write log");
                black_box(run.points())
            })
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = scenarios
}
criterion_main!(benches);
