//! Seed files: one YAML file per recorded seed, written atomically, read strictly.

use crate::judge::RunKey;
use crate::profile::Profile;
use crate::scenario::Scenario;
use checker::properties::Property;
use node::{PlantedBug, Variant};
use serde::{Deserialize, Deserializer, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a seed file expects of its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Every checked property holds.
    Pass,
    /// The property named in `property` is violated.
    Fail,
}

/// One recorded seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// Format version of the file.
    pub format: u32,
    /// The project version that wrote it.
    pub written_by: String,
    /// Root seed of the run.
    pub seed: u64,
    /// Profile the scenario was drawn from.
    pub profile: Profile,
    /// Store variant.
    pub variant: Variant,
    /// Planted bug, or `none`.
    pub bug: PlantedBug,
    /// Expected outcome.
    pub expect: Expect,
    /// The violated property, when `expect: fail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<Property>,
    /// Properties checked on top of what the variant promises.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_checks: Vec<Property>,
    /// The violation signature (property and key facts), used to deduplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The trace hash when written (informative: it changes whenever node code changes).
    pub trace_hash: String,
    /// Free text: what this seed shows.
    #[serde(default)]
    pub note: String,
    /// The resolved scenario; replay uses only this, never the generator.
    #[serde(deserialize_with = "checked_scenario")]
    pub scenario: Scenario,
}

/// Deserializes a scenario and checks what serde cannot, so such errors carry a line too.
fn checked_scenario<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Scenario, D::Error> {
    let scenario = Scenario::deserialize(deserializer)?;
    scenario
        .validate()
        .map_err(|e| serde::de::Error::custom(format!("scenario.{e}")))?;
    Ok(scenario)
}

/// A seed file that could not be read, as one line naming the file, line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFileError(pub String);

impl std::fmt::Display for SeedFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SeedFile {
    /// Reads and checks a seed file.
    pub fn load(path: &Path) -> Result<SeedFile, SeedFileError> {
        let text = fs::read_to_string(path)
            .map_err(|e| SeedFileError(format!("{}: cannot read: {e}", path.display())))?;
        let file: SeedFile = serde_yaml::from_str(&text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(1);
            // serde_yaml appends " at line L column C"; the line is already in front.
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            SeedFileError(format!("{}:{line}: {message}", path.display()))
        })?;
        if file.format != FORMAT_VERSION {
            return Err(SeedFileError(format!(
                "{}: format: version {} is not supported (this build reads {FORMAT_VERSION})",
                path.display(),
                file.format
            )));
        }
        if file.expect == Expect::Fail && file.property.is_none() {
            return Err(SeedFileError(format!(
                "{}: property: `expect: fail` needs the violated property",
                path.display()
            )));
        }
        Ok(file)
    }

    /// What identifies its run besides the scenario: seed, profile, extra checks.
    pub fn run_key(&self) -> RunKey {
        RunKey {
            seed: self.seed,
            profile: self.profile,
            extra: self.extra_checks.clone(),
        }
    }

    /// The YAML text of the file.
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("a seed file always serializes")
    }

    /// Writes the file atomically: a temporary file in the same folder, then a rename, so a
    /// crash never leaves half a seed file behind.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("seed.yaml");
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        fs::write(&tmp, self.to_yaml())?;
        fs::rename(&tmp, path)
    }
}

/// The `.yaml` files of a folder, sorted by name.
pub fn seed_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}
