//! `sim report`: four shards of a campaign, merged, equal the unsharded campaign apart from
//! timings, down to the kept (shrunk) seed files; the merged page links a picture of each.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::sim;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A campaign that finds several signatures, in seeds that fall in different shards.
const CAMPAIGN: [&str; 9] = [
    "fuzz",
    "--runs",
    "160",
    "--seed",
    "1",
    "--bug",
    "one-reply-quorum",
    "--jobs",
    "1",
];

/// The summary without timings, with seed files named by file name only.
fn comparable(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    let o = v.as_object_mut().unwrap();
    for timing in [
        "seconds",
        "runs_per_second",
        "ticks_per_second",
        "events_per_second",
    ] {
        o.remove(timing);
    }
    for f in o["failing_seeds"].as_array_mut().unwrap() {
        let name = Path::new(f["file"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        f["file"] = name.into();
    }
    v
}

fn out_dir(dir: &Path) -> Vec<&str> {
    vec!["--out", dir.to_str().unwrap(), "--json"]
}

#[test]
fn four_shards_merged_equal_the_unsharded_campaign() {
    let whole = temp_dir("whole");
    let mut args = CAMPAIGN.to_vec();
    args.extend(out_dir(&whole));
    let (code, unsharded, _) = sim(&args);
    assert_eq!(code, 1, "the planted bug is found");
    let mut dirs = Vec::new();
    for k in 1..=4 {
        let dir = temp_dir(&format!("shard-{k}"));
        let shard = format!("{k}/4");
        let mut args = CAMPAIGN.to_vec();
        args.extend(out_dir(&dir));
        args.extend(["--shard", shard.as_str()]);
        let (_, json, _) = sim(&args);
        std::fs::write(dir.join("summary.json"), json).unwrap();
        dirs.push(dir);
    }
    let merged_dir = temp_dir("merged");
    let seeds = merged_dir.join("seeds");
    let page = merged_dir.join("report.html");
    let mut args: Vec<&str> = vec!["report"];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    args.extend([
        "--json",
        "--out",
        seeds.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    let (code, merged, _) = sim(&args);
    assert_eq!(code, 1, "failures found: status 1, as fuzz");

    let (whole_summary, mut merged_summary) = (comparable(&unsharded), comparable(&merged));
    assert_eq!(merged_summary["shard"], serde_json::Value::Null);
    merged_summary
        .as_object_mut()
        .unwrap()
        .insert("shard".into(), whole_summary["shard"].clone());
    assert_eq!(merged_summary, whole_summary);

    // The kept seed files are the unsharded campaign's, byte for byte (shrunk the same way).
    let kept = whole_summary["failing_seeds"].as_array().unwrap();
    assert!(kept.len() >= 2, "several signatures: {kept:?}");
    let page_text = std::fs::read_to_string(&page).unwrap();
    for f in kept {
        let name = f["file"].as_str().unwrap();
        assert_eq!(
            std::fs::read_to_string(whole.join(name)).unwrap(),
            std::fs::read_to_string(seeds.join(name)).unwrap(),
            "{name}"
        );
        let picture = name.replace(".yaml", ".html");
        assert!(
            page_text.contains(&format!("href=\"{picture}\"")),
            "{picture}"
        );
        assert!(merged_dir.join(&picture).exists(), "{picture}");
    }
}

/// `sim report DIR` fails with status 2 and one line that names `names`.
fn assert_bad_input(dir: &Path, names: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["report", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(names.to_str().unwrap()), "{stderr}");
}

#[test]
fn missing_or_broken_summaries_are_bad_input() {
    let dir = temp_dir("empty");
    assert_bad_input(&dir, &dir);
    let broken = dir.join("summary.json");
    std::fs::write(&broken, "{\"seed\": 1, \"runs\": \"many\"}").unwrap();
    assert_bad_input(&dir, &broken);
}
