//! The results: rows, tables (absolute, relative to tier-0, engine against engine, fixed
//! rate), results.json and report.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::stats::{median, spread};

/// A fixed-rate (open-loop) run's latency percentiles, free of coordinated omission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedRate {
    pub target_rps: f64,
    pub achieved_rps: f64,
    pub latency_p50_ms: f64,
    pub latency_p90_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_p99_9_ms: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
}

/// The measured columns of a row, or of one repeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Measured {
    /// 200 responses per second.
    pub requests_per_sec: f64,
    pub latency_mean_ms: f64,
    pub latency_p99_ms: f64,
    pub response_bytes_mean: f64,
    pub memory_rss_max_mb: f64,
    pub memory_pss_max_mb: f64,
    /// CPU seconds of the server's whole process tree during the measured window.
    pub cpu_seconds: f64,
    /// CPU seconds of the load generator (oha) during the measured window.
    pub loadgen_cpu_seconds: f64,
    /// CPU seconds of the server tree over its whole life (start, warm-up, measured window,
    /// stop), from the kernel's accounting when the bench reaps it: an upper bound that
    /// cross-checks `cpu_seconds`.
    pub server_life_cpu_seconds: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
}

type Column = (&'static str, fn(&Measured) -> f64);

impl Measured {
    /// The columns medians and spreads are taken of, by their JSON names.
    pub const COLUMNS: [Column; 9] = [
        ("requests_per_sec", |m| m.requests_per_sec),
        ("latency_mean_ms", |m| m.latency_mean_ms),
        ("latency_p99_ms", |m| m.latency_p99_ms),
        ("response_bytes_mean", |m| m.response_bytes_mean),
        ("memory_rss_max_mb", |m| m.memory_rss_max_mb),
        ("memory_pss_max_mb", |m| m.memory_pss_max_mb),
        ("cpu_seconds", |m| m.cpu_seconds),
        ("loadgen_cpu_seconds", |m| m.loadgen_cpu_seconds),
        ("server_life_cpu_seconds", |m| m.server_life_cpu_seconds),
    ];

    /// Something was served and nothing failed.
    pub fn valid(&self) -> bool {
        self.requests_ok > 0 && self.requests_failed == 0
    }

    /// Server-tree CPU per 200 response, µs.
    pub fn cpu_us_per_request(&self) -> f64 {
        if self.requests_ok > 0 {
            self.cpu_seconds * 1e6 / self.requests_ok as f64
        } else {
            f64::NAN
        }
    }
}

/// One server configuration's measurement (the median over repeats).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub tier: String,
    pub mode: String,
    pub engine: String,
    /// Medians over repeats; counts summed over repeats.
    #[serde(flatten)]
    pub m: Measured,
    /// No failed request and no non-200 in any repeat, and the run completed.
    pub valid: bool,
    /// Server-tree CPU per 200 response, µs.
    pub cpu_us_per_request: f64,
    /// Most processes seen in the server's tree at once.
    pub processes_max: usize,
    /// Cluster workers, when the server is a Node cluster.
    pub workers: Option<usize>,
    /// Every repeat's server exited 0 on SIGTERM.
    pub server_exit_ok: bool,
    pub repeats: usize,
    /// `[min, max]` per measured column, present with repeats > 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<BTreeMap<String, [f64; 2]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_rate: Option<FixedRate>,
    /// Why the row could not be measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One repeat of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSample {
    pub m: Measured,
    pub processes_max: usize,
    pub server_exit_ok: bool,
    pub fixed_rate: Option<FixedRate>,
}

/// Which configuration a row describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub tier: String,
    pub mode: String,
    pub engine: String,
    pub workers: Option<usize>,
}

/// Folds repeats into one row: medians, `[min, max]` spreads, summed counts.
pub fn aggregate(key: &RowKey, runs: &[RunSample]) -> Row {
    let columns: Vec<(&str, Vec<f64>)> = Measured::COLUMNS
        .iter()
        .map(|(name, f)| (*name, runs.iter().map(|r| f(&r.m)).collect()))
        .collect();
    let med: BTreeMap<&str, f64> = columns.iter().map(|(k, v)| (*k, median(v))).collect();
    let m = Measured {
        requests_per_sec: med["requests_per_sec"],
        latency_mean_ms: med["latency_mean_ms"],
        latency_p99_ms: med["latency_p99_ms"],
        response_bytes_mean: med["response_bytes_mean"],
        memory_rss_max_mb: med["memory_rss_max_mb"],
        memory_pss_max_mb: med["memory_pss_max_mb"],
        cpu_seconds: med["cpu_seconds"],
        loadgen_cpu_seconds: med["loadgen_cpu_seconds"],
        server_life_cpu_seconds: med["server_life_cpu_seconds"],
        requests_ok: runs.iter().map(|r| r.m.requests_ok).sum(),
        requests_failed: runs.iter().map(|r| r.m.requests_failed).sum(),
    };
    let cpu_us_per_request = median(
        &runs
            .iter()
            .map(|r| r.m.cpu_us_per_request())
            .collect::<Vec<_>>(),
    );
    let fixed: Vec<&FixedRate> = runs.iter().filter_map(|r| r.fixed_rate.as_ref()).collect();
    let fixed_rate = (!fixed.is_empty()).then(|| {
        let c = |f: fn(&FixedRate) -> f64| median(&fixed.iter().map(|x| f(x)).collect::<Vec<_>>());
        FixedRate {
            target_rps: c(|x| x.target_rps),
            achieved_rps: c(|x| x.achieved_rps),
            latency_p50_ms: c(|x| x.latency_p50_ms),
            latency_p90_ms: c(|x| x.latency_p90_ms),
            latency_p99_ms: c(|x| x.latency_p99_ms),
            latency_p99_9_ms: c(|x| x.latency_p99_9_ms),
            requests_ok: fixed.iter().map(|x| x.requests_ok).sum(),
            requests_failed: fixed.iter().map(|x| x.requests_failed).sum(),
        }
    });
    Row {
        tier: key.tier.clone(),
        mode: key.mode.clone(),
        engine: key.engine.clone(),
        m,
        valid: !runs.is_empty()
            && runs.iter().all(|r| r.m.valid())
            && fixed_rate.as_ref().is_none_or(|f| f.requests_failed == 0),
        cpu_us_per_request,
        processes_max: runs.iter().map(|r| r.processes_max).max().unwrap_or(0),
        workers: key.workers,
        server_exit_ok: runs.iter().all(|r| r.server_exit_ok),
        repeats: runs.len(),
        spread: (runs.len() > 1).then(|| {
            columns
                .iter()
                .map(|(k, v)| ((*k).to_owned(), spread(v)))
                .collect()
        }),
        fixed_rate,
        error: None,
    }
}

/// A row that could not be measured (the server did not start, oha failed, ...).
pub fn failed_row(key: &RowKey, error: String) -> Row {
    let mut row = aggregate(key, &[]);
    row.error = Some(error);
    row
}

/// A plain table rendered as an aligned Markdown table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// How many leading columns are labels (left-aligned); the rest are numbers.
    pub label_columns: usize,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            label_columns: 3,
        }
    }

    /// Markdown: label columns left-aligned, the rest right-aligned, padded to line up.
    pub fn to_markdown(&self) -> String {
        let n = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                width[i] = width[i].max(cell.chars().count()).max(3);
            }
        }
        let pad = |s: &str, w: usize, left: bool| {
            let fill = " ".repeat(w.saturating_sub(s.chars().count()));
            if left {
                format!("{s}{fill}")
            } else {
                format!("{fill}{s}")
            }
        };
        let line = |cells: &[String]| {
            let parts: Vec<String> = (0..n)
                .map(|i| {
                    pad(
                        cells.get(i).map_or("", String::as_str),
                        width[i],
                        i < self.label_columns,
                    )
                })
                .collect();
            format!("| {} |\n", parts.join(" | "))
        };
        let mut out = line(&self.headers);
        let rule: Vec<String> = (0..n)
            .map(|i| {
                if i < self.label_columns {
                    "-".repeat(width[i])
                } else {
                    format!("{}:", "-".repeat(width[i] - 1))
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", rule.join(" | ")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// Formats a number with a precision that suits its size; "-" for NaN.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
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
    [r.tier.clone(), r.mode.clone(), r.engine.clone()]
}

fn status(r: &Row) -> String {
    match (&r.error, r.valid) {
        (Some(_), _) => "ERROR".into(),
        (None, true) => "ok".into(),
        (None, false) => format!("INVALID ({} failed)", r.m.requests_failed),
    }
}

/// (a) The absolute table, in the article's shape; the best of each column in bold.
pub fn absolute_table(rows: &[Row]) -> Table {
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

/// The row every x-factor is relative to: tier-0 in the same mode, else any tier-0 row,
/// else the first row.
fn baseline<'a>(rows: &'a [Row], mode: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.tier == "tier-0" && r.mode == mode)
        .or_else(|| rows.iter().find(|r| r.tier == "tier-0"))
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

/// (b) The same relative to tier-0 (x-factors: throughput up is better, the rest down).
pub fn relative_table(rows: &[Row]) -> Table {
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
        let Some(b) = baseline(rows, &r.mode) else {
            continue;
        };
        let [tier, mode, engine] = label_cells(r);
        t.rows.push(vec![tier, mode, engine]);
        let cells = t.rows.last_mut().expect("just pushed");
        cells.extend(factors(r, b));
        cells.push(format!("{} {}", b.tier, b.mode));
    }
    t
}

/// (c) Each engine against the `article` engine in the same tier and mode; `None` when no
/// tier ran with more than one Rust engine.
pub fn engine_table(rows: &[Row]) -> Option<Table> {
    let mut t = Table::new(&[
        "tier",
        "mode",
        "engine",
        "req/s",
        "x req/s",
        "x avg latency",
        "x p99 latency",
        "x avg response",
        "x RSS max",
        "x PSS max",
        "x CPU/req",
    ]);
    for r in rows
        .iter()
        .filter(|r| r.engine != "article" && r.engine != "js")
    {
        let Some(a) = rows
            .iter()
            .find(|a| a.tier == r.tier && a.mode == r.mode && a.engine == "article")
        else {
            continue;
        };
        let [tier, mode, engine] = label_cells(r);
        t.rows
            .push(vec![tier, mode, engine, num(r.m.requests_per_sec)]);
        t.rows
            .last_mut()
            .expect("just pushed")
            .extend(factors(r, a));
    }
    (!t.rows.is_empty()).then_some(t)
}

/// (d) Fixed-rate latency percentiles; `None` without `--rate` or `--latency`.
pub fn fixed_rate_table(rows: &[Row]) -> Option<Table> {
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

/// Every table of a run, as Markdown with headings.
pub fn tables_markdown(rows: &[Row]) -> String {
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
    for r in rows.iter().filter(|r| r.error.is_some()) {
        let _ = writeln!(
            out,
            "- {} {} {}: {}",
            r.tier,
            r.mode,
            r.engine,
            r.error.as_deref().unwrap_or_default()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rps: f64, ok: u64, failed: u64) -> RunSample {
        RunSample {
            m: Measured {
                requests_per_sec: rps,
                latency_mean_ms: 1000.0 / rps,
                latency_p99_ms: 3000.0 / rps,
                response_bytes_mean: 778.0,
                memory_rss_max_mb: 100.0,
                memory_pss_max_mb: 60.0,
                cpu_seconds: 2.0,
                loadgen_cpu_seconds: 0.5,
                server_life_cpu_seconds: 3.0,
                requests_ok: ok,
                requests_failed: failed,
            },
            processes_max: 3,
            server_exit_ok: true,
            fixed_rate: None,
        }
    }

    fn key(tier: &str, engine: &str) -> RowKey {
        RowKey {
            tier: tier.into(),
            mode: "cluster".into(),
            engine: engine.into(),
            workers: Some(2),
        }
    }

    #[test]
    fn aggregate_takes_medians_spreads_and_sums() {
        let runs = [
            sample(100.0, 1000, 0),
            sample(300.0, 3000, 0),
            sample(200.0, 2000, 0),
        ];
        let row = aggregate(&key("tier-4", "article"), &runs);
        assert_eq!(row.m.requests_per_sec, 200.0);
        assert_eq!(row.m.requests_ok, 6000);
        assert!(row.valid);
        assert_eq!(row.repeats, 3);
        assert_eq!(
            row.spread.as_ref().unwrap()["requests_per_sec"],
            [100.0, 300.0]
        );
        assert_eq!(row.cpu_us_per_request, 1000.0); // 2 s / 2000 requests
        let one = aggregate(&key("tier-4", "article"), &runs[..1]);
        assert!(one.spread.is_none());
    }

    #[test]
    fn any_failure_in_any_repeat_invalidates_the_row() {
        let row = aggregate(
            &key("tier-1", "article"),
            &[sample(100.0, 10, 0), sample(100.0, 10, 1)],
        );
        assert!(!row.valid);
        assert_eq!(row.m.requests_failed, 1);
        assert!(!aggregate(&key("tier-1", "article"), &[sample(0.0, 0, 0)]).valid);
    }

    #[test]
    fn json_has_exactly_the_promised_fields() {
        let row = aggregate(&key("tier-0", "js"), &[sample(100.0, 10, 0)]);
        let v = serde_json::to_value(&row).unwrap();
        for f in [
            "tier",
            "mode",
            "engine",
            "requests_per_sec",
            "latency_mean_ms",
            "latency_p99_ms",
            "response_bytes_mean",
            "memory_rss_max_mb",
            "memory_pss_max_mb",
            "cpu_seconds",
            "loadgen_cpu_seconds",
            "requests_ok",
            "requests_failed",
            "valid",
        ] {
            assert!(v.get(f).is_some(), "missing {f}");
        }
        assert!(v.get("spread").is_none() && v.get("error").is_none());
    }

    #[test]
    fn tables_mark_the_best_and_compute_factors() {
        let rows = vec![
            aggregate(&key("tier-0", "js"), &[sample(100.0, 10, 0)]),
            aggregate(&key("tier-4", "article"), &[sample(400.0, 40, 0)]),
            aggregate(&key("tier-4", "fast"), &[sample(4000.0, 40, 1)]),
        ];
        let abs = absolute_table(&rows);
        // The invalid fast row has the highest req/s but is not marked best.
        assert_eq!(abs.rows[1][3], "**400**");
        assert_eq!(abs.rows[2][3], "4000");
        assert!(abs.rows[2][11].starts_with("INVALID"));
        let rel = relative_table(&rows);
        assert_eq!(rel.rows[0][3], "1.00x");
        assert_eq!(rel.rows[1][3], "4.00x");
        assert_eq!(rel.rows[1][4], "0.25x");
        let eng = engine_table(&rows).unwrap();
        assert_eq!(eng.rows.len(), 1);
        assert_eq!(eng.rows[0][4], "10.00x");
        assert!(fixed_rate_table(&rows).is_none());
    }

    #[test]
    fn markdown_lines_up() {
        let mut t = Table::new(&["tier", "mode", "engine", "req/s"]);
        t.rows.push(vec![
            "tier-0".into(),
            "cluster".into(),
            "js".into(),
            "1464".into(),
        ]);
        let md = t.to_markdown();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "| tier   | mode    | engine | req/s |");
        assert_eq!(lines[1], "| ------ | ------- | ------ | ----: |");
        assert_eq!(lines[2], "| tier-0 | cluster | js     |  1464 |");
        assert_eq!(num(f64::NAN), "-");
        assert_eq!(num(1464.4), "1464");
        assert_eq!(num(68.04), "68.0");
        assert_eq!(num(0.5), "0.50");
    }
}
