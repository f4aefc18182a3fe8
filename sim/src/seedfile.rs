//! Seed files: one YAML file per recorded seed, written atomically, read strictly.

use crate::judge::RunKey;
use crate::profile::Profile;
use crate::scenario::Scenario;
use crate::validate::{rule_for, Invalid};
use crate::yaml_line::line_of;
use checker::properties::Property;
use node::{PlantedBug, Variant};
use serde::{Deserialize, Serialize};
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
    pub scenario: Scenario,
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
        let name = path.display().to_string();
        let bytes =
            fs::read(path).map_err(|e| SeedFileError(format!("{name}: cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            SeedFileError(format!(
                "{name}:{line}: text: found bytes that are not UTF-8; allowed: UTF-8 text"
            ))
        })?;
        SeedFile::from_text(&name, &text)
    }

    /// Parses and checks the text of a seed file; errors name the file as `name`.
    pub fn from_text(name: &str, text: &str) -> Result<SeedFile, SeedFileError> {
        let file: SeedFile = serde_yaml::from_str(text).map_err(|e| {
            let line = e.location().map_or(1, |l| l.line());
            SeedFileError(format!("{name}:{line}: {}", serde_message(&e)))
        })?;
        file.check().map_err(|invalid| {
            // A missing `property` belongs with the `expect: fail` that needs it.
            let at = match invalid.field.as_str() {
                "property" => "expect",
                field => field,
            };
            let line = line_of(text, at);
            SeedFileError(format!("{name}:{line}: {invalid}"))
        })?;
        Ok(file)
    }

    /// What serde cannot check: the format version, the property of a failing seed, the
    /// header agreeing with the scenario, and every scenario field in its range.
    fn check(&self) -> Result<(), Invalid> {
        let invalid = |field: &str, found: String, allowed: &str| Invalid {
            field: field.to_string(),
            found,
            allowed: allowed.to_string(),
        };
        if self.format != FORMAT_VERSION {
            return Err(invalid(
                "format",
                self.format.to_string(),
                &FORMAT_VERSION.to_string(),
            ));
        }
        if self.expect == Expect::Fail && self.property.is_none() {
            return Err(invalid(
                "property",
                "nothing".into(),
                "the violated property (`expect: fail` needs it)",
            ));
        }
        let params = &self.scenario.params;
        if params.variant != self.variant {
            return Err(invalid(
                "scenario.params.variant",
                params.variant.name().into(),
                &format!("{} (the file's `variant`)", self.variant.name()),
            ));
        }
        if params.bug != self.bug {
            return Err(invalid(
                "scenario.params.bug",
                params.bug.name().into(),
                &format!("{} (the file's `bug`)", self.bug.name()),
            ));
        }
        self.scenario.validate().map_err(|e| Invalid {
            field: format!("scenario.{}", e.field),
            ..e
        })
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

/// A serde error as `field: found X; allowed: Y`, with the allowed values of the field's rule
/// where it has one (serde only knows the type: `expected u8`). Syntax errors name no field
/// and are reported as `syntax: ...`.
fn serde_message(e: &serde_yaml::Error) -> String {
    let text = e.to_string();
    // serde_yaml appends " at line L column C"; the line is already in front.
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    let is_path = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c))
    };
    let (path, message) = match text.split_once(": ") {
        Some((p, m)) if is_path(p) => (p, m),
        _ => ("", text),
    };
    let child = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    let allowed_for = |field: &str, fallback: &str| {
        rule_for(field.strip_prefix("scenario.").unwrap_or(field))
            .map_or(fallback.to_string(), |r| r.allowed())
    };
    let between_ticks = |m: &str| m.split('`').nth(1).unwrap_or("").to_string();
    if let Some(rest) = message.strip_prefix("missing field ") {
        let field = child(&between_ticks(rest));
        let allowed = allowed_for(&field, "a value (required)");
        return format!("{field}: found nothing; allowed: {allowed}");
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (_, expected) = rest
            .split_once(", expected ")
            .unwrap_or(("", "no other field"));
        let name = between_ticks(rest);
        // A typo names its own path; a key that is no name at all is reported at its parent.
        return if is_path(&name) {
            format!(
                "{}: found an unknown field; allowed: {expected}",
                child(&name)
            )
        } else {
            let parent = if path.is_empty() { "document" } else { path };
            format!("{parent}: found an unknown field {name:?}; allowed: {expected}")
        };
    }
    let mismatch = [
        "invalid type: ",
        "invalid value: ",
        "invalid length ",
        "unknown variant ",
    ]
    .iter()
    .find_map(|p| message.strip_prefix(p))
    .and_then(|rest| rest.split_once(", expected "));
    let field = if path.is_empty() { "document" } else { path };
    match mismatch {
        Some((found, expected)) => {
            format!(
                "{field}: found {found}; allowed: {}",
                allowed_for(field, expected)
            )
        }
        None if path.is_empty() => format!("syntax: {message}"),
        None => format!("{path}: {message}"),
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
