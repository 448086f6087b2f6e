//! rusty-qr's benchmark: every tier under oha's load, with the server's whole process tree
//! watched for CPU and memory; tables, results.json, report.md and chart.svg.
//!
//! Run with `cargo xtask bench [--quick] [--tiers ...]` (or `target/release/qr-bench --help`).

pub mod calls;
pub mod chart;
pub mod cli;
pub mod machine;
pub mod monitor;
pub mod oha;
pub mod report;
pub mod runner;
pub mod stats;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

pub use cli::Args;
pub use runner::Results;

static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Makes SIGINT and SIGTERM set a flag the run polls, so the running oha and server are
/// stopped (the server's process group is killed on drop) instead of left behind; a second
/// signal exits at once. For the binary; tests do not call it.
pub fn install_interrupt_handler() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = INTERRUPTED.get_or_init(Arc::default).clone();
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone())?;
        signal_hook::flag::register(signal, flag.clone())?;
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM arrived (after [`install_interrupt_handler`]).
pub fn interrupted() -> bool {
    INTERRUPTED.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// The default output directory: `bench/out/<UTC timestamp>/` under the repository root.
pub fn default_out_dir() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    qr_harness::repo_root()
        .join("bench/out")
        .join(runner::utc_stamp(secs))
}

/// report.md: machine, configuration and every table.
pub fn report_markdown(results: &Results) -> String {
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
    md.push_str(&report::tables_markdown(&results.rows));
    md
}

/// Writes results.json, report.md and chart.svg into `out`.
pub fn write_outputs(results: &Results, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(results)? + "\n",
    )?;
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

/// Runs what `args` asks for, prints the tables and writes the outputs. Returns the output
/// directory and whether every row was measured (no row with an error).
pub fn run(args: &Args) -> Result<(PathBuf, bool)> {
    let out = args.out.clone().unwrap_or_else(default_out_dir);
    if args.calls {
        let targets_path = args
            .targets
            .clone()
            .unwrap_or_else(|| qr_harness::repo_root().join("bench/targets.txt"));
        let targets = oha::read_targets(&targets_path)?;
        let results = calls::run_calls(
            qr_harness::repo_root(),
            &args.tiers(),
            &args.engines(),
            targets,
            args.calls_rounds,
        );
        std::fs::create_dir_all(&out)?;
        std::fs::write(
            out.join("calls.json"),
            serde_json::to_string_pretty(&results)? + "\n",
        )?;
        let mut text = format!(
            "### Cost per call, in-process, single caller\n\n{}",
            calls::calls_table(&results.rows).to_markdown()
        );
        if !results.criterion.is_empty() {
            let _ = write!(
                text,
                "\n### criterion estimates left in target/criterion by `cargo bench -p qr-core` (per iteration, as each bench defines it)\n\n{}",
                calls::criterion_table(&results.criterion).to_markdown()
            );
        }
        println!("{text}");
        std::fs::write(out.join("calls.md"), text)?;
        println!("wrote {}", out.join("calls.json").display());
        let ok = results.rows.iter().all(|r| r.error.is_none());
        return Ok((out, ok));
    }
    let results = runner::run_http(args, &out)?;
    println!("{}", report::tables_markdown(&results.rows));
    println!(
        "wrote {}/{{results.json,report.md,chart.svg}}",
        out.display()
    );
    let ok = results.rows.iter().all(|r| r.error.is_none());
    Ok((out, ok))
}
