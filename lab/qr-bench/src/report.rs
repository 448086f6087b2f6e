//! From the model to what people read, and nothing that runs anything: the tables (absolute,
//! relative to tier-0, engine against engine, fixed rate, cost per call), report.md,
//! results.json, chart.svg, calls.md and calls.json.

mod chart;
mod table;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use qr_core::Engine;
use qr_harness::{Host, Tier};
use serde::Serialize;

use self::table::{Table, num};
use crate::model::{CallRow, CallsResults, Configuration, CriterionRow, Results, Row};

/// Writes results.json, report.md and chart.svg into `out`.
pub fn write_results(results: &Results, out: &Path) -> Result<()> {
    create_dir(out)?;
    write_json(results, &out.join("results.json"))?;
    std::fs::write(out.join("report.md"), report_markdown(results))?;
    let title = format!(
        "rusty-qr: {} connections, {} s per configuration, {} CPUs",
        results.config.connections, results.config.duration_s, results.machine.cores
    );
    std::fs::write(
        out.join("chart.svg"),
        chart::render_svg(&results.rows, &title)?,
    )?;
    Ok(())
}

/// Writes calls.json and calls.md (the text [`calls_markdown`] returns) into `out`.
pub fn write_calls(results: &CallsResults, out: &Path) -> Result<()> {
    create_dir(out)?;
    write_json(results, &out.join("calls.json"))?;
    std::fs::write(out.join("calls.md"), calls_markdown(results))?;
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn write_json(value: &impl Serialize, path: &Path) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")?;
    Ok(())
}

/// report.md: machine, configuration and every table.
fn report_markdown(results: &Results) -> String {
    let m = &results.machine;
    let c = &results.config;
    let mut md = String::new();
    let _ = writeln!(md, "# rusty-qr benchmark, {}\n", c.started_utc);
    let _ = writeln!(
        md,
        "Machine: {} ({} CPUs), {} MB RAM, Linux {}; {}; node {}; {}.\n",
        m.cpu_model, m.cores, m.memory_mb, m.kernel, m.rustc, m.node, m.oha
    );
    let load = match c.rate {
        Some(r) => format!("open loop at {r} req/s (latency corrected)"),
        None => "closed loop".into(),
    };
    let _ = writeln!(
        md,
        "Load: {load}, {} connections, {} s warm-up + {} s measured, {} repeat(s); cluster \
         workers: {}; requests cycle through {} target texts. Memory is the peak of the summed \
         RSS / PSS of the server's whole process tree (sampled every {} ms); CPU is the tree's \
         user+system seconds in the measured window, reaped children included; the load \
         generator shares the machine and its CPU is shown in parentheses.\n",
        c.connections,
        c.warmup_s,
        c.duration_s,
        c.repeat,
        c.workers,
        c.targets.len(),
        c.monitor_interval_ms
    );
    let _ = writeln!(
        md,
        "Command: `{}`. oha's raw JSON for every run is in `raw/`.\n",
        c.command_line
    );
    if let Some(share) = c.latency_share {
        let _ = writeln!(
            md,
            "Fixed-rate runs at {:.0}% of each configuration's measured peak.\n",
            share * 100.0
        );
    }
    md.push_str(&tables_markdown(&results.rows, &results.core));
    md
}

/// Higher or lower is better.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Better {
    High,
    Low,
}

/// Index of the best valid value (`None` if no row is valid).
fn best(rows: &[Row], value: impl Fn(&Row) -> f64, better: Better) -> Option<usize> {
    let candidates = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.valid && !value(r).is_nan());
    match better {
        Better::High => candidates.max_by(|a, b| value(a.1).total_cmp(&value(b.1))),
        Better::Low => candidates.min_by(|a, b| value(a.1).total_cmp(&value(b.1))),
    }
    .map(|(i, _)| i)
}

fn mark(cell: String, is_best: bool) -> String {
    if is_best { format!("**{cell}**") } else { cell }
}

fn label_cells(r: &Row) -> [String; 3] {
    r.configuration.names().map(str::to_owned)
}

fn status(r: &Row) -> String {
    match (&r.error, r.valid) {
        (Some(_), _) => "ERROR".into(),
        (None, true) => "ok".into(),
        (None, false) => format!("INVALID ({} failed)", r.m.requests_failed),
    }
}

/// (a) The absolute table, in the article's shape; the best of each column in bold.
fn absolute_table(rows: &[Row]) -> Table {
    let mut t = Table::new(&[
        "tier",
        "mode",
        "engine",
        "req/s",
        "avg latency ms",
        "p99 latency ms",
        "avg response B",
        "RSS max MB",
        "PSS max MB",
        "CPU s (loadgen)",
        "CPU µs/req",
        "status",
    ]);
    type Col = (fn(&Row) -> f64, Better);
    let cols: [Col; 7] = [
        (|r| r.m.requests_per_sec, Better::High),
        (|r| r.m.latency_mean_ms, Better::Low),
        (|r| r.m.latency_p99_ms, Better::Low),
        (|r| r.m.response_bytes_mean, Better::Low),
        (|r| r.m.memory_rss_max_mb, Better::Low),
        (|r| r.m.memory_pss_max_mb, Better::Low),
        (|r| r.cpu_us_per_request, Better::Low),
    ];
    let bests: Vec<Option<usize>> = cols.iter().map(|(f, b)| best(rows, f, *b)).collect();
    for (i, r) in rows.iter().enumerate() {
        let m = |c: usize, s: String| mark(s, bests[c] == Some(i));
        let mut rps = num(r.m.requests_per_sec);
        if let Some([lo, hi]) = r.spread.as_ref().and_then(|s| s.get("requests_per_sec")) {
            rps = format!("{rps} [{}-{}]", num(*lo), num(*hi));
        }
        let [tier, mode, engine] = label_cells(r);
        t.rows.push(vec![
            tier,
            mode,
            engine,
            m(0, rps),
            m(1, num(r.m.latency_mean_ms)),
            m(2, num(r.m.latency_p99_ms)),
            m(3, num(r.m.response_bytes_mean)),
            m(4, num(r.m.memory_rss_max_mb)),
            m(5, num(r.m.memory_pss_max_mb)),
            format!(
                "{} ({})",
                num(r.m.cpu_seconds),
                num(r.m.loadgen_cpu_seconds)
            ),
            m(6, num(r.cpu_us_per_request)),
            status(r),
        ]);
    }
    t
}

/// The row `c`'s x-factors are relative to: its host's pure tier (py-tier-0 for the Python host,
/// else tier-0) in the same mode, else any row of that tier, else the first row.
fn baseline<'a>(rows: &'a [Row], c: &Configuration) -> Option<&'a Row> {
    let pure = if c.tier.host() == Host::Python {
        Tier::PyTier0
    } else {
        Tier::Tier0
    };
    let is_pure = |r: &&Row| r.configuration.tier == pure;
    rows.iter()
        .find(|r| is_pure(r) && r.configuration.mode == c.mode)
        .or_else(|| rows.iter().find(is_pure))
        .or_else(|| rows.first())
}

fn factor(v: f64, base: f64) -> String {
    let f = v / base;
    if f.is_finite() {
        format!("{f:.2}x")
    } else {
        "-".into()
    }
}

/// x-factors of `r` against `base`: req/s, avg and p99 latency, response size, RSS, PSS,
/// CPU per request.
fn factors(r: &Row, base: &Row) -> [String; 7] {
    [
        factor(r.m.requests_per_sec, base.m.requests_per_sec),
        factor(r.m.latency_mean_ms, base.m.latency_mean_ms),
        factor(r.m.latency_p99_ms, base.m.latency_p99_ms),
        factor(r.m.response_bytes_mean, base.m.response_bytes_mean),
        factor(r.m.memory_rss_max_mb, base.m.memory_rss_max_mb),
        factor(r.m.memory_pss_max_mb, base.m.memory_pss_max_mb),
        factor(r.cpu_us_per_request, base.cpu_us_per_request),
    ]
}

/// (b) The same relative to the host's pure tier, tier-0 or py-tier-0 (x-factors: throughput up
/// is better, the rest down).
fn relative_table(rows: &[Row]) -> Table {
    let mut t = Table::new(&[
        "tier",
        "mode",
        "engine",
        "req/s",
        "avg latency",
        "p99 latency",
        "avg response",
        "RSS max",
        "PSS max",
        "CPU/req",
        "vs",
    ]);
    for r in rows {
        let Some(b) = baseline(rows, &r.configuration) else {
            continue;
        };
        let [tier, mode, engine] = label_cells(r);
        t.rows.push(vec![tier, mode, engine]);
        let cells = t.rows.last_mut().expect("just pushed");
        cells.extend(factors(r, b));
        cells.push(format!("{} {}", b.configuration.tier, b.configuration.mode));
    }
    t
}

/// A table of [`factors`]: each row's `labels` cells, then its x-factors against its base row.
fn factor_table<'a>(
    labels: [&str; 4],
    pairs: impl Iterator<Item = ([String; 4], &'a Row, &'a Row)>,
) -> Option<Table> {
    let headers: Vec<&str> = labels
        .into_iter()
        .chain([
            "x req/s",
            "x avg latency",
            "x p99 latency",
            "x avg response",
            "x RSS max",
            "x PSS max",
            "x CPU/req",
        ])
        .collect();
    let mut t = Table::new(&headers);
    for (cells, r, base) in pairs {
        t.rows
            .push(cells.into_iter().chain(factors(r, base)).collect());
    }
    (!t.rows.is_empty()).then_some(t)
}

/// (c) Each engine against the `article` engine in the same tier and mode; `None` when no
/// tier ran with more than one Rust engine.
fn engine_table(rows: &[Row]) -> Option<Table> {
    let pairs = rows.iter().filter_map(|r| {
        let c = &r.configuration;
        if c.engine.is_none_or(|e| e == Engine::Article) {
            return None;
        }
        let a = rows.iter().find(|a| {
            let o = &a.configuration;
            o.tier == c.tier && o.mode == c.mode && o.engine == Some(Engine::Article)
        })?;
        let [tier, mode, engine] = label_cells(r);
        Some(([tier, mode, engine, num(r.m.requests_per_sec)], r, a))
    });
    factor_table(["tier", "mode", "engine", "req/s"], pairs)
}

/// (f) Each variant against the article's tier it improves on, same engine; in the same mode
/// if that ran, else in the faster one (tier-3-async is one process against tier-3's cluster).
fn variant_table(rows: &[Row]) -> Option<Table> {
    let pairs = rows.iter().filter_map(|r| {
        let c = &r.configuration;
        let base = counterpart(rows, r, c.tier.variant_of()?, c.engine)?;
        let [tier, mode, engine] = label_cells(r);
        let against = format!("{} {}", base.configuration.tier, base.configuration.mode);
        Some(([tier, mode, engine, against], r, base))
    });
    factor_table(["variant", "mode", "engine", "against"], pairs)
}

/// (d) Fixed-rate latency percentiles; `None` without `--rate` or `--latency`.
fn fixed_rate_table(rows: &[Row]) -> Option<Table> {
    let mut t = Table::new(&[
        "tier",
        "mode",
        "engine",
        "target req/s",
        "achieved req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "failed",
    ]);
    for r in rows {
        let Some(f) = &r.fixed_rate else { continue };
        let [tier, mode, engine] = label_cells(r);
        t.rows.push(vec![
            tier,
            mode,
            engine,
            num(f.target_rps),
            num(f.achieved_rps),
            num(f.latency_p50_ms),
            num(f.latency_p90_ms),
            num(f.latency_p99_ms),
            num(f.latency_p99_9_ms),
            f.requests_failed.to_string(),
        ]);
    }
    (!t.rows.is_empty()).then_some(t)
}

/// The row of `tier` with `engine` that `r` is compared with: in `r`'s mode if that ran, else the
/// fastest; rows that failed are never used.
fn counterpart<'a>(
    rows: &'a [Row],
    r: &Row,
    tier: Tier,
    engine: Option<Engine>,
) -> Option<&'a Row> {
    let candidates = || {
        rows.iter().filter(move |o| {
            o.configuration.tier == tier && o.configuration.engine == engine && o.error.is_none()
        })
    };
    candidates()
        .find(|o| o.configuration.mode == r.configuration.mode)
        .or_else(|| {
            candidates().max_by(|a, b| a.m.requests_per_sec.total_cmp(&b.m.requests_per_sec))
        })
}

/// The ceiling `r` is measured against: its host's ceiling with the same engine (tier-0, pure
/// JS, against `article`, the nearer in PNG size).
pub(crate) fn ceiling_of<'a>(rows: &'a [Row], r: &Row) -> Option<&'a Row> {
    let c = &r.configuration;
    counterpart(
        rows,
        r,
        c.tier.ceiling(),
        Some(c.engine.unwrap_or(Engine::Article)),
    )
}

/// Where one request's server CPU goes, in µs: the host (its ceiling's CPU per request), the
/// core (timed per call in-process; tier-0's JS encoder is all that is left) and the boundary
/// (the rest: crossing into Rust, copies, processes, pipes; none for tier-0).
fn split(r: &Row, ceiling: &Row, core: &[CallRow]) -> (f64, f64, f64) {
    let total = r.cpu_us_per_request;
    let host = ceiling.cpu_us_per_request.min(total);
    let Some(engine) = r.configuration.engine else {
        return (host, total - host, f64::NAN);
    };
    let core_us = core
        .iter()
        .find(|c| c.engine == engine.name())
        .map_or(f64::NAN, |c| c.median_us.min(total - host));
    (host, core_us, total - host - core_us)
}

fn percent(part: f64, whole: f64) -> String {
    let p = 100.0 * part / whole;
    if p.is_finite() {
        format!("{p:.0}%")
    } else {
        "-".into()
    }
}

/// (e) Each row against its host's ceiling: the share of the ceiling's req/s it reaches, and
/// where its CPU per request goes. `None` when no ceiling ran.
fn ceiling_table(rows: &[Row], core: &[CallRow]) -> Option<Table> {
    let mut t = Table::new(&[
        "tier",
        "mode",
        "engine",
        "req/s",
        "ceiling req/s",
        "share of ceiling",
        "CPU µs/req",
        "host µs",
        "core µs",
        "boundary µs",
        "host / core / boundary",
    ]);
    for r in rows.iter().filter(|r| !r.configuration.tier.is_ceiling()) {
        let Some(ceiling) = ceiling_of(rows, r) else {
            continue;
        };
        let (host, core_us, boundary) = split(r, ceiling, core);
        let total = r.cpu_us_per_request;
        let [tier, mode, engine] = label_cells(r);
        t.rows.push(vec![
            tier,
            mode,
            engine,
            num(r.m.requests_per_sec),
            format!(
                "{} ({})",
                num(ceiling.m.requests_per_sec),
                ceiling.configuration.mode
            ),
            percent(r.m.requests_per_sec, ceiling.m.requests_per_sec),
            num(total),
            num(host),
            num(core_us),
            num(boundary),
            format!(
                "{} / {} / {}",
                percent(host, total),
                percent(core_us, total),
                percent(boundary, total)
            ),
        ]);
    }
    (!t.rows.is_empty()).then_some(t)
}

/// (g) What the peak PSS is made of: the anonymous part (heaps, stacks) and the rest, mostly
/// file-backed pages (the host's executable and libraries, counted once for the whole tree).
fn memory_table(rows: &[Row]) -> Table {
    let mut t = Table::new(&[
        "tier",
        "mode",
        "engine",
        "processes",
        "PSS max MB",
        "anonymous MB",
        "file-backed MB",
    ]);
    for r in rows.iter().filter(|r| r.error.is_none()) {
        let [tier, mode, engine] = label_cells(r);
        t.rows.push(vec![
            tier,
            mode,
            engine,
            r.processes_max.to_string(),
            num(r.m.memory_pss_max_mb),
            num(r.m.memory_pss_anon_mb),
            num(r.m.memory_pss_max_mb - r.m.memory_pss_anon_mb),
        ]);
    }
    t
}

/// Every table of a run, as Markdown with headings.
pub fn tables_markdown(rows: &[Row], core: &[CallRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Absolute (median of repeats; best of each column in bold)\n\n{}",
        absolute_table(rows).to_markdown()
    );
    let _ = writeln!(
        out,
        "### Relative to tier-0 (x-factors)\n\n{}",
        relative_table(rows).to_markdown()
    );
    if let Some(t) = variant_table(rows) {
        let _ = writeln!(
            out,
            "### What each variant buys over the article's tier (x-factors)\n\n{}",
            t.to_markdown()
        );
    }
    if let Some(t) = ceiling_table(rows, core) {
        let _ = writeln!(
            out,
            "### Share of the host's ceiling, and where each request's CPU goes\n\n\
             A ceiling serves one precomputed PNG of the same size for every request: the most \
             its host (express, axum, or Flask on gunicorn) serves here when the QR work is \
             free. Host µs is the ceiling's CPU per request; core µs is `qr_core::png` per call, \
             timed in-process in this run (tier-0 and py-tier-0: their own encoder, all that is \
             left); the boundary is the rest: getting to Rust and back (processes, pipes, Wasm \
             copies, napi, PyO3, nginx).\n\n{}",
            t.to_markdown()
        );
    }
    let _ = writeln!(
        out,
        "### What the peak PSS is made of\n\n\
         At the sample with the most PSS: the anonymous part (heaps, stacks) and the rest, mostly \
         file-backed pages (the host's executable and libraries, counted once however many \
         processes map them). Medians of repeats.\n\n{}",
        memory_table(rows).to_markdown()
    );
    if let Some(t) = engine_table(rows) {
        let _ = writeln!(
            out,
            "### Engines against `article` (same tier and mode)\n\n{}",
            t.to_markdown()
        );
    }
    if let Some(t) = fixed_rate_table(rows) {
        let _ = writeln!(
            out,
            "### Fixed rate, open loop (latency corrected for coordinated omission)\n\n{}",
            t.to_markdown()
        );
    }
    for r in rows {
        if let Some(error) = &r.error {
            let _ = writeln!(out, "- {}: {error}", r.configuration);
        }
    }
    out
}

/// The per-call table; `x core` is each row's median against the core's for its engine.
fn calls_table(rows: &[CallRow]) -> Table {
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
fn criterion_table(rows: &[CriterionRow]) -> Table {
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

/// calls.md, as printed: the per-call table, and criterion's estimates when there are any.
pub fn calls_markdown(results: &CallsResults) -> String {
    let mut text = format!(
        "### Cost per call, in-process, single caller\n\n{}",
        calls_table(&results.rows).to_markdown()
    );
    if !results.criterion.is_empty() {
        let _ = write!(
            text,
            "\n### criterion estimates left in {} by `cargo bench -p qr-core --features internals` (per iteration, as each bench defines it)\n\n{}",
            results.criterion_dir,
            criterion_table(&results.criterion).to_markdown()
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{cluster, sample};
    use qr_harness::Mode;

    fn rows() -> Vec<Row> {
        vec![
            Row::aggregate(cluster(Tier::Tier0, None), &[sample(100.0, 10, 0)]),
            Row::aggregate(
                cluster(Tier::Tier4, Some(Engine::Article)),
                &[sample(400.0, 40, 0)],
            ),
            Row::aggregate(
                cluster(Tier::Tier4, Some(Engine::Fast)),
                &[sample(4000.0, 40, 1)],
            ),
        ]
    }

    #[test]
    fn tables_mark_the_best_and_compute_factors() {
        let rows = rows();
        let abs = absolute_table(&rows);
        assert_eq!(abs.rows[0][..3], ["tier-0", "cluster", "js"]);
        // The invalid fast row has the highest req/s but is not marked best.
        assert_eq!(abs.rows[1][3], "**400**");
        assert_eq!(abs.rows[2][3], "4000");
        assert!(abs.rows[2][11].starts_with("INVALID"));
        let rel = relative_table(&rows);
        assert_eq!(rel.rows[0][3], "1.00x");
        assert_eq!(rel.rows[1][3], "4.00x");
        assert_eq!(rel.rows[1][4], "0.25x");
        assert_eq!(rel.rows[1][10], "tier-0 cluster");
        let eng = engine_table(&rows).unwrap();
        assert_eq!(eng.rows.len(), 1);
        assert_eq!(eng.rows[0][2], "fast");
        assert_eq!(eng.rows[0][4], "10.00x");
        assert!(fixed_rate_table(&rows).is_none());
        // sample(): 60 MB of PSS at its peak, 20 of them anonymous.
        let mem = memory_table(&rows);
        assert_eq!(mem.rows.len(), 3);
        assert_eq!(mem.rows[1][3..], ["3", "60.0", "20.0", "40.0"]);
    }

    #[test]
    fn rows_are_put_against_their_hosts_ceiling_with_the_same_engine() {
        let single = |tier, engine| Configuration::new(tier, Mode::Single, Some(engine), None);
        let mut rows = rows();
        rows.extend([
            // CPU per request: 2 s over the requests served.
            Row::aggregate(
                single(Tier::RustCeiling, Engine::Fast),
                &[sample(8000.0, 100, 0)],
            ),
            Row::aggregate(
                single(Tier::RustCeiling, Engine::Article),
                &[sample(9000.0, 100, 0)],
            ),
            Row::aggregate(
                cluster(Tier::NodeCeiling, Some(Engine::Article)),
                &[sample(200.0, 50, 0)],
            ),
        ]);
        let core = [CallRow {
            median_us: 10_000.0,
            error: None,
            ..CallRow::failed("core", "fast", "test", String::new())
        }];
        let t = ceiling_table(&rows, &core).unwrap();
        assert_eq!(t.rows.len(), 3, "ceilings get no row of their own");
        // tier-0 (JS) against the Node ceiling with the article engine; its encoder is the rest.
        assert_eq!(
            t.rows[0][4..],
            [
                "200 (cluster)",
                "50%",
                "200000",
                "40000",
                "160000",
                "-",
                "20% / 80% / -"
            ]
        );
        // tier-4 fast against the fast ceiling, in single mode though the row ran in cluster.
        assert_eq!(
            t.rows[2][4..],
            [
                "8000 (single)",
                "50%",
                "50000",
                "20000",
                "10000",
                "20000",
                "40% / 20% / 40%"
            ]
        );
        // No core timing for article: the split says so rather than guessing.
        assert_eq!(t.rows[1][8], "-");
        assert!(ceiling_table(&rows[..3], &core).is_none());
    }

    #[test]
    fn variants_are_put_against_the_tier_they_improve() {
        let single = |tier, engine| Configuration::new(tier, Mode::Single, Some(engine), None);
        let mut rows = rows();
        rows.extend([
            Row::aggregate(
                single(Tier::Tier4Nginx, Engine::Article),
                &[sample(200.0, 10, 0)],
            ),
            Row::aggregate(
                single(Tier::Tier3Async, Engine::Fast),
                &[sample(90.0, 10, 0)],
            ),
        ]);
        let t = variant_table(&rows).unwrap();
        assert_eq!(
            t.rows.len(),
            1,
            "tier-3-async has no tier-3 to compare with"
        );
        assert_eq!(
            t.rows[0][..5],
            [
                "tier-4-nginx",
                "single",
                "article",
                "tier-4 cluster",
                "0.50x"
            ]
        );
        assert!(variant_table(&rows[..3]).is_none());
    }

    #[test]
    fn failed_rows_are_listed_under_the_tables() {
        let mut rows = rows();
        rows.push(Row::failed(
            cluster(Tier::Tier1, Some(Engine::Fast)),
            "oha failed".into(),
        ));
        let md = tables_markdown(&rows, &[]);
        assert!(
            md.ends_with("\n- tier-1 cluster fast: oha failed\n"),
            "{md}"
        );
        assert!(md.contains("| tier-1 | cluster | fast    |"), "{md}");
    }

    #[test]
    fn calls_tables_compare_with_the_core_and_show_errors() {
        let call = |tier: &str, engine: &str, median_us: f64| CallRow {
            median_us,
            error: None,
            ..CallRow::failed(tier, engine, "test", String::new())
        };
        let mut results = CallsResults {
            machine: crate::model::Machine {
                cpu_model: "cpu".into(),
                cores: 2,
                memory_mb: 1,
                kernel: "6".into(),
                rustc: "rustc".into(),
                node: "v20".into(),
                oha: "not used".into(),
                qr_bench_release: true,
            },
            rounds: 1,
            targets: vec!["hello".into()],
            rows: vec![
                call("core", "fast", 10.0),
                call("tier-3", "fast", 25.0),
                CallRow::failed("node", "-", "", "node failed".into()),
            ],
            criterion: Vec::new(),
            criterion_dir: "out/criterion".into(),
        };
        let t = calls_table(&results.rows);
        assert_eq!(t.rows[1][8], "2.5x");
        assert_eq!(t.rows[2][2], "ERROR: node failed");
        assert!(!calls_markdown(&results).contains("criterion"));
        results.criterion.push(CriterionRow {
            id: "png/fast".into(),
            median_us: 9.0,
            mean_us: 9.5,
            age_s: 120,
        });
        let md = calls_markdown(&results);
        assert!(
            md.contains("### criterion estimates left in out/criterion by"),
            "{md}"
        );
        assert!(md.contains("| png/fast  |"), "{md}");
    }
}
