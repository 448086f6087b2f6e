//! `--calls`: runs the per-call timers and collects their rows, each tier and engine timed over
//! every workload's requests (without options, and with the options workload's option sets). The
//! Rust core is timed here, in-process; every Node tier module by
//! lab/qr-bench/call-timers/time-node-tiers.js and every Python one by
//! lab/qr-bench/call-timers/time_python_tiers.py, each in its own host's process, which parses
//! the same queries with its host's own parser; and criterion's estimates for qr-core are read
//! when `cargo bench -p qr-core --features internals` has left them in cargo's target directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_core::Engine;
use qr_harness::{Host, Tier, paths};
use serde::Deserialize;

use super::machine;
use crate::model::{CallRow, CallsResults, CriterionRow, Workload};
use crate::stats::median;

/// Each tier and engine is timed at most this long (after its warm-up).
const BUDGET: Duration = Duration::from_secs(3);

/// What `time_core` rows say they are.
const CORE_SOURCE: &str = "qr-bench in-process";

/// Times `qr_core::generate` per call, single thread, over `workload`'s requests: a warm-up
/// (one round, at least 20 calls), then rounds until `rounds` or [`BUDGET`] is reached.
fn time_core(
    engine: Engine,
    workload: Workload,
    targets: &[String],
    rounds: u32,
) -> Result<CallRow> {
    let calls = workload.calls(targets, engine)?;
    for (text, options) in calls.iter().cycle().take(calls.len().max(20)) {
        qr_core::generate(text, options)?;
    }
    let mut times = Vec::new();
    let mut bytes = 0usize;
    let deadline = Instant::now() + BUDGET;
    for _ in 0..rounds {
        for (text, options) in &calls {
            let start = Instant::now();
            let image =
                qr_core::generate(std::hint::black_box(text), std::hint::black_box(options))?;
            times.push(start.elapsed().as_secs_f64() * 1e6);
            bytes += image.len();
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
        workload: workload.to_string(),
        calls: times.len() as u64,
        median_us: median(&times),
        mean_us: times.iter().sum::<f64>() / times.len() as f64,
        p90_us: sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)],
        image_bytes_mean: bytes as f64 / times.len() as f64,
        source: if cfg!(debug_assertions) {
            format!("{CORE_SOURCE} (DEBUG build: not representative)")
        } else {
            CORE_SOURCE.into()
        },
        error: None,
    })
}

/// What a host's call timer prints on stdout; qr-bench reads only the rows.
#[derive(Deserialize)]
struct HostTimerOutput {
    rows: Vec<CallRow>,
}

/// Runs the `host`'s call timer (in lab/qr-bench/call-timers/) over its `tiers`, with every
/// workload's queries, and returns its rows.
fn run_host_timer(
    host: Host,
    tiers: &[Tier],
    engines: &[Engine],
    targets: &[String],
    rounds: u32,
) -> Result<Vec<CallRow>> {
    let names: Vec<String> = engines.iter().map(ToString::to_string).collect();
    let tiers: Vec<&str> = tiers
        .iter()
        .filter(|t| t.host() == host && !t.is_ceiling())
        .map(|t| t.name())
        .collect();
    if tiers.is_empty() {
        return Ok(Vec::new());
    }
    let (mut command, script) = match host {
        Host::Node => (
            Command::new("node"),
            "lab/qr-bench/call-timers/time-node-tiers.js",
        ),
        Host::Python => (
            Command::new(paths::venv().join("bin/python")),
            "lab/qr-bench/call-timers/time_python_tiers.py",
        ),
        Host::Rust => bail!("the Rust host's tiers are whole servers, not call boundaries"),
    };
    let mut child = command
        .arg(script)
        .args(["--tiers", &tiers.join(",")])
        .args(["--engines", &names.join(",")])
        .args(["--rounds", &rounds.to_string()])
        .args(["--budget-ms", &BUDGET.as_millis().to_string()])
        .current_dir(paths::repo_root())
        .env("RUSTY_QR_CLI", paths::qr_cli())
        .env("PYTHONPATH", paths::python_host())
        .env("RUSTY_QR_WASM", paths::node_build().join("qr_wasm.wasm"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("running {script}"))?;
    // Each workload's queries, as JSON on its stdin: the timers parse them with their host's own
    // parser and time exactly the calls the core rows time.
    let queries: BTreeMap<&str, Vec<String>> = Workload::ALL
        .iter()
        .map(|w| (w.name(), w.queries(targets)))
        .collect();
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(&serde_json::to_vec(&queries)?)?;
    drop(stdin);
    let out = child
        .wait_with_output()
        .with_context(|| format!("running {script}"))?;
    if !out.status.success() {
        bail!("{script} failed ({})", out.status);
    }
    let parsed: HostTimerOutput = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("parsing {script}'s output"))?;
    let source = format!("{} in-process ({script})", host.name());
    Ok(parsed
        .rows
        .into_iter()
        .map(|mut r| {
            r.source = source.clone();
            r
        })
        .collect())
}

/// Every `*/new/estimates.json` under `dir` (criterion's layout), medians and means in µs.
fn criterion_estimates(dir: &Path) -> Vec<CriterionRow> {
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

/// The core's row for each engine and workload (a failure becomes a row with its error).
pub fn core_calls(
    engines: &[Engine],
    workloads: &[Workload],
    targets: &[String],
    rounds: u32,
) -> Vec<CallRow> {
    let mut rows = Vec::new();
    for &engine in engines {
        for &workload in workloads {
            rows.push(
                time_core(engine, workload, targets, rounds).unwrap_or_else(|e| {
                    CallRow::failed(
                        "core",
                        engine.name(),
                        workload.name(),
                        CORE_SOURCE,
                        e.to_string(),
                    )
                }),
            );
        }
    }
    rows
}

/// Runs `--calls`: the core per engine and workload, then the Node and Python tiers among `tiers`
/// (tier-4 is a whole server, not a call boundary), then criterion's estimates in
/// `<target>/criterion`.
pub fn run_calls(
    tiers: &[Tier],
    engines: &[Engine],
    targets: Vec<String>,
    rounds: u32,
) -> CallsResults {
    let mut rows = core_calls(engines, &Workload::ALL, &targets, rounds);
    for host in [Host::Node, Host::Python] {
        match run_host_timer(host, tiers, engines, &targets, rounds) {
            Ok(host_rows) => rows.extend(host_rows),
            Err(e) => rows.push(CallRow::failed(host.name(), "-", "-", "", format!("{e:#}"))),
        }
    }
    let criterion_dir = paths::target_dir().join("criterion");
    CallsResults {
        machine: machine::detect(None),
        rounds,
        targets,
        option_sets: Workload::Options.option_set_labels(),
        rows,
        criterion: criterion_estimates(&criterion_dir),
        criterion_dir: paths::shown(&criterion_dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Vec<String> {
        vec!["https://tourofrust.com".into(), "hello".into()]
    }

    #[test]
    fn core_timing_reports_images_for_each_workload() {
        let r = time_core(Engine::Article, Workload::Default, &targets(), 2).unwrap();
        assert_eq!((r.calls, r.workload.as_str()), (4, "default"));
        assert!(r.median_us > 0.0 && r.image_bytes_mean > 100.0, "{r:?}");
        let o = time_core(Engine::Fast, Workload::Options, &targets(), 1).unwrap();
        assert_eq!((o.calls, o.workload.as_str()), (12, "options"));
        // SVGs and 300-pixel images among them: more bytes than the default's PNGs.
        let d = time_core(Engine::Fast, Workload::Default, &targets(), 1).unwrap();
        assert!(o.image_bytes_mean > d.image_bytes_mean, "{o:?} {d:?}");
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
        let json = r#"{"node":"v20","requests":{"default":10},"rows":[
            {"tier":"tier-0","engine":"js","workload":"options","calls":100,"median_us":900.5,
             "mean_us":950,"p90_us":1000,"image_bytes_mean":1506},
            {"tier":"tier-3","engine":"article","workload":"default","error":"Cannot find module"}]}"#;
        let parsed: HostTimerOutput = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.rows[0].median_us, 900.5);
        assert_eq!(parsed.rows[0].workload, "options");
        assert!(parsed.rows[1].median_us.is_nan());
        assert_eq!(parsed.rows[1].error.as_deref(), Some("Cannot find module"));
    }
}
