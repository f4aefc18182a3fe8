//! `sim report DIR...`: the summaries and seed files that sharded campaigns wrote, merged into
//! the one summary (and page) the unsharded campaign would have given.

use super::{Failure, EXIT_OK, EXIT_VIOLATION};
use crate::picture::campaign;
use crate::report::{find_summaries, merge, ShardSummary};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Arguments of `sim report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Folders holding shards' `summary*.json` (from `sim fuzz --json`) and seed files; searched
    /// recursively.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Print the merged summary as one JSON object on one line on stdout.
    #[arg(long)]
    json: bool,
    /// Write the campaign's page (and a picture of each kept failing seed beside it).
    #[arg(long)]
    html: Option<PathBuf>,
    /// Copy the kept failing seed files (the lowest seed of each signature) into this folder.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `sim report`.
pub fn run(args: ReportArgs) -> Result<u8, Failure> {
    let mut shards = Vec::new();
    for dir in &args.dirs {
        let found = find_summaries(dir).map_err(Failure::usage)?;
        if found.is_empty() {
            return Err(Failure::usage(format!(
                "{}: no summary*.json (write one with `sim fuzz ... --json > DIR/summary.json`)",
                dir.display()
            )));
        }
        for path in found {
            shards.push(ShardSummary::load(&path).map_err(Failure::usage)?);
        }
    }
    let first = &shards[0].summary;
    for shard in &shards[1..] {
        let s = &shard.summary;
        for (field, a, b) in [
            ("seed", first.seed.to_string(), s.seed.to_string()),
            ("variant", first.variant.clone(), s.variant.clone()),
            ("profile", first.profile.clone(), s.profile.clone()),
            ("bug", first.bug.clone(), s.bug.clone()),
        ] {
            if a != b {
                return Err(Failure::usage(format!(
                    "{}: {field}: found {b}; the other shards have {a}",
                    shard.path.display()
                )));
            }
        }
    }
    let (mut summary, mut files) = merge(&shards);
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::usage(format!("--out {}: cannot create: {e}", out.display())))?;
        for (entry, file) in summary.failing_seeds.iter_mut().zip(files.iter_mut()) {
            let to = out.join(file.file_name().unwrap_or_default());
            std::fs::copy(&*file, &to).map_err(|e| {
                Failure::usage(format!(
                    "{}: cannot copy to {}: {e}",
                    file.display(),
                    to.display()
                ))
            })?;
            entry.file = to.display().to_string();
            *file = to;
        }
    }
    if let Some(html) = &args.html {
        campaign::write(&summary, &files, html, "merged campaign").map_err(Failure::usage)?;
    }
    if args.json {
        println!("{}", summary.to_json_line());
    } else {
        let mut out = format!(
            "report: {} summaries merged: {} runs, {} failing, {} unknown verdicts, {} nondeterministic\n",
            shards.len(),
            summary.runs,
            summary.failures,
            summary.unknown,
            summary.nondeterministic
        );
        for f in &summary.failing_seeds {
            let _ = writeln!(
                out,
                "failing seed {} ({}): {}\n  {}",
                f.seed, f.property, f.file, f.signature
            );
        }
        eprint!("{out}");
    }
    Ok(if summary.failures > 0 || summary.nondeterministic > 0 {
        EXIT_VIOLATION
    } else {
        EXIT_OK
    })
}
