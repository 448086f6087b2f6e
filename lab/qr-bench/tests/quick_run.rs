//! The benchmark for real, in quick mode, on cheap configurations: tier-4 and tier-0 single with
//! the default workload, and tier-4 with the options workload.
//!
//! Run with `cargo test -p qr-bench -- --ignored` after `cargo xtask build` (needs oha).

use std::path::PathBuf;
use std::sync::Mutex;

use clap::Parser;
use serde_json::Value;

/// One quick run at a time: each reads the CPU of this process's children.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs qr-bench with `args` after a quick run's own into a fresh directory, named `name`;
/// returns it, results.json, and whether every row was measured.
fn quick_run(name: &str, args: &[&str]) -> (PathBuf, Value, bool) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = std::env::temp_dir().join(format!("qr-bench-{name}-{}", std::process::id()));
    let out_arg = out.to_str().expect("utf-8 temp dir");
    let quick = ["qr-bench", "--modes", "single", "--quick", "--no-progress"];
    let args = qr_bench::Args::parse_from(quick.iter().chain(args).chain(&["--out", out_arg]));
    let (dir, all_measured) = qr_bench::run(&args).expect("the benchmark runs");
    assert_eq!(dir, out);
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("results.json")).expect("results.json written"),
    )
    .expect("results.json is JSON");
    (out, json, all_measured)
}

#[test]
#[ignore = "needs cargo xtask build and oha; run by cargo xtask test"]
fn quick_run_writes_a_valid_report() {
    let (out, json, all_measured) = quick_run(
        "quick",
        &[
            "--tiers",
            "tier-4,tier-0",
            "--engines",
            "article",
            "--duration",
            "2s",
            "--warmup",
            "500ms",
            "--connections",
            "8",
        ],
    );
    let rows = json["rows"].as_array().expect("rows");
    let labels: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {} {}", r["tier"], r["mode"], r["engine"]))
        .collect();
    assert_eq!(
        labels,
        [
            r#""tier-4" "single" "article""#,
            r#""tier-0" "single" "js""#
        ],
        "{json:#}"
    );
    assert!(all_measured, "{json:#}");
    for row in rows {
        for (field, kind) in [
            ("requests_per_sec", "number"),
            ("latency_mean_ms", "number"),
            ("latency_p99_ms", "number"),
            ("response_bytes_mean", "number"),
            ("memory_rss_max_mb", "number"),
            ("memory_pss_max_mb", "number"),
            ("memory_pss_anon_mb", "number"),
            ("cpu_seconds", "number"),
            ("loadgen_cpu_seconds", "number"),
            ("requests_ok", "integer"),
            ("requests_failed", "integer"),
            ("valid", "bool"),
        ] {
            let v = &row[field];
            let ok = match kind {
                "number" => v.is_f64() || v.is_u64(),
                "integer" => v.is_u64(),
                _ => v.is_boolean(),
            };
            assert!(ok, "{field} should be a {kind}: {row:#}");
        }
        assert!(row["requests_per_sec"].as_f64().unwrap() > 0.0, "{row:#}");
        assert_eq!(row["requests_failed"], 0, "{row:#}");
        assert_eq!(row["valid"], true, "{row:#}");
        assert!(row["requests_ok"].as_u64().unwrap() > 0, "{row:#}");
        assert!(row["memory_pss_max_mb"].as_f64().unwrap() > 0.0, "{row:#}");
        // The peak's heaps are part of it, and the server's code the rest.
        let anon = row["memory_pss_anon_mb"].as_f64().unwrap();
        assert!(
            anon > 0.0 && anon < row["memory_pss_max_mb"].as_f64().unwrap(),
            "{row:#}"
        );
        let window_cpu = row["cpu_seconds"].as_f64().unwrap();
        assert!(window_cpu > 0.0, "{row:#}");
        // The window is part of the server's life, which the kernel accounts exactly on reaping
        // (one clock tick of slack per snapshot).
        let life_cpu = row["server_life_cpu_seconds"].as_f64().unwrap();
        assert!(window_cpu <= life_cpu + 0.02, "{row:#}");
        assert!(
            row["response_bytes_mean"].as_f64().unwrap() > 100.0,
            "{row:#}"
        );
    }
    for field in [
        "cpu_model",
        "cores",
        "memory_mb",
        "kernel",
        "rustc",
        "node",
        "oha",
    ] {
        assert!(
            !json["machine"][field].is_null(),
            "machine.{field}: {json:#}"
        );
    }
    assert_eq!(json["config"]["connections"], 8);
    assert_eq!(json["config"]["workload"], "default");

    let report = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(report.contains("| tier-4 ") && report.contains("| tier-0 "));
    assert!(report.contains("Relative to tier-0"));
    let svg = std::fs::read_to_string(out.join("chart.svg")).expect("chart.svg");
    assert!(svg.starts_with("<svg"));
    std::fs::remove_dir_all(&out).ok();
}

/// Every URL of the options workload is served 200 by tier-4 (a row with any other answer is not
/// measured), and the run says which workload it was.
#[test]
#[ignore = "needs cargo xtask build and oha; run by cargo xtask test"]
fn quick_options_run_is_all_images() {
    let (out, json, all_measured) = quick_run(
        "options",
        &[
            "--tiers",
            "tier-4",
            "--engines",
            "fast",
            "--workload",
            "options",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--connections",
            "4",
        ],
    );
    assert!(all_measured, "{json:#}");
    assert_eq!(json["config"]["workload"], "options");
    assert_eq!(json["config"]["option_sets"].as_array().unwrap().len(), 6);
    let row = &json["rows"][0];
    assert_eq!(
        (&row["tier"], &row["valid"]),
        (&"tier-4".into(), &true.into()),
        "{row:#}"
    );
    assert!(row["requests_ok"].as_u64().unwrap() > 0, "{row:#}");
    let urls = std::fs::read_to_string(out.join("raw/tier-4-single-fast-r0.urls.txt")).unwrap();
    let urls: Vec<&str> = urls.lines().collect();
    assert_eq!(urls.len(), 10 * 6);
    assert!(
        urls.iter()
            .all(|u| u.contains("/qrcode?text=") && u.contains('&')),
        "{urls:?}"
    );
    assert!(json["core"][0]["workload"] == "options", "{json:#}");
    let report = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(
        report.contains("### Options workload: Absolute"),
        "{report}"
    );
    assert!(
        report.contains("requests cycle through 60 URLs, the options workload"),
        "{report}"
    );
    std::fs::remove_dir_all(&out).ok();
}
