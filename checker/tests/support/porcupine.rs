//! Porcupine's test data (see `../shared/data/porcupine/README.md`), shared by the compat test,
//! the `compat` example and the benchmarks. The data stays outside the repository; the variable
//! `PORCUPINE_DATA` names its folder.
// Each test, example and benchmark that includes this file uses a different part of it.
#![allow(dead_code)]

use checker::Format;
use std::path::{Path, PathBuf};

/// One row of `VERDICTS.tsv`.
pub struct Case {
    /// The file, relative to the data folder.
    pub file: String,
    /// The verdict Porcupine's own tests assert.
    pub verdict: String,
    /// Operations, as the table counts them.
    pub ops: usize,
    /// The file's format.
    pub format: Format,
    /// Where the file is.
    pub path: PathBuf,
}

/// The data folder, if `PORCUPINE_DATA` names one.
pub fn data_dir() -> Option<PathBuf> {
    std::env::var_os("PORCUPINE_DATA")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// Every row of `VERDICTS.tsv` in `dir`, in table order.
pub fn cases(dir: &Path) -> Vec<Case> {
    let table = dir.join("VERDICTS.tsv");
    let text = std::fs::read_to_string(&table)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", table.display()));
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 4, "VERDICTS.tsv row {line:?}");
            Case {
                file: fields[0].to_string(),
                verdict: fields[1].to_string(),
                ops: fields[2].parse().expect("operation count"),
                format: fields[3].parse().expect("format"),
                path: dir.join(fields[0]),
            }
        })
        .collect()
}

impl Case {
    /// The verdict our checker must give: the table says `empty` for the one empty file, and
    /// an empty history is linearizable.
    pub fn expected(&self) -> &str {
        if self.verdict == "empty" {
            "linearizable"
        } else {
            &self.verdict
        }
    }
}

/// The file's text.
pub fn read(case: &Case) -> String {
    std::fs::read_to_string(&case.path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", case.path.display()))
}
