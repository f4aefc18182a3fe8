//! Runs one grader scenario many times, for profilers: `cargo run --release --example profile_grader -- mp1-single 200`.

/// The `sim` binary's allocator (see `sim/src/main.rs`), so that a profile shows what
/// `sim grader` runs.
#[global_allocator]
static ALLOCATOR: sim::allocator::Mimalloc = sim::allocator::Mimalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "mp1-single".to_string());
    let times: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    let selection = sim::grader::Selection::parse(&name).expect("a scenario name");
    let mut points = 0;
    for seed in 0..times {
        for scenario in selection.scenarios() {
            points += scenario
                .run(seed, sim::trace::TraceLevel::HashOnly)
                .points();
        }
    }
    println!("{points}");
}
