//! A panic inside a run is a failure the run found (`no-panic`), not the end of the campaign.

use checker::properties::Property;
use sim::judge::run_checked;
use sim::run::RunOptions;
use sim::seedfile::SeedFile;
use std::path::Path;

/// A versioned seed file whose nodes are told there are no seed nodes: their store has no
/// ranges, so the first client request breaks the store's `expect` (a broken invariant, as a
/// bug in node code would; seed files cannot say this, validation refuses it).
fn broken_run() -> (SeedFile, sim::judge::Checked) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../seeds/fixed-versioned-genesis-lost-self-messages.yaml");
    let mut file = SeedFile::load(&path).expect("corpus seed file loads");
    file.scenario.params.seed_nodes.clear();
    let checked = run_checked(&file.scenario, &file.run_key(), RunOptions::default());
    (file, checked)
}

#[test]
fn a_panicking_node_fails_the_run_with_no_panic_and_replays_to_the_same_hash() {
    let (_, checked) = broken_run();
    let panic = checked
        .execution
        .record
        .panic
        .as_ref()
        .expect("the run records its panic");
    assert!(
        panic.message.contains("the seed list is not empty"),
        "{}",
        panic.message
    );
    assert!(panic.at < checked.execution.record.tick_cap);
    let location = panic.location.as_deref().expect("where it was raised");
    assert!(
        location.starts_with("node/src/store/versioned"),
        "{location}"
    );
    let found: Vec<_> = checked
        .judgement
        .violations
        .iter()
        .map(|v| v.property)
        .collect();
    assert_eq!(found, [Property::NoPanic], "the panic is the whole verdict");
    let first = checked.judgement.first().expect("a violation");
    assert!(
        first.signature.starts_with("no-panic: panicked: "),
        "{}",
        first.signature
    );
    assert!(
        checked.execution.record.final_nodes.is_empty(),
        "no final state is read from a half-done step"
    );
    let (_, again) = broken_run();
    assert_eq!(
        again.trace_hash(),
        checked.trace_hash(),
        "a panic replays bit for bit"
    );
}

#[test]
fn a_run_that_ends_is_judged_for_no_panic_and_holds_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../seeds/fixed-versioned-genesis-lost-self-messages.yaml");
    let file = SeedFile::load(&path).expect("corpus seed file loads");
    let checked = run_checked(&file.scenario, &file.run_key(), RunOptions::default());
    assert!(checked.properties.contains(&Property::NoPanic));
    assert!(checked.execution.record.panic.is_none());
    assert!(checked.judgement.violations.is_empty());
}
