//! calls.md: each tier and engine's cost per call against the core's, and the criterion
//! estimates found in cargo's target directory.

use std::fmt::Write as _;

use super::table::{Table, num};
use crate::model::{CallRow, CallsResults, CriterionRow};

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
