//! report.md: the machine and the run's settings, then every HTTP table under its heading
//! (the tables alone are what a run prints).

use std::fmt::Write as _;

use super::ceiling_table::ceiling_table;
use super::http_tables::{
    absolute_table, engine_table, fixed_rate_table, memory_table, relative_table, variant_table,
};
use crate::model::{CallRow, Results, Row};

/// report.md: machine, configuration and every table.
pub(super) fn report_markdown(results: &Results) -> String {
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
             free. Host µs is the ceiling's CPU per request; core µs is `qr_core::generate` per call, \
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

#[cfg(test)]
mod tests {
    use qr_core::Engine;
    use qr_harness::Tier;

    use super::*;
    use crate::model::fixtures::{cluster, rows};

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
}
