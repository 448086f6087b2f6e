//! `--calls`: the cost of each boundary per call, measured in-process: the Rust core timed
//! here, every Node tier module timed by node/bench/calls.js, and criterion's estimates for
//! qr-core when `cargo bench -p qr-core` has left them in target/criterion.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_core::{Engine, Options};
use qr_harness::Tier;
use serde::{Deserialize, Serialize};

use crate::machine::Machine;
use crate::report::{Table, num};
use crate::stats::median;

/// Each tier and engine is timed at most this long (after its warm-up).
pub const BUDGET: Duration = Duration::from_secs(3);

/// One tier and engine's per-call cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRow {
    /// "core" for the Rust function called directly, else the Node tier module.
    pub tier: String,
    pub engine: String,
    #[serde(default)]
    pub calls: u64,
    #[serde(default = "nan")]
    pub median_us: f64,
    #[serde(default = "nan")]
    pub mean_us: f64,
    #[serde(default = "nan")]
    pub p90_us: f64,
    #[serde(default = "nan")]
    pub png_bytes_mean: f64,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn nan() -> f64 {
    f64::NAN
}

/// A criterion estimate found under target/criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionRow {
    /// The benchmark id (its directory under target/criterion).
    pub id: String,
    pub median_us: f64,
    pub mean_us: f64,
    /// How old the estimate is, in seconds (criterion keeps the last run's).
    pub age_s: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallsResults {
    pub machine: Machine,
    pub rounds: u32,
    pub targets: Vec<String>,
    pub rows: Vec<CallRow>,
    pub criterion: Vec<CriterionRow>,
}

/// Times `qr_core::png` per call, single thread: warm-up, then rounds over the targets
/// until `rounds` or [`BUDGET`] is reached.
pub fn time_core(engine: Engine, targets: &[String], rounds: u32) -> Result<CallRow> {
    let options = Options::with_engine(engine);
    for t in targets.iter().cycle().take(20) {
        qr_core::png(t, &options)?;
    }
    let mut times = Vec::new();
    let mut bytes = 0usize;
    let deadline = Instant::now() + BUDGET;
    for _ in 0..rounds {
        for t in targets {
            let start = Instant::now();
            let png = qr_core::png(std::hint::black_box(t), &options)?;
            times.push(start.elapsed().as_secs_f64() * 1e6);
            bytes += png.len();
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(CallRow {
        tier: "core".into(),
        engine: engine.to_string(),
        calls: times.len() as u64,
        median_us: median(&times),
        mean_us: times.iter().sum::<f64>() / times.len() as f64,
        p90_us: sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)],
        png_bytes_mean: bytes as f64 / times.len() as f64,
        source: if cfg!(debug_assertions) {
            "qr-bench in-process (DEBUG build: not representative)".into()
        } else {
            "qr-bench in-process".into()
        },
        error: None,
    })
}

#[derive(Deserialize)]
struct NodeCalls {
    rows: Vec<CallRow>,
}

/// Runs node/bench/calls.js over the Node `tiers` and returns its rows.
pub fn node_calls(
    root: &Path,
    tiers: &[Tier],
    engines: &[Engine],
    rounds: u32,
) -> Result<Vec<CallRow>> {
    let names: Vec<String> = engines.iter().map(ToString::to_string).collect();
    let tiers: Vec<&str> = tiers
        .iter()
        .filter(|t| t.is_node())
        .map(|t| t.name())
        .collect();
    if tiers.is_empty() {
        return Ok(Vec::new());
    }
    let out = Command::new("node")
        .arg("node/bench/calls.js")
        .args(["--tiers", &tiers.join(",")])
        .args(["--engines", &names.join(",")])
        .args(["--rounds", &rounds.to_string()])
        .args(["--budget-ms", &BUDGET.as_millis().to_string()])
        .current_dir(root)
        .env("RUSTY_QR_CLI", qr_harness::paths::qr_cli())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running node node/bench/calls.js")?;
    if !out.status.success() {
        bail!("node/bench/calls.js failed ({})", out.status);
    }
    let parsed: NodeCalls =
        serde_json::from_slice(&out.stdout).context("parsing calls.js output")?;
    Ok(parsed
        .rows
        .into_iter()
        .map(|mut r| {
            r.source = "node in-process (calls.js)".into();
            r
        })
        .collect())
}

/// Every `*/new/estimates.json` under `dir` (criterion's layout), medians and means in µs.
pub fn criterion_estimates(dir: &Path) -> Vec<CriterionRow> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") && p.join("estimates.json").is_file() {
                    found.push(p.join("estimates.json"));
                } else if p.file_name().is_some_and(|n| n != "report") {
                    walk(&p, found);
                }
            }
        }
    }
    #[derive(Deserialize)]
    struct Estimate {
        point_estimate: f64,
    }
    #[derive(Deserialize)]
    struct Estimates {
        mean: Estimate,
        median: Estimate,
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut rows: Vec<CriterionRow> = files
        .iter()
        .filter_map(|f| {
            let est: Estimates = serde_json::from_str(&std::fs::read_to_string(f).ok()?).ok()?;
            let id = f.parent()?.parent()?.strip_prefix(dir).ok()?;
            let age_s = std::fs::metadata(f)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .map_or(0, |d| d.as_secs());
            Some(CriterionRow {
                id: id.to_string_lossy().into_owned(),
                median_us: est.median.point_estimate / 1e3,
                mean_us: est.mean.point_estimate / 1e3,
                age_s,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows
}

/// The per-call table; `x core` is each row's median against the core's for its engine.
pub fn calls_table(rows: &[CallRow]) -> Table {
    let mut t = Table::new(&[
        "tier",
        "engine",
        "source",
        "median µs/call",
        "mean µs",
        "p90 µs",
        "calls",
        "mean PNG B",
        "x core (same engine)",
    ]);
    for r in rows {
        let core = rows
            .iter()
            .find(|c| c.tier == "core" && c.engine == r.engine)
            .or_else(|| {
                rows.iter()
                    .find(|c| c.tier == "core" && c.engine == "article")
            });
        let x = core
            .map(|c| r.median_us / c.median_us)
            .filter(|x| x.is_finite())
            .map_or("-".into(), |x| format!("{x:.1}x"));
        t.rows.push(vec![
            r.tier.clone(),
            r.engine.clone(),
            r.error
                .as_ref()
                .map_or(r.source.clone(), |e| format!("ERROR: {e}")),
            num(r.median_us),
            num(r.mean_us),
            num(r.p90_us),
            r.calls.to_string(),
            num(r.png_bytes_mean),
            x,
        ]);
    }
    t
}

/// The criterion table.
pub fn criterion_table(rows: &[CriterionRow]) -> Table {
    let mut t = Table::new(&["benchmark", "median µs/iter", "mean µs/iter", "age"]);
    t.label_columns = 1;
    for r in rows {
        t.rows.push(vec![
            r.id.clone(),
            num(r.median_us),
            num(r.mean_us),
            format!("{} min", r.age_s / 60),
        ]);
    }
    t
}

/// Runs `--calls`: the core per engine, then the Node tiers among `tiers` (tier-4 is a whole
/// server, not a call boundary), then criterion's estimates.
pub fn run_calls(
    root: &Path,
    tiers: &[Tier],
    engines: &[Engine],
    targets: Vec<String>,
    rounds: u32,
) -> CallsResults {
    let mut rows = Vec::new();
    for &engine in engines {
        rows.push(
            time_core(engine, &targets, rounds).unwrap_or_else(|e| CallRow {
                tier: "core".into(),
                engine: engine.to_string(),
                calls: 0,
                median_us: f64::NAN,
                mean_us: f64::NAN,
                p90_us: f64::NAN,
                png_bytes_mean: f64::NAN,
                source: "qr-bench in-process".into(),
                error: Some(e.to_string()),
            }),
        );
    }
    match node_calls(root, tiers, engines, rounds) {
        Ok(node_rows) => rows.extend(node_rows),
        Err(e) => rows.push(CallRow {
            tier: "node".into(),
            engine: "-".into(),
            calls: 0,
            median_us: f64::NAN,
            mean_us: f64::NAN,
            p90_us: f64::NAN,
            png_bytes_mean: f64::NAN,
            source: String::new(),
            error: Some(format!("{e:#}")),
        }),
    }
    CallsResults {
        machine: Machine::detect(None),
        rounds,
        targets,
        rows,
        criterion: criterion_estimates(&root.join("target/criterion")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Vec<String> {
        vec!["https://tourofrust.com".into(), "hello".into()]
    }

    #[test]
    fn core_timing_reports_pngs() {
        let r = time_core(Engine::Article, &targets(), 2).unwrap();
        assert_eq!(r.calls, 4);
        assert!(r.median_us > 0.0 && r.png_bytes_mean > 100.0, "{r:?}");
    }

    #[test]
    fn reads_criterion_estimates() {
        let dir = std::env::temp_dir().join(format!("qr-bench-crit-{}", std::process::id()));
        let new = dir.join("png/article/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::create_dir_all(dir.join("report")).unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"mean":{"point_estimate":812000.0,"standard_error":1.0},
               "median":{"point_estimate":800000.0,"standard_error":1.0}}"#,
        )
        .unwrap();
        let rows = criterion_estimates(&dir);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, "png/article");
        assert_eq!((rows[0].median_us, rows[0].mean_us), (800.0, 812.0));
    }

    #[test]
    fn node_rows_parse_with_and_without_errors() {
        let json = r#"{"node":"v20","targets":10,"rows":[
            {"tier":"tier-0","engine":"js","calls":100,"median_us":900.5,"mean_us":950,
             "p90_us":1000,"png_bytes_mean":1506},
            {"tier":"tier-3","engine":"article","error":"Cannot find module"}]}"#;
        let parsed: NodeCalls = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.rows[0].median_us, 900.5);
        assert!(parsed.rows[1].median_us.is_nan());
        let t = calls_table(&parsed.rows);
        assert!(t.rows[1][2].starts_with("ERROR"));
    }
}
