//! The planted-bug catalog: names and descriptions as reviewed, the README's copy generated from
//! the command, and the hunt finding a bug while the control finds nothing.

use checker::properties::Property;
use node::PlantedBug;
use sim::hunt::{catalog_table, hunt};

#[test]
fn catalog_names_and_descriptions_snapshot() {
    insta::assert_snapshot!(catalog_table());
}

#[test]
fn the_readme_catalog_is_the_output_of_sim_bugs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find("<!-- catalog:begin -->\n").unwrap() + "<!-- catalog:begin -->\n".len();
    let end = readme.find("<!-- catalog:end -->").unwrap();
    assert_eq!(
        readme[start..end].trim(),
        catalog_table().trim(),
        "run `just readme-tables`"
    );
}

#[test]
fn every_bug_names_a_property_the_checker_knows() {
    for bug in PlantedBug::ALL
        .into_iter()
        .filter(|b| *b != PlantedBug::None)
    {
        let info = bug.info();
        assert!(
            info.property.parse::<Property>().is_ok(),
            "{}: {}",
            info.name,
            info.property
        );
    }
}

#[test]
fn the_hunt_finds_a_planted_bug_and_nothing_without_one() {
    let found = hunt(&[PlantedBug::OneReplyQuorum, PlantedBug::None], 40, 2);
    assert!(found[0].found, "{found:?}");
    assert_eq!(found[0].property, Some(Property::Quorum));
    assert!(found[0].shrunk_ops > 0 && found[0].shrunk_events > 0);
    assert!(!found[1].found, "the control found something: {found:?}");
}
