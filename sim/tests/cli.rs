//! The command-line contract: exit statuses and one-line errors.

mod common;
use common::sim;

fn assert_one_line_usage_error(args: &[&str], mentions: &str) {
    let (code, stdout, stderr) = sim(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{args:?} printed {stdout}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(mentions), "{args:?}: {stderr}");
}

#[test]
fn bad_flags_give_status_2_and_one_line() {
    assert_one_line_usage_error(&["grader", "mp1", "--sed", "3"], "--sed");
    assert_one_line_usage_error(&["grader", "mp1", "--seed", "x"], "x");
    assert_one_line_usage_error(&["grader", "nonsense"], "nonsense");
    assert_one_line_usage_error(&["frobnicate"], "frobnicate");
    assert_one_line_usage_error(&[], "sim");
}

#[test]
fn bad_log_paths_give_status_2_and_one_line() {
    assert_one_line_usage_error(
        &[
            "grader",
            "mp1-single",
            "--log",
            "/nonexistent-dir/x/dbg.log",
        ],
        "/nonexistent-dir/x/dbg.log",
    );
    let file = std::env::temp_dir().join(format!("sim-cli-test-{}", std::process::id()));
    std::fs::write(&file, "not a directory").unwrap();
    let path = file.to_str().unwrap();
    assert_one_line_usage_error(&["grader", "mp1", "--log", path], path);
    std::fs::remove_file(&file).unwrap();
    let dir = std::env::temp_dir();
    assert_one_line_usage_error(
        &["grader", "read", "--log", dir.to_str().unwrap()],
        "directory",
    );
}

#[test]
fn grader_writes_logs_and_reports_across_processes() {
    let dir = std::env::temp_dir().join(format!("sim-cli-logs-{}", std::process::id()));
    let (code, report, _) = sim(&[
        "grader",
        "mp1",
        "--seed",
        "5",
        "--log",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{report}");
    assert!(report.ends_with("membership total: 90/90\n"));
    for name in ["mp1-single", "mp1-multi", "mp1-drop"] {
        let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap();
        assert!(log.starts_with("131\n"), "{name}");
    }
    // A second process gives the same report, trace hashes included.
    let (_, again, _) = sim(&["grader", "mp1", "--seed", "5"]);
    assert_eq!(report, again);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn regress_writes_trace_hashes_and_names_the_file_whose_hash_changed() {
    let dir = std::env::temp_dir().join(format!("sim-cli-hashes-{}", std::process::id()));
    let seeds = dir.join("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "classic-default-one-reply-quorum-quorum-1.yaml",
        "fixed-versioned-genesis-lost-self-messages.yaml",
    ] {
        std::fs::copy(manifest.join("../seeds").join(name), seeds.join(name)).unwrap();
    }
    let hashes = dir.join("hashes.txt");
    let (code, _, stderr) = sim(&[
        "regress",
        seeds.to_str().unwrap(),
        "--hashes-out",
        hashes.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let written = std::fs::read_to_string(&hashes).unwrap();
    assert_eq!(written.lines().count(), 2, "{written}");
    let (code, stdout, _) = sim(&[
        "regress",
        seeds.to_str().unwrap(),
        "--hashes-against",
        hashes.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("2 compared, 0 differ"), "{stdout}");
    // A recorded hash that differs from the replay is a failure naming the file.
    let first = written.lines().next().unwrap();
    let (name, _) = first.rsplit_once(' ').unwrap();
    let tampered = written.replacen(first, &format!("{name} 0123456789abcdef"), 1);
    std::fs::write(&hashes, tampered).unwrap();
    let (code, stdout, _) = sim(&[
        "regress",
        seeds.to_str().unwrap(),
        "--hashes-against",
        hashes.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!("HASH      {name}  was 0123456789abcdef")),
        "{stdout}"
    );
    std::fs::write(&hashes, "not a hash line\n").unwrap();
    assert_one_line_usage_error(
        &[
            "regress",
            seeds.to_str().unwrap(),
            "--hashes-against",
            hashes.to_str().unwrap(),
        ],
        "hashes.txt:1: hash: found",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
