//! The page of a campaign (`sim fuzz --html`, `sim report --html`): runs, speed, failures by
//! property, one row per failure signature with its shrunk size, its picture and the command
//! that reproduces it, and bars for outcomes, faults fired and coverage marks. Static HTML.

use super::html::{escape, page};
use super::model::{Picture, Source};
use crate::judge::run_checked;
use crate::report::CampaignSummary;
use crate::run::RunOptions;
use crate::seedfile::SeedFile;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const STYLE: &str = "body{font:13px/1.45 system-ui,sans-serif;margin:16px;color:#222}\
h1{font-size:18px;margin:0 0 4px}h1.fail{color:#b3261e}h1.pass{color:#1e7d32}h2{font-size:15px;margin:18px 0 6px}\
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}\
.bar{display:inline-block;height:12px;background:#6DB6FE;vertical-align:middle;margin-right:6px}\
.bar.fail{background:#e57373}.bar.fault{background:#f4a261}.bar.cov{background:#9467bd}\
.bar.rejected{background:#FEB5DA}.bar.unknown{background:#FFAA26}code{background:#eee;padding:1px 4px}";

/// One failure signature, with what its shrunk seed looks like.
#[derive(Debug, Clone)]
pub struct FailureRow {
    /// Signature.
    pub signature: String,
    /// Property.
    pub property: String,
    /// Lowest seed with it.
    pub seed: u64,
    /// Its (shrunk) seed file.
    pub file: PathBuf,
    /// Events of the seed file's run.
    pub events: u64,
    /// Client operations of the seed file's run.
    pub ops: usize,
    /// The picture's file name, beside the report.
    pub picture: Option<String>,
}

/// Replays a seed file, writes its picture as `<stem>.html` into `dir`, and returns its row.
pub fn draw_seed(
    file: &Path,
    signature: &str,
    property: &str,
    dir: &Path,
) -> Result<FailureRow, String> {
    let seed = SeedFile::load(file).map_err(|e| e.0)?;
    let key = seed.run_key();
    let checked = run_checked(
        &seed.scenario,
        &key,
        RunOptions {
            picture: true,
            ..RunOptions::default()
        },
    );
    let source = Source {
        title: format!("{} (seed {})", file.display(), seed.seed),
        command: format!("sim replay {}", file.display()),
        seed: seed.seed,
        variant: seed.variant.name().to_string(),
        profile: seed.profile.name().to_string(),
        bug: seed.bug.name().to_string(),
    };
    let picture = Picture::build(&seed.scenario, &checked, source, false);
    let name = format!(
        "{}.html",
        file.file_stem()
            .map_or_else(|| "seed".into(), |s| s.to_string_lossy())
    );
    let out = dir.join(&name);
    std::fs::write(&out, super::html::render(&picture))
        .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    Ok(FailureRow {
        signature: signature.to_string(),
        property: property.to_string(),
        seed: seed.seed,
        file: file.to_path_buf(),
        events: picture.meta.events,
        ops: picture.ops.id.len(),
        picture: Some(name),
    })
}

/// Horizontal bars of counts, largest first scale.
fn bars(out: &mut String, title: &str, class: &str, items: &[(String, u64)]) {
    let _ = writeln!(out, "<h2>{}</h2>", escape(title));
    if items.is_empty() {
        out.push_str("<p>none</p>\n");
        return;
    }
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    out.push_str("<table>\n");
    for (name, n) in items {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><span class=\"bar {class}\" style=\"width:{}px\"></span>{n}</td></tr>",
            escape(name),
            (n * 300).div_ceil(max)
        );
    }
    out.push_str("</table>\n");
}

/// The campaign's page. `rows` are the failure signatures, in seed order.
pub fn render(s: &CampaignSummary, rows: &[FailureRow], title: &str) -> String {
    let mut b = String::from("<body>\n");
    let ran: Vec<String> = s
        .ran
        .iter()
        .map(|&(a, z, step)| match (a == z, step) {
            (true, _) => a.to_string(),
            (false, 1) => format!("{a}..={z}"),
            (false, step) => format!("{a}..={z} step {step}"),
        })
        .collect();
    let _ = writeln!(
        b,
        "<h1 class=\"{}\">{}</h1>",
        if s.failures > 0 { "fail" } else { "pass" },
        escape(&format!(
            "{title}: {} runs, {} failing, {} distinct failures",
            s.runs,
            s.failures,
            rows.len()
        ))
    );
    let _ = writeln!(
        b,
        "<p>{} {} (bug {}) · seeds {} · {:.2} s · {:.0} runs/s · {:.0} ticks/s · unknown verdicts {} · nondeterministic {}</p>",
        escape(&s.variant),
        escape(&s.profile),
        escape(&s.bug),
        escape(&ran.join(", ")),
        s.seconds,
        s.runs_per_second,
        s.ticks_per_second,
        s.unknown,
        s.nondeterministic
    );
    let by_property: Vec<(String, u64)> = s
        .failures_by_property
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    bars(&mut b, "Failing runs by property", "fail", &by_property);
    b.push_str("<h2>Distinct failures (lowest seed of each signature, shrunk)</h2>\n");
    if rows.is_empty() {
        b.push_str("<p>none</p>\n");
    } else {
        b.push_str("<table id=\"failures\">\n<tr><th>signature</th><th>property</th><th>seed</th><th>shrunk size</th><th>picture</th><th>reproduce</th></tr>\n");
        for r in rows {
            let picture = r.picture.as_ref().map_or_else(String::new, |p| {
                format!("<a href=\"{}\">picture</a>", escape(p))
            });
            let _ = writeln!(
                b,
                "<tr data-seed=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{} events, {} ops</td><td>{picture}</td><td><code>sim replay {}</code></td></tr>",
                r.seed,
                escape(&r.signature),
                escape(&r.property),
                r.seed,
                r.events,
                r.ops,
                escape(&r.file.display().to_string())
            );
        }
        b.push_str("</table>\n");
    }
    let o = &s.outcomes;
    b.push_str("<h2>Operation outcomes</h2>\n<table>\n");
    let max = o.ok.max(o.rejected).max(o.unknown).max(1);
    for (name, n) in [
        ("ok", o.ok),
        ("rejected", o.rejected),
        ("unknown", o.unknown),
    ] {
        let _ = writeln!(
            b,
            "<tr><td>{name}</td><td><span class=\"bar {name}\" style=\"width:{}px\"></span>{n}</td></tr>",
            (n * 300).div_ceil(max)
        );
    }
    b.push_str("</table>\n");
    let list = |m: &std::collections::BTreeMap<String, u64>| -> Vec<(String, u64)> {
        m.iter().map(|(k, v)| (k.clone(), *v)).collect()
    };
    bars(&mut b, "Faults fired", "fault", &list(&s.faults));
    bars(&mut b, "Coverage marks", "cov", &list(&s.coverage));
    b.push_str("</body>\n");
    page(title, STYLE, &b)
}

/// Draws every kept failing seed beside `report` and writes the campaign's page there.
pub fn write(
    s: &CampaignSummary,
    files: &[PathBuf],
    report: &Path,
    title: &str,
) -> Result<(), String> {
    let dir = report
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let rows = s
        .failing_seeds
        .iter()
        .zip(files)
        .map(|(entry, file)| draw_seed(file, &entry.signature, &entry.property, dir))
        .collect::<Result<Vec<_>, String>>()?;
    std::fs::write(report, render(s, &rows, title))
        .map_err(|e| format!("{}: cannot write: {e}", report.display()))
}
