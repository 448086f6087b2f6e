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
use crate::model::{CallsResults, Results};

/// Writes results.json, report.md and chart.svg into `out`.
pub fn write_results(results: &Results, out: &Path) -> Result<()> {
    create_dir(out)?;
    write_json(results, &out.join("results.json"))?;
    std::fs::write(out.join("report.md"), report_md::report_markdown(results))?;
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
