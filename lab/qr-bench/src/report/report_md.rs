//! report.md: the machine and the run's settings, then every HTTP table under its heading
//! (the tables alone are what a run prints), each heading naming the workload unless it is the
//! default.

use std::fmt::Write as _;

use super::ceiling_table::ceiling_table;
use super::http_tables::{
    absolute_table, engine_table, fixed_rate_table, memory_table, relative_table, variant_table,
};
use crate::model::{CallRow, Results, Row, Workload};

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
    let requests = match c.workload {
        Workload::Default => format!("{} target texts", c.targets.len()),
        workload => format!(
            "{} URLs, the {workload} workload: each of {} target texts with each of {} option sets \
             ({})",
            c.targets.len() * c.option_sets.len(),
            c.targets.len(),
            c.option_sets.len(),
            c.option_sets
                .iter()
                .map(|set| format!("`{set}`"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let _ = writeln!(
        md,
        "Load: {load}, {} connections, {} s warm-up + {} s measured, {} repeat(s); cluster \
         workers: {}; requests cycle through {requests}. Memory is the peak of the summed \
         RSS / PSS of the server's whole process tree (sampled every {} ms); CPU is the tree's \
         user+system seconds in the measured window, reaped children included; the load \
         generator shares the machine and its CPU is shown in parentheses.\n",
        c.connections, c.warmup_s, c.duration_s, c.repeat, c.workers, c.monitor_interval_ms
    );
    if !c.stacks.is_empty() {
        let _ = writeln!(
            md,
            "Stacks: {}; each tier ran on each of them its host has, else on its host's \
             default.\n",
            c.stacks.join(", ")
        );
    }
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
    md.push_str(&tables_markdown(&results.rows, &results.core, c.workload));
    md
}

/// What a ceiling is, under the ceiling table: with the options workload, what it does with the
/// options too.
fn ceiling_note(workload: Workload) -> &'static str {
    match workload {
        Workload::Default => "",
        Workload::Options => {
            " With the options workload a ceiling parses and checks each request's options as \
             its tiers do, then answers an image it made once, whatever the options ask for: its \
             host µs include reading the options, its bytes are not the workload's; core µs is \
             timed over the workload's requests."
        }
    }
}

/// Under the ceiling table when a row ran on a stack other than its host's default: how it is
/// named and paired.
fn stack_note(rows: &[Row]) -> &'static str {
    if rows.iter().all(|r| r.configuration.stack.is_default()) {
        ""
    } else {
        " A tier cell that names a stack, as `tier-3 (fastify)`, ran on that stack instead of its \
         host's default, and is put against its host's ceiling on the same stack."
    }
}

/// Every table of a run, as Markdown with headings; each heading names `workload` unless it is
/// the default.
pub fn tables_markdown(rows: &[Row], core: &[CallRow], workload: Workload) -> String {
    let named = match workload {
        Workload::Default => "",
        Workload::Options => "Options workload: ",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {named}Absolute (median of repeats; best of each column in bold)\n\n{}",
        absolute_table(rows).to_markdown()
    );
    let _ = writeln!(
        out,
        "### {named}Relative to tier-0 (x-factors)\n\n{}",
        relative_table(rows).to_markdown()
    );
    if let Some(t) = variant_table(rows) {
        let _ = writeln!(
            out,
            "### {named}What each variant buys over the article's tier (x-factors)\n\n{}",
            t.to_markdown()
        );
    }
    if let Some(t) = ceiling_table(rows, core) {
        let _ = writeln!(
            out,
            "### {named}Share of the host's ceiling, and where each request's CPU goes\n\n\
             A ceiling serves one precomputed PNG of the same size for every request: the most \
             its host serves on its stack (express or fastify, axum, Flask on gunicorn or granian) \
             here when the QR work is \
             free. Host µs is the ceiling's CPU per request; core µs is `qr_core::generate` per call, \
             timed in-process in this run (tier-0 and py-tier-0: their own encoder, all that is \
             left); the boundary is the rest: getting to Rust and back (processes, pipes, Wasm \
             copies, napi, PyO3, nginx).{}{}\n\n{}",
            ceiling_note(workload),
            stack_note(rows),
            t.to_markdown()
        );
    }
    let _ = writeln!(
        out,
        "### {named}What the peak PSS is made of\n\n\
         At the sample with the most PSS: the anonymous part (heaps, stacks) and the rest, mostly \
         file-backed pages (the host's executable and libraries, counted once however many \
         processes map them). Medians of repeats.\n\n{}",
        memory_table(rows).to_markdown()
    );
    if let Some(t) = engine_table(rows) {
        let _ = writeln!(
            out,
            "### {named}Engines against `article` (same tier and mode)\n\n{}",
            t.to_markdown()
        );
    }
    if let Some(t) = fixed_rate_table(rows) {
        let _ = writeln!(
            out,
            "### {named}Fixed rate, open loop (latency corrected for coordinated omission)\n\n{}",
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
    use qr_harness::{Stack, Tier};

    use super::*;
    use crate::model::fixtures::{cluster, cluster_on, results, rows, sample};

    #[test]
    fn failed_rows_are_listed_under_the_tables() {
        let mut rows = rows();
        rows.push(Row::failed(
            cluster(Tier::Tier1, Some(Engine::Fast)),
            "oha failed".into(),
        ));
        let md = tables_markdown(&rows, &[], Workload::Default);
        assert!(
            md.ends_with("\n- tier-1 cluster fast: oha failed\n"),
            "{md}"
        );
        assert!(md.contains("| tier-1 | cluster | fast    |"), "{md}");
    }

    #[test]
    fn rows_on_another_stack_are_named_in_every_table_and_the_header() {
        let fast = Some(Engine::Fast);
        let mut results = results(Workload::Default);
        results.config.stacks = vec!["express".into(), "fastify".into()];
        results.rows = [Stack::Express, Stack::Fastify]
            .into_iter()
            .flat_map(|stack| {
                [Tier::Tier3, Tier::NodeCeiling].map(|tier| {
                    Row::aggregate(cluster_on(tier, stack, fast), &[sample(100.0, 10, 0)])
                })
            })
            .collect();
        let md = report_markdown(&results);
        assert!(
            md.contains("Stacks: express, fastify; each tier ran"),
            "{md}"
        );
        assert!(
            md.contains("is put against its host's ceiling on the same stack"),
            "{md}"
        );
        let rows_of = |tier: &str| md.lines().filter(|l| l.starts_with(tier)).count();
        // Absolute, relative, ceiling and memory tables; a ceiling has no ceiling row.
        assert_eq!(rows_of("| tier-3 (fastify) "), 4, "{md}");
        assert_eq!(rows_of("| node-ceiling (fastify) "), 3, "{md}");
        let default = tables_markdown(&rows(), &[], Workload::Default);
        assert!(!default.contains("names a stack"), "{default}");
    }

    #[test]
    fn an_options_run_names_its_workload_in_every_heading() {
        let md = tables_markdown(&rows(), &[], Workload::Options);
        let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("### ")).collect();
        assert!(headings.len() >= 3, "{md}");
        assert!(
            headings
                .iter()
                .all(|h| h.starts_with("### Options workload: ")),
            "{md}"
        );
        // The default workload's tables are the same, unnamed: as before workloads existed.
        let default = tables_markdown(&rows(), &[], Workload::Default);
        assert!(
            default.starts_with("### Absolute (median of repeats"),
            "{default}"
        );
        assert_eq!(default, md.replace("Options workload: ", ""));
    }

    #[test]
    fn the_header_says_what_the_requests_ask_for() {
        let md = report_markdown(&results(Workload::Options));
        assert!(
            md.contains(
                "requests cycle through 12 URLs, the options workload: each of 2 target texts \
                 with each of 6 option sets (`format=svg`; `ecLevel=H`; `size=300`; "
            ),
            "{md}"
        );
        let md = report_markdown(&results(Workload::Default));
        assert!(
            md.contains("requests cycle through 2 target texts. Memory"),
            "{md}"
        );
    }
}
