//! `sim fuzz`: the main job.

use super::{Failure, GeneratorArgs, EXIT_OK, EXIT_VIOLATION};
use crate::fuzz::{fuzz, FuzzError, FuzzOptions, FuzzSummary, Progress};
use crate::report::CampaignSummary;
use crate::seedfile::SeedFile;
use crate::shrink::{shrink, Shrunk, Target};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Runs a shrunk seed gets, at most.
pub const SHRINK_MAX_RUNS: u64 = 400;

/// Arguments of `sim fuzz`.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Seeds to run: S, S+1, ..., S+N-1.
    #[arg(long, value_parser = super::parse_positive)]
    runs: u64,
    /// First seed (drawn from the operating system and printed when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_parser = super::parse_jobs)]
    jobs: Option<usize>,
    /// Fault model, variant and planted bug.
    #[command(flatten)]
    generator: GeneratorArgs,
    /// A property to check on top of what the variant promises (repeatable).
    #[arg(long = "check", value_parser = super::parse_property)]
    checks: Vec<checker::properties::Property>,
    /// K/M: run only seed indices i with i mod M = K-1.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// Where failing seeds are written.
    #[arg(long, default_value = "seeds")]
    out: PathBuf,
    /// Stop at the first failure.
    #[arg(long)]
    stop_on_failure: bool,
    /// Stop after this many seconds.
    #[arg(long, value_parser = super::parse_positive)]
    duration: Option<u64>,
    /// Print one JSON object on one line on stdout.
    #[arg(long)]
    json: bool,
    /// Do not shrink the failing seeds at the end.
    #[arg(long)]
    no_shrink: bool,
    /// Write the campaign's page (and a picture of each kept failing seed beside it).
    #[arg(long)]
    html: Option<PathBuf>,
}

fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("found {text:?}; allowed: K/M with 1 <= K <= M, e.g. 1/4");
    let (k, m) = text.split_once('/').ok_or_else(bad)?;
    match (k.parse::<u64>(), m.parse::<u64>()) {
        (Ok(k), Ok(m)) if (1..=m).contains(&k) => Ok((k, m)),
        _ => Err(bad()),
    }
}

/// A seed from the operating system, for campaigns started without `--seed`.
pub(super) fn os_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut bytes);
    }
    let from_os = u64::from_le_bytes(bytes);
    if from_os != 0 {
        return from_os >> 16;
    }
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        >> 16
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn seed_done(&self, failures: u64) {
        self.0.inc(1);
        if failures > 0 {
            self.0.set_message(format!("{failures} failing"));
        }
    }
}

/// Runs `sim fuzz`.
pub fn run(args: FuzzArgs) -> Result<u8, Failure> {
    let seed = args.seed.unwrap_or_else(|| {
        let s = os_seed();
        eprintln!("seed: {s}");
        s
    });
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = FuzzOptions {
        seed,
        runs: args.runs,
        jobs,
        profile: args.generator.profile,
        variant: args.generator.variant(),
        bug: args.generator.bug,
        extra: args.checks,
        shard: args.shard,
        out: args.out,
        stop_on_failure: args.stop_on_failure,
        duration: args.duration.map(Duration::from_secs),
        shrink: !args.no_shrink,
    };
    std::fs::create_dir_all(&options.out).map_err(|e| {
        Failure::usage(format!(
            "--out {}: cannot create directory: {e}",
            options.out.display()
        ))
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    // Ctrl-C stops on a seed boundary; every failing seed found is already on disk.
    let _ = ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst));
    let bar =
        ProgressBar::with_draw_target(Some(options.seed_count()), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} seeds  {per_sec}  eta {eta}  {msg}")
            .expect("a valid template"),
    );
    let mut summary = fuzz(&options, &stop, &Bar(bar.clone())).map_err(|e| match e {
        FuzzError::Write(e) => Failure::usage(format!(
            "--out {}: cannot write seed file: {e}",
            options.out.display()
        )),
        FuzzError::Drift(drift) => Failure::usage(drift.to_string()),
    })?;
    bar.finish_and_clear();
    if options.shrink {
        shrink_kept(&mut summary);
    }
    if let Some(html) = &args.html {
        let files: Vec<PathBuf> = summary
            .failing_seeds
            .iter()
            .map(|f| f.file.clone())
            .collect();
        let campaign = CampaignSummary::of(&summary, &options);
        crate::picture::campaign::write(&campaign, &files, html, "fuzz campaign")
            .map_err(Failure::usage)?;
    }
    if args.json {
        println!("{}", json_summary(&summary, &options));
    } else {
        eprint!("{}", words_summary(&summary, &options));
    }
    Ok(
        if summary.failures > 0 || !summary.nondeterministic.is_empty() {
            EXIT_VIOLATION
        } else {
            EXIT_OK
        },
    )
}

/// Shrinks each kept failing seed, re-verifies the shrunk scenario, and rewrites its file.
fn shrink_kept(summary: &mut FuzzSummary) {
    for kept in &summary.failing_seeds {
        let Ok(mut file) = SeedFile::load(&kept.file) else {
            continue;
        };
        let key = file.run_key();
        let target = Target {
            property: kept.property,
            signature: Some(kept.signature.clone()),
        };
        let Shrunk {
            scenario: smaller,
            run: verified,
            report,
        } = shrink(&file.scenario, &key, &target, SHRINK_MAX_RUNS);
        if !verified
            .judgement
            .violations
            .iter()
            .any(|v| target.matches(v))
        {
            continue;
        }
        if !report.steps.is_empty() {
            file.note = format!("{}; shrunk: {}", file.note, report.steps.join(", "));
        }
        file.scenario = smaller;
        file.trace_hash = format!("{:016x}", verified.trace_hash());
        let _ = file.save(&kept.file);
    }
}

fn json_summary(s: &FuzzSummary, options: &FuzzOptions) -> String {
    CampaignSummary::of(s, options).to_json_line()
}

fn words_summary(s: &FuzzSummary, options: &FuzzOptions) -> String {
    let ran: Vec<String> = s
        .ran
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..={b}")
            }
        })
        .collect();
    let seconds = s.seconds.max(1e-9);
    let mut out = format!(
        "fuzz {} {} (bug {}): {} runs in {:.2} s ({:.0} runs/s, {:.0} ticks/s){}\n",
        options.variant.name(),
        options.profile.name(),
        options.bug.name(),
        s.runs,
        s.seconds,
        s.runs as f64 / seconds,
        s.ticks as f64 / seconds,
        if s.stopped_early {
            ", stopped early"
        } else {
            ""
        }
    );
    out += &format!(
        "seeds run: {}\n",
        if ran.is_empty() {
            "none".to_string()
        } else {
            ran.join(", ")
        }
    );
    out += &format!(
        "failures: {}, unknown verdicts: {}, nondeterministic: {}\n",
        s.failures,
        s.unknown,
        s.nondeterministic.len()
    );
    for (property, count) in &s.failures_by_property {
        out += &format!("  {count} failing runs violate {property} first\n");
    }
    for d in &s.nondeterministic {
        out += &format!("  nondeterministic {d}\n");
    }
    out += &format!(
        "outcomes: ok {}, rejected {}, unknown {}\n",
        s.outcomes[0], s.outcomes[1], s.outcomes[2]
    );
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out += &format!("faults fired: {}\n", list(&s.faults));
    out += &format!("coverage: {}\n", list(&s.coverage));
    for f in &s.failing_seeds {
        out += &format!(
            "failing seed {} ({}): {}\n  {}\n",
            f.seed,
            f.property,
            f.file.display(),
            f.signature
        );
    }
    out
}
