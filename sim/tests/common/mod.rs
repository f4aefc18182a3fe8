//! What the command-line tests share: running the `sim` binary.

use std::process::Command;

/// Runs the `sim` binary with `args` in the package's folder (where `seeds/` and the fixtures
/// are); returns its exit status, stdout and stderr.
pub fn sim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run sim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
