//! The `sim` binary; everything lives in the library so tests and benches can reach it.

/// mimalloc instead of the system allocator: a run allocates and frees many small message
/// tables, and glibc's malloc/free were ~9% of a fuzz run's instructions. Allocation never
/// reaches what a run observes, so no trace hash depends on it.
#[global_allocator]
static ALLOCATOR: sim::allocator::Mimalloc = sim::allocator::Mimalloc;

fn main() -> std::process::ExitCode {
    sim::cli::main_with_args(std::env::args().collect())
}
