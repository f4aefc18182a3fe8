//! Pictures of a run: the SVG and the page's data block are snapshot-tested on two small seeds,
//! and the same seed gives byte-identical files.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root: seed paths in a page's command are relative to it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `sim replay SEED --html OUT.html --svg OUT.svg` from the workspace root; returns both files.
fn pictures(seed: &str, name: &str) -> (String, String) {
    let dir = root().join("target/picture-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join(format!("{name}.html"));
    let svg = dir.join(format!("{name}.svg"));
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .current_dir(root())
        .args(["replay", seed, "--html"])
        .arg(&html)
        .arg("--svg")
        .arg(&svg)
        .output()
        .expect("run sim");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read_to_string(html).unwrap(),
        std::fs::read_to_string(svg).unwrap(),
    )
}

/// The JSON data block of a page.
fn data_block(html: &str) -> &str {
    let start = html.find("id=\"data\">").expect("a data block") + "id=\"data\">".len();
    let len = html[start..].find("</script>").expect("closed");
    &html[start..start + len]
}

/// The data block one field (or one column) a line, so a person can review a snapshot.
fn readable(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    let mut out = String::new();
    for (key, field) in value.as_object().expect("an object") {
        match field {
            serde_json::Value::Object(columns) if key != "focus" => {
                for (column, v) in columns {
                    out += &format!("{key}.{column}: {v}\n");
                }
            }
            v => out += &format!("{key}: {v}\n"),
        }
    }
    out
}

fn snapshot_pair(seed: &str, name: &str) {
    let (html, svg) = pictures(seed, name);
    let (html_again, svg_again) = pictures(seed, &format!("{name}-again"));
    assert_eq!(html, html_again, "same seed, same page bytes");
    assert_eq!(svg, svg_again, "same seed, same SVG bytes");
    let json = data_block(&html);
    assert!(
        !json.contains('<'),
        "the data block cannot close its script"
    );
    insta::assert_snapshot!(format!("{name}-svg"), svg);
    insta::assert_snapshot!(format!("{name}-data"), readable(json));
}

#[test]
fn double_create_pictures_snapshot() {
    snapshot_pair(
        "seeds/classic-linearizable-double-create.yaml",
        "double-create",
    );
}

#[test]
fn one_reply_quorum_pictures_snapshot() {
    snapshot_pair(
        "seeds/classic-default-one-reply-quorum-quorum-1.yaml",
        "one-reply-quorum",
    );
}

#[test]
fn a_passing_run_gets_a_picture_without_a_witness() {
    let (html, svg) = pictures("--seed=7", "pass-seed-7");
    let value: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    assert!(value["focus"].is_null(), "no violation, no focus");
    assert!(svg.contains("passed"), "{svg}");
    assert!(!svg.contains("violation certain"));
}

#[test]
fn messages_are_tied_to_the_operations_they_serve() {
    let (html, _) = pictures(
        "seeds/classic-default-one-reply-quorum-quorum-1.yaml",
        "ties",
    );
    let value: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    let kinds: Vec<&str> = value["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let m = &value["messages"];
    let column = |name: &str| m[name].as_array().unwrap().clone();
    let (kind, op, from, to) = (column("kind"), column("op"), column("from"), column("to"));
    // Op 4 is coordinated by node 2: its requests leave node 2 and its replies come back to it.
    let of_op4: Vec<usize> = (0..op.len()).filter(|&i| op[i] == 4).collect();
    let named = |i: usize| kinds[kind[i].as_u64().unwrap() as usize];
    assert!(of_op4.iter().any(|&i| named(i) == "kv-req" && from[i] == 2));
    assert!(of_op4.iter().any(|&i| named(i) == "kv-reply" && to[i] == 2));
    // Client requests and replies always serve some operation.
    for (i, served) in op.iter().enumerate() {
        if matches!(named(i), "kv-req" | "kv-reply") {
            assert!(served.as_i64().unwrap() >= 0, "message {i} serves no op");
        }
    }
}
