//! The load generator: oha 1.16 (installed once into the tool cache by `qr_harness::tools`),
//! its command line and its JSON report.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

/// The pinned oha version (installed by `qr_harness::tools::oha`).
pub const OHA_VERSION: &str = qr_harness::tools::OHA.1;

/// oha's error string for requests cut off when `-z` ends (not used with `-w`, kept harmless).
const DEADLINE_ERROR: &str = "aborted due to deadline";

/// One request URL per query (a workload's, percent-encoded): `http://ADDR/qrcode?QUERY`.
pub fn target_urls(addr: std::net::SocketAddr, queries: &[String]) -> Vec<String> {
    queries
        .iter()
        .map(|query| format!("http://{addr}/qrcode?{query}"))
        .collect()
}

/// One oha run's settings.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub duration: Duration,
    pub connections: usize,
    /// `Some(r)`: open loop at r req/s with oha's latency correction; `None`: closed loop.
    pub rate: Option<f64>,
}

/// The oha command: `--urls-from-file FILE -z Ns -c C -w --no-tui --output-format json`
/// (`-w` waits for in-flight requests at the deadline instead of counting them as errors).
pub fn command(oha: &Path, urls_file: &Path, spec: &LoadSpec) -> Command {
    let mut cmd = Command::new(oha);
    cmd.arg("--urls-from-file")
        .arg(urls_file)
        .arg("-z")
        .arg(format!("{}ms", spec.duration.as_millis()))
        .arg("-c")
        .arg(spec.connections.to_string())
        .args(["-w", "--no-tui", "--output-format", "json"]);
    if let Some(rate) = spec.rate {
        cmd.arg("-q")
            .arg(format!("{rate:.3}"))
            .arg("--latency-correction");
    }
    cmd
}

/// The parts of oha's `--output-format json` report we use. Times are in seconds.
#[derive(Deserialize)]
struct OhaJson {
    summary: Summary,
    #[serde(rename = "latencyPercentiles")]
    latency_percentiles: BTreeMap<String, Option<f64>>,
    #[serde(rename = "statusCodeDistribution")]
    status_code_distribution: BTreeMap<String, u64>,
    #[serde(rename = "errorDistribution")]
    error_distribution: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct Summary {
    /// Wall time of the run, s.
    total: f64,
    /// Mean latency, s (null when nothing succeeded).
    average: Option<f64>,
    #[serde(rename = "totalData")]
    total_data: u64,
}

/// A load run, reduced to what the model needs.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadResult {
    /// Responses with status 200 per second of the run.
    pub requests_per_sec: f64,
    pub latency_mean_ms: f64,
    pub latency_p50_ms: f64,
    pub latency_p90_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_p99_9_ms: f64,
    /// Mean body bytes of the 200 responses.
    pub response_bytes_mean: f64,
    /// Requests answered 200.
    pub requests_ok: u64,
    /// Requests with a transport error or any status other than 200.
    pub requests_failed: u64,
}

fn pct_ms(map: &BTreeMap<String, Option<f64>>, key: &str) -> f64 {
    map.get(key)
        .copied()
        .flatten()
        .map_or(f64::NAN, |s| s * 1e3)
}

/// Parses oha's JSON report.
pub fn parse(json: &str) -> Result<LoadResult> {
    let j: OhaJson = serde_json::from_str(json).context("parsing oha's JSON output")?;
    let ok = j.status_code_distribution.get("200").copied().unwrap_or(0);
    let other_status: u64 = j
        .status_code_distribution
        .iter()
        .filter(|(k, _)| *k != "200")
        .map(|(_, v)| v)
        .sum();
    let errors: u64 = j
        .error_distribution
        .iter()
        .filter(|(k, _)| *k != DEADLINE_ERROR)
        .map(|(_, v)| v)
        .sum();
    let duration = j.summary.total;
    Ok(LoadResult {
        requests_per_sec: if duration > 0.0 {
            ok as f64 / duration
        } else {
            0.0
        },
        latency_mean_ms: j.summary.average.map_or(f64::NAN, |s| s * 1e3),
        latency_p50_ms: pct_ms(&j.latency_percentiles, "p50"),
        latency_p90_ms: pct_ms(&j.latency_percentiles, "p90"),
        latency_p99_ms: pct_ms(&j.latency_percentiles, "p99"),
        latency_p99_9_ms: pct_ms(&j.latency_percentiles, "p99.9"),
        // oha's totalData sums the bodies of every response; in a valid run all are 200.
        response_bytes_mean: if ok + other_status > 0 {
            j.summary.total_data as f64 / (ok + other_status) as f64
        } else {
            f64::NAN
        },
        requests_ok: ok,
        requests_failed: other_status + errors,
    })
}

#[cfg(test)]
mod tests {
    use qr_harness::http::percent_encode;

    use super::*;
    use crate::model::Workload;

    /// Captured from oha 1.16.0 (`-z 1s -c 4 -w --output-format json`) against tier-4.
    const SAMPLE: &str = include_str!("../../tests/data/oha-1.16.0-sample.json");

    #[test]
    fn parses_a_captured_report() {
        let r = parse(SAMPLE).unwrap();
        assert_eq!(r.requests_ok, 2892);
        assert_eq!(r.requests_failed, 0);
        assert!(r.requests_per_sec > 0.0);
        assert!(r.latency_p50_ms <= r.latency_p99_ms);
        assert!(r.latency_p99_ms <= r.latency_p99_9_ms);
        assert_eq!(r.response_bytes_mean, 2251311.0 / 2892.0);
        assert!((r.requests_per_sec - 2892.0 / 1.003975257).abs() < 1e-9);
        assert!((r.latency_p99_ms - 4.246514).abs() < 1e-9);
    }

    #[test]
    fn non_200_and_errors_count_as_failed_but_deadline_aborts_do_not() {
        let json = r#"{"summary":{"successRate":1.0,"total":2.0,"slowest":0.1,"fastest":0.001,
            "average":0.01,"requestsPerSec":60.0,"totalData":7780,"sizePerRequest":778,"sizePerSec":1.0},
            "latencyPercentiles":{"p50":0.01,"p90":0.02,"p99":0.05,"p99.9":0.09},
            "statusCodeDistribution":{"200":100,"503":7},
            "errorDistribution":{"aborted due to deadline":3,"connection closed":2}}"#;
        let r = parse(json).unwrap();
        assert_eq!(r.requests_ok, 100);
        assert_eq!(r.requests_failed, 9);
        assert_eq!(r.requests_per_sec, 50.0);
        assert_eq!(r.latency_mean_ms, 10.0);
        assert_eq!(r.latency_p99_9_ms, 90.0);
    }

    #[test]
    fn an_empty_run_parses() {
        let json = r#"{"summary":{"successRate":null,"total":1.0,"slowest":null,"fastest":null,
            "average":null,"requestsPerSec":0.0,"totalData":0,"sizePerRequest":null,"sizePerSec":0.0},
            "latencyPercentiles":{"p50":null,"p99":null},
            "statusCodeDistribution":{},"errorDistribution":{"connection refused":5}}"#;
        let r = parse(json).unwrap();
        assert_eq!((r.requests_ok, r.requests_failed), (0, 5));
        assert!(r.latency_p99_ms.is_nan());
    }

    #[test]
    fn urls_encode_every_reserved_byte() {
        assert_eq!(
            percent_encode(b"https://youtu.be/cE0wfjsybIQ?t=74"),
            "https%3A%2F%2Fyoutu.be%2FcE0wfjsybIQ%3Ft%3D74"
        );
        assert_eq!(percent_encode("a b+ü".as_bytes()), "a%20b%2B%C3%BC");
        // The default workload's URLs, byte for byte as before workloads existed.
        let addr = "127.0.0.1:8080".parse().unwrap();
        let queries = Workload::Default.queries(&["x&y".into()]);
        assert_eq!(
            target_urls(addr, &queries),
            vec!["http://127.0.0.1:8080/qrcode?text=x%26y"]
        );
        let queries = Workload::Options.queries(&["x&y".into()]);
        assert_eq!(
            target_urls(addr, &queries)[1],
            "http://127.0.0.1:8080/qrcode?text=x%26y&ecLevel=H"
        );
    }

    #[test]
    fn command_has_open_loop_flags_only_with_a_rate() {
        let spec = LoadSpec {
            duration: Duration::from_secs(3),
            connections: 10,
            rate: None,
        };
        let args = |c: &Command| {
            c.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        let closed = args(&command(Path::new("oha"), Path::new("u.txt"), &spec));
        assert!(closed.contains(&"--urls-from-file".to_owned()));
        assert!(closed.contains(&"3000ms".to_owned()));
        assert!(!closed.contains(&"--latency-correction".to_owned()));
        let open = args(&command(
            Path::new("oha"),
            Path::new("u.txt"),
            &LoadSpec {
                rate: Some(250.0),
                ..spec
            },
        ));
        assert!(open.contains(&"--latency-correction".to_owned()));
        assert!(open.contains(&"250.000".to_owned()));
    }
}
