//! The `sim` binary; everything lives in the library so tests and benches can reach it.

fn main() -> std::process::ExitCode {
    sim::cli::main_with_args(std::env::args().collect())
}
