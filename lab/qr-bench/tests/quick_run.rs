//! The benchmark for real, in quick mode, on two cheap configurations: tier-4 and tier-0 single.
//!
//! Run with `cargo test -p qr-bench -- --ignored` after `cargo xtask build` (needs oha).

use clap::Parser;
use serde_json::Value;

#[test]
#[ignore = "needs cargo xtask build and oha; run by cargo xtask test"]
fn quick_run_writes_a_valid_report() {
    let out = std::env::temp_dir().join(format!("qr-bench-quick-{}", std::process::id()));
    let args = qr_bench::Args::parse_from([
        "qr-bench",
        "--tiers",
        "tier-4,tier-0",
        "--modes",
        "single",
        "--engines",
        "article",
        "--quick",
        "--duration",
        "2s",
        "--warmup",
        "500ms",
        "--connections",
        "8",
        "--no-progress",
        "--out",
        out.to_str().expect("utf-8 temp dir"),
    ]);
    let (dir, all_measured) = qr_bench::run(&args).expect("the benchmark runs");
    assert_eq!(dir, out);

    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("results.json")).expect("results.json written"),
    )
    .expect("results.json is JSON");
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

    let report = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(report.contains("| tier-4 ") && report.contains("| tier-0 "));
    assert!(report.contains("Relative to tier-0"));
    let svg = std::fs::read_to_string(out.join("chart.svg")).expect("chart.svg");
    assert!(svg.starts_with("<svg"));
    std::fs::remove_dir_all(&out).ok();
}
