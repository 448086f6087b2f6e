//! The HTTP tables, each a function of the rows: (a) absolute, (b) relative to the host's pure
//! tier, (c) engines against `article`, (d) fixed rate, (f) variants against the tier they
//! improve, (g) what the peak PSS is made of; and the cells and comparisons they share.

use qr_core::Engine;
use qr_harness::{Host, Tier};

use super::table::{Table, num};
use crate::model::{Configuration, Row};

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

fn status(r: &Row) -> String {
    match (&r.error, r.valid) {
        (Some(_), _) => "ERROR".into(),
        (None, true) => "ok".into(),
        (None, false) => format!("INVALID ({} failed)", r.m.requests_failed),
    }
}

/// (a) The absolute table, in the article's shape; the best of each column in bold.
pub(super) fn absolute_table(rows: &[Row]) -> Table {
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
        let [tier, mode, engine] = r.configuration.names();
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
/// else tier-0) on the same stack and in the same mode, else on the same stack, else in the same
/// mode, else any row of that tier, else the first row.
fn baseline<'a>(rows: &'a [Row], c: &Configuration) -> Option<&'a Row> {
    let pure = if c.tier.host() == Host::Python {
        Tier::PyTier0
    } else {
        Tier::Tier0
    };
    let is_pure = |r: &&Row| r.configuration.tier == pure;
    let same_stack = |r: &&Row| is_pure(r) && r.configuration.stack == c.stack;
    let same_mode = |r: &&Row| r.configuration.mode == c.mode;
    rows.iter()
        .find(|r| same_stack(r) && same_mode(r))
        .or_else(|| rows.iter().find(same_stack))
        .or_else(|| rows.iter().find(|r| is_pure(r) && same_mode(r)))
        .or_else(|| rows.iter().find(is_pure))
        .or_else(|| rows.first())
}

/// `tier-0 cluster`, `tier-3 (fastify) cluster`: the row a comparison is against.
fn against(base: &Row) -> String {
    let c = &base.configuration;
    format!("{} {}", c.tier_label(), c.mode)
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
pub(super) fn relative_table(rows: &[Row]) -> Table {
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
        let [tier, mode, engine] = r.configuration.names();
        t.rows.push(vec![tier, mode, engine]);
        let cells = t.rows.last_mut().expect("just pushed");
        cells.extend(factors(r, b));
        cells.push(against(b));
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

/// (c) Each engine against the `article` engine in the same tier, stack and mode; `None` when no
/// tier ran with more than one Rust engine.
pub(super) fn engine_table(rows: &[Row]) -> Option<Table> {
    let pairs = rows.iter().filter_map(|r| {
        let c = &r.configuration;
        if c.engine.is_none_or(|e| e == Engine::Article) {
            return None;
        }
        let a = rows.iter().find(|a| {
            let o = &a.configuration;
            o.tier == c.tier
                && o.stack == c.stack
                && o.mode == c.mode
                && o.engine == Some(Engine::Article)
        })?;
        let [tier, mode, engine] = r.configuration.names();
        Some(([tier, mode, engine, num(r.m.requests_per_sec)], r, a))
    });
    factor_table(["tier", "mode", "engine", "req/s"], pairs)
}

/// (f) Each variant against the article's tier it improves on, same stack and engine; in the
/// same mode if that ran, else in the faster one (tier-3-async is one process against tier-3's
/// cluster).
pub(super) fn variant_table(rows: &[Row]) -> Option<Table> {
    let pairs = rows.iter().filter_map(|r| {
        let c = &r.configuration;
        let base = counterpart(rows, r, c.tier.variant_of()?, c.engine)?;
        let [tier, mode, engine] = r.configuration.names();
        Some(([tier, mode, engine, against(base)], r, base))
    });
    factor_table(["variant", "mode", "engine", "against"], pairs)
}

/// (d) Fixed-rate latency percentiles; `None` without `--rate` or `--latency`.
pub(super) fn fixed_rate_table(rows: &[Row]) -> Option<Table> {
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
        let [tier, mode, engine] = r.configuration.names();
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

/// The row of `tier` with `engine` on `r`'s stack that `r` is compared with: in `r`'s mode if
/// that ran, else the fastest; rows that failed are never used.
pub(super) fn counterpart<'a>(
    rows: &'a [Row],
    r: &Row,
    tier: Tier,
    engine: Option<Engine>,
) -> Option<&'a Row> {
    let candidates = || {
        rows.iter().filter(move |o| {
            let c = &o.configuration;
            c.tier == tier
                && c.stack == r.configuration.stack
                && c.engine == engine
                && o.error.is_none()
        })
    };
    candidates()
        .find(|o| o.configuration.mode == r.configuration.mode)
        .or_else(|| {
            candidates().max_by(|a, b| a.m.requests_per_sec.total_cmp(&b.m.requests_per_sec))
        })
}

/// (g) What the peak PSS is made of: the anonymous part (heaps, stacks) and the rest, mostly
/// file-backed pages (the host's executable and libraries, counted once for the whole tree).
pub(super) fn memory_table(rows: &[Row]) -> Table {
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
        let [tier, mode, engine] = r.configuration.names();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{rows, sample, single};

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
    fn variants_are_put_against_the_tier_they_improve() {
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
}
