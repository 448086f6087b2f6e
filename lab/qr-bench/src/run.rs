//! The top of the benchmark, and the only place that joins the runner to the report: run
//! what the command line asks for, write the outputs, print the tables.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Result;

use crate::cli::Args;
use crate::model::utc_stamp;
use crate::{report, runner};

/// Runs what `args` asks for, prints the tables and writes the outputs. Returns the output
/// directory and whether every row was measured (no row with an error).
pub fn run(args: &Args) -> Result<(PathBuf, bool)> {
    let out = args.out.clone().unwrap_or_else(default_out_dir);
    let targets = runner::read_targets(&args.targets_path())?;
    if args.calls {
        let results = runner::run_calls(&args.tiers(), &args.engines(), targets, args.calls_rounds);
        report::write_calls(&results, &out)?;
        println!("{}", report::calls_markdown(&results));
        println!("wrote {}", out.join("calls.json").display());
        let ok = results.rows.iter().all(|r| r.error.is_none());
        return Ok((out, ok));
    }
    let results = runner::run_http(args, targets, &out)?;
    report::write_results(&results, &out)?;
    println!(
        "{}",
        report::tables_markdown(&results.rows, &results.core, results.config.workload)
    );
    println!(
        "wrote {}/{{results.json,report.md,chart.svg}}",
        out.display()
    );
    let ok = results.rows.iter().all(|r| r.error.is_none());
    Ok((out, ok))
}

/// The default output directory: `bench/<UTC timestamp>/` in cargo's target directory.
fn default_out_dir() -> PathBuf {
    qr_harness::paths::target_dir()
        .join("bench")
        .join(utc_stamp(SystemTime::now()))
}
