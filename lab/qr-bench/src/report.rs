//! From the model to what people read, and nothing that runs anything: writes results.json,
//! report.md and chart.svg for an HTTP run, calls.json and calls.md for `--calls`.
//!
//! | module | job |
//! | --- | --- |
//! | `report_md` | report.md: the run's header and every HTTP table under its heading |
//! | `http_tables` | the HTTP tables: absolute, relative, variants, memory, engines, fixed rate |
//! | `ceiling_table` | each row against its host's ceiling, and where its CPU per request goes |
//! | `calls_md` | calls.md: the cost per call, and criterion's estimates |
//! | `chart` | chart.svg |
//! | `table` | a table as aligned Markdown, and the number format |

mod calls_md;
mod ceiling_table;
mod chart;
mod http_tables;
mod report_md;
mod table;

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

pub use self::calls_md::calls_markdown;
pub use self::report_md::tables_markdown;
use crate::model::{CallsResults, Results, Workload};

/// Writes results.json, report.md and chart.svg into `out`.
pub fn write_results(results: &Results, out: &Path) -> Result<()> {
    create_dir(out)?;
    write_json(results, &out.join("results.json"))?;
    std::fs::write(out.join("report.md"), report_md::report_markdown(results))?;
    let c = &results.config;
    let workload = match c.workload {
        Workload::Default => String::new(),
        other => format!(", {other} workload"),
    };
    let title = format!(
        "rusty-qr{workload}: {} connections, {} s per configuration, {} CPUs",
        c.connections, c.duration_s, results.machine.cores
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::model::fixtures::results;

    /// results.json and chart.svg of a run of `workload`, written to a fresh directory.
    fn written(workload: Workload) -> (Value, String) {
        let out =
            std::env::temp_dir().join(format!("qr-bench-report-{workload}-{}", std::process::id()));
        write_results(&results(workload), &out).unwrap();
        let json = std::fs::read_to_string(out.join("results.json")).unwrap();
        let chart = std::fs::read_to_string(out.join("chart.svg")).unwrap();
        std::fs::remove_dir_all(&out).ok();
        (serde_json::from_str(&json).unwrap(), chart)
    }

    #[test]
    fn results_say_their_workload_and_its_option_sets() {
        let (json, chart) = written(Workload::Options);
        assert_eq!(json["config"]["workload"], "options");
        let sets = json["config"]["option_sets"].as_array().unwrap();
        assert_eq!(sets.len(), 6);
        assert_eq!(sets[0], "format=svg");
        assert!(chart.contains("rusty-qr, options workload: 100 connections"));
        let (json, chart) = written(Workload::Default);
        assert_eq!(json["config"]["workload"], json!("default"));
        assert!(json["config"].get("option_sets").is_none(), "{json:#}");
        assert!(chart.contains("rusty-qr: 100 connections"));
    }
}
