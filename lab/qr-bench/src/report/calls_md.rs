//! calls.md: each tier, engine and workload's cost per call against the core's, what the options
//! cost at each boundary, and the criterion estimates found in cargo's target directory.

use std::fmt::Write as _;

use super::table::{Table, num};
use crate::model::{CallRow, CallsResults, CriterionRow, Workload};

/// The core's row for `engine` and `workload`, if it was timed.
fn core_row<'a>(rows: &'a [CallRow], engine: &str, workload: &str) -> Option<&'a CallRow> {
    rows.iter()
        .find(|c| c.tier == "core" && c.engine == engine && c.workload == workload)
}

/// The per-call table; `x core` is each row's median against the core's for its engine (the
/// article engine's for the pure tiers) and workload.
fn calls_table(rows: &[CallRow]) -> Table {
    let mut t = Table::new(&[
        "tier",
        "engine",
        "workload",
        "source",
        "median µs/call",
        "mean µs",
        "p90 µs",
        "calls",
        "mean image B",
        "x core (same engine and workload)",
    ]);
    t.label_columns = 4;
    for r in rows {
        let core = core_row(rows, &r.engine, &r.workload)
            .or_else(|| core_row(rows, "article", &r.workload));
        let x = core
            .map(|c| r.median_us / c.median_us)
            .filter(|x| x.is_finite())
            .map_or("-".into(), |x| format!("{x:.1}x"));
        t.rows.push(vec![
            r.tier.clone(),
            r.engine.clone(),
            r.workload.clone(),
            r.error
                .as_ref()
                .map_or(r.source.clone(), |e| format!("ERROR: {e}")),
            num(r.median_us),
            num(r.mean_us),
            num(r.p90_us),
            r.calls.to_string(),
            num(r.image_bytes_mean),
            x,
        ]);
    }
    t
}

/// What the options cost at each boundary: for each tier and engine timed with both workloads,
/// its median per call without and with options, and its boundary (its median less the core's for
/// the same engine and workload; none for the core, and the pure tiers have no core to subtract).
/// `None` when no row was timed with both.
fn options_cost_table(rows: &[CallRow]) -> Option<Table> {
    let (default, options) = (Workload::Default.name(), Workload::Options.name());
    let mut t = Table::new(&[
        "tier",
        "engine",
        "µs/call",
        "with options",
        "boundary µs",
        "with options",
        "the options' cost at the boundary µs",
    ]);
    t.label_columns = 2;
    for without in rows.iter().filter(|r| r.workload == default) {
        let Some(with) = rows.iter().find(|o| {
            o.tier == without.tier && o.engine == without.engine && o.workload == options
        }) else {
            continue;
        };
        let boundary = |r: &CallRow| match core_row(rows, &r.engine, &r.workload) {
            Some(core) if r.tier != "core" => r.median_us - core.median_us,
            _ => f64::NAN,
        };
        let (before, after) = (boundary(without), boundary(with));
        t.rows.push(vec![
            without.tier.clone(),
            without.engine.clone(),
            num(without.median_us),
            num(with.median_us),
            num(before),
            num(after),
            num(after - before),
        ]);
    }
    (!t.rows.is_empty()).then_some(t)
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

/// calls.md, as printed: the per-call table, what the options cost at each boundary, and
/// criterion's estimates when there are any.
pub fn calls_markdown(results: &CallsResults) -> String {
    let mut text = format!(
        "### Cost per call, in-process, single caller\n\n\
         Workload `default`: each target text alone; `options`: each with each of {} option sets \
         ({}).\n\n{}",
        results.option_sets.len(),
        results
            .option_sets
            .iter()
            .map(|set| format!("`{set}`"))
            .collect::<Vec<_>>()
            .join("; "),
        calls_table(&results.rows).to_markdown()
    );
    if let Some(t) = options_cost_table(&results.rows) {
        let _ = write!(
            text,
            "\n### What the options cost at each boundary\n\n\
             Median µs per call without options and with the options workload's; a tier's \
             boundary is its median less the core's for the same engine and workload, so the \
             last column is what taking the options (and handing back the larger images they ask \
             for) adds at that boundary, the core's own extra work set aside.\n\n{}",
            t.to_markdown()
        );
    }
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
    use crate::model::fixtures::machine;

    fn call(tier: &str, engine: &str, workload: Workload, median_us: f64) -> CallRow {
        CallRow {
            median_us,
            error: None,
            ..CallRow::failed(tier, engine, workload.name(), "test", String::new())
        }
    }

    fn results(rows: Vec<CallRow>) -> CallsResults {
        CallsResults {
            machine: machine(),
            rounds: 1,
            targets: vec!["hello".into()],
            option_sets: Workload::Options.option_set_labels(),
            rows,
            criterion: Vec::new(),
            criterion_dir: "out/criterion".into(),
        }
    }

    #[test]
    fn calls_tables_compare_with_the_core_and_show_errors() {
        let mut results = results(vec![
            call("core", "fast", Workload::Default, 10.0),
            call("tier-3", "fast", Workload::Default, 25.0),
            CallRow::failed("node", "-", "-", "", "node failed".into()),
        ]);
        let t = calls_table(&results.rows);
        assert_eq!(t.rows[1][..3], ["tier-3", "fast", "default"]);
        assert_eq!(t.rows[1][9], "2.5x");
        assert_eq!(t.rows[2][3], "ERROR: node failed");
        let md = calls_markdown(&results);
        assert!(!md.contains("criterion"), "{md}");
        assert!(!md.contains("What the options cost"), "{md}");
        assert!(
            md.contains("each of 6 option sets (`format=svg`; `ecLevel=H`;"),
            "{md}"
        );
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

    #[test]
    fn the_options_cost_is_the_boundarys_growth_with_the_core_set_aside() {
        let rows = vec![
            call("core", "fast", Workload::Default, 10.0),
            call("core", "fast", Workload::Options, 30.0),
            call("tier-0", "js", Workload::Default, 900.0),
            call("tier-0", "js", Workload::Options, 1500.0),
            call("tier-3", "fast", Workload::Default, 15.0),
            call("tier-3", "fast", Workload::Options, 38.0),
            call("tier-2", "fast", Workload::Default, 20.0),
        ];
        let calls = calls_table(&rows);
        // Each row against the core of its own workload.
        assert_eq!(calls.rows[5][9], "1.3x");
        let t = options_cost_table(&rows).unwrap();
        let cells: Vec<&[String]> = t.rows.iter().map(|r| &r[..]).collect();
        assert_eq!(
            cells,
            [
                ["core", "fast", "10.0", "30.0", "-", "-", "-"],
                ["tier-0", "js", "900", "1500", "-", "-", "-"],
                ["tier-3", "fast", "15.0", "38.0", "5.00", "8.00", "3.00"],
            ],
            "tier-2 was not timed with options"
        );
        assert!(options_cost_table(&rows[..1]).is_none());
        assert!(
            calls_markdown(&results(rows)).contains("### What the options cost at each boundary")
        );
    }
}
