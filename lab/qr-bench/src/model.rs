//! The benchmark's values, and nothing that runs or prints them: which server configurations a
//! run measures, one repeat's sample, the rows and results of the HTTP benchmark, and the
//! per-call results of `--calls`. The runner produces these; the report reads them.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;
use std::time::{SystemTime, UNIX_EPOCH};

use qr_core::Engine;
use qr_harness::{Host, Mode, ServerSpec, Tier};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::stats::{median, spread};

/// One benchmarked server configuration: the harness's [`ServerSpec`] on an ephemeral port,
/// which names a row by tier, mode and engine (`js` for tier-0, which has no Rust engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Configuration(ServerSpec);

impl Configuration {
    /// `tier` in `mode` with `engine` and `workers`, on a port picked at start.
    pub fn new(tier: Tier, mode: Mode, engine: Option<Engine>, workers: Option<usize>) -> Self {
        Configuration(ServerSpec {
            engine,
            workers,
            ..ServerSpec::new(tier, mode)
        })
    }

    /// The engine column: the Rust engine's name, or `js` for tier-0 and `py` for py-tier-0.
    pub fn engine_name(&self) -> &'static str {
        let pure = if self.0.tier.host() == Host::Python {
            "py"
        } else {
            "js"
        };
        self.0.engine.map_or(pure, Engine::name)
    }

    /// The label columns of every table: tier, mode, engine.
    pub fn names(&self) -> [&'static str; 3] {
        [self.0.tier.name(), self.0.mode.name(), self.engine_name()]
    }
}

impl Deref for Configuration {
    type Target = ServerSpec;

    fn deref(&self) -> &ServerSpec {
        &self.0
    }
}

/// `tier-4 single article`, `tier-0 cluster js`.
impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [tier, mode, engine] = self.names();
        write!(f, "{tier} {mode} {engine}")
    }
}

/// results.json's `tier`, `mode`, `engine` and `workers` of a row.
impl Serialize for Configuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let [tier, mode, engine] = self.names();
        let mut s = serializer.serialize_struct("Configuration", 4)?;
        s.serialize_field("tier", tier)?;
        s.serialize_field("mode", mode)?;
        s.serialize_field("engine", engine)?;
        s.serialize_field("workers", &self.0.workers)?;
        s.end()
    }
}

/// Expands tiers x modes x engines. Tier-0 and py-tier-0 run once per mode with no engine; the Rust
/// host's tiers are one multi-threaded process, so they run once per engine (reported as mode
/// "single"), and so does tier-3-async, whose point is one Node process on every core (with it,
/// the Node ceiling runs in single mode too).
/// Node and Python clusters get `workers` workers.
pub fn configurations(
    tiers: &[Tier],
    modes: &[Mode],
    engines: &[Engine],
    workers: usize,
) -> Vec<Configuration> {
    let mut out: Vec<Configuration> = Vec::new();
    for &tier in tiers {
        let mut tier_modes = if tier.has_modes() && tier != Tier::Tier3Async {
            modes.to_vec()
        } else {
            vec![Mode::Single]
        };
        // tier-3-async is one process: its share of the ceiling is against one process too.
        if tier == Tier::NodeCeiling && tiers.contains(&Tier::Tier3Async) {
            tier_modes.push(Mode::Single);
        }
        let tier_engines: Vec<Option<Engine>> = if !tier.uses_rust_core() {
            vec![None]
        } else {
            engines.iter().copied().map(Some).collect()
        };
        for &mode in &tier_modes {
            for &engine in &tier_engines {
                let cluster = tier.has_modes() && mode == Mode::Cluster;
                let configuration =
                    Configuration::new(tier, mode, engine, cluster.then_some(workers));
                if !out.contains(&configuration) {
                    out.push(configuration);
                }
            }
        }
    }
    out
}

/// A fixed-rate (open-loop) run's latency percentiles, free of coordinated omission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedRate {
    pub target_rps: f64,
    pub achieved_rps: f64,
    pub latency_p50_ms: f64,
    pub latency_p90_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_p99_9_ms: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
}

/// The measured columns of a row, or of one repeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Measured {
    /// 200 responses per second.
    pub requests_per_sec: f64,
    pub latency_mean_ms: f64,
    pub latency_p99_ms: f64,
    pub response_bytes_mean: f64,
    pub memory_rss_max_mb: f64,
    pub memory_pss_max_mb: f64,
    /// The anonymous part of that peak PSS (heaps, stacks); the rest is file-backed (the
    /// host's executable and libraries, counted once however many workers map them).
    pub memory_pss_anon_mb: f64,
    /// CPU seconds of the server's whole process tree during the measured window.
    pub cpu_seconds: f64,
    /// CPU seconds of the load generator (oha) during the measured window.
    pub loadgen_cpu_seconds: f64,
    /// CPU seconds of the server tree over its whole life (start, warm-up, measured window,
    /// stop), from the kernel's accounting when the bench reaps it: an upper bound that
    /// cross-checks `cpu_seconds`.
    pub server_life_cpu_seconds: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
}

type Column = (&'static str, fn(&Measured) -> f64);

impl Measured {
    /// The columns medians and spreads are taken of, by their JSON names.
    const COLUMNS: [Column; 10] = [
        ("requests_per_sec", |m| m.requests_per_sec),
        ("latency_mean_ms", |m| m.latency_mean_ms),
        ("latency_p99_ms", |m| m.latency_p99_ms),
        ("response_bytes_mean", |m| m.response_bytes_mean),
        ("memory_rss_max_mb", |m| m.memory_rss_max_mb),
        ("memory_pss_max_mb", |m| m.memory_pss_max_mb),
        ("memory_pss_anon_mb", |m| m.memory_pss_anon_mb),
        ("cpu_seconds", |m| m.cpu_seconds),
        ("loadgen_cpu_seconds", |m| m.loadgen_cpu_seconds),
        ("server_life_cpu_seconds", |m| m.server_life_cpu_seconds),
    ];

    /// Something was served and nothing failed.
    pub fn valid(&self) -> bool {
        self.requests_ok > 0 && self.requests_failed == 0
    }

    /// Server-tree CPU per 200 response, µs.
    pub fn cpu_us_per_request(&self) -> f64 {
        if self.requests_ok > 0 {
            self.cpu_seconds * 1e6 / self.requests_ok as f64
        } else {
            f64::NAN
        }
    }
}

/// One repeat of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSample {
    pub m: Measured,
    pub processes_max: usize,
    pub server_exit_ok: bool,
    pub fixed_rate: Option<FixedRate>,
}

/// One server configuration's measurement (the median over repeats).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Which server: `tier`, `mode`, `engine` and `workers` in results.json.
    #[serde(flatten)]
    pub configuration: Configuration,
    /// Medians over repeats; counts summed over repeats.
    #[serde(flatten)]
    pub m: Measured,
    /// No failed request and no non-200 in any repeat, and the run completed.
    pub valid: bool,
    /// Server-tree CPU per 200 response, µs.
    pub cpu_us_per_request: f64,
    /// Most processes seen in the server's tree at once.
    pub processes_max: usize,
    /// Every repeat's server exited 0 on SIGTERM.
    pub server_exit_ok: bool,
    pub repeats: usize,
    /// `[min, max]` per measured column, present with repeats > 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<BTreeMap<String, [f64; 2]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_rate: Option<FixedRate>,
    /// Why the row could not be measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Row {
    /// Folds repeats into one row: medians, `[min, max]` spreads, summed counts.
    pub fn aggregate(configuration: Configuration, runs: &[RunSample]) -> Row {
        let columns: Vec<(&str, Vec<f64>)> = Measured::COLUMNS
            .iter()
            .map(|(name, f)| (*name, runs.iter().map(|r| f(&r.m)).collect()))
            .collect();
        let med: BTreeMap<&str, f64> = columns.iter().map(|(k, v)| (*k, median(v))).collect();
        let m = Measured {
            requests_per_sec: med["requests_per_sec"],
            latency_mean_ms: med["latency_mean_ms"],
            latency_p99_ms: med["latency_p99_ms"],
            response_bytes_mean: med["response_bytes_mean"],
            memory_rss_max_mb: med["memory_rss_max_mb"],
            memory_pss_max_mb: med["memory_pss_max_mb"],
            memory_pss_anon_mb: med["memory_pss_anon_mb"],
            cpu_seconds: med["cpu_seconds"],
            loadgen_cpu_seconds: med["loadgen_cpu_seconds"],
            server_life_cpu_seconds: med["server_life_cpu_seconds"],
            requests_ok: runs.iter().map(|r| r.m.requests_ok).sum(),
            requests_failed: runs.iter().map(|r| r.m.requests_failed).sum(),
        };
        let cpu_us_per_request = median(
            &runs
                .iter()
                .map(|r| r.m.cpu_us_per_request())
                .collect::<Vec<_>>(),
        );
        let fixed: Vec<&FixedRate> = runs.iter().filter_map(|r| r.fixed_rate.as_ref()).collect();
        let fixed_rate = (!fixed.is_empty()).then(|| {
            let c =
                |f: fn(&FixedRate) -> f64| median(&fixed.iter().map(|x| f(x)).collect::<Vec<_>>());
            FixedRate {
                target_rps: c(|x| x.target_rps),
                achieved_rps: c(|x| x.achieved_rps),
                latency_p50_ms: c(|x| x.latency_p50_ms),
                latency_p90_ms: c(|x| x.latency_p90_ms),
                latency_p99_ms: c(|x| x.latency_p99_ms),
                latency_p99_9_ms: c(|x| x.latency_p99_9_ms),
                requests_ok: fixed.iter().map(|x| x.requests_ok).sum(),
                requests_failed: fixed.iter().map(|x| x.requests_failed).sum(),
            }
        });
        Row {
            configuration,
            m,
            valid: !runs.is_empty()
                && runs.iter().all(|r| r.m.valid())
                && fixed_rate.as_ref().is_none_or(|f| f.requests_failed == 0),
            cpu_us_per_request,
            processes_max: runs.iter().map(|r| r.processes_max).max().unwrap_or(0),
            server_exit_ok: runs.iter().all(|r| r.server_exit_ok),
            repeats: runs.len(),
            spread: (runs.len() > 1).then(|| {
                columns
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), spread(v)))
                    .collect()
            }),
            fixed_rate,
            error: None,
        }
    }

    /// A row that could not be measured (the server did not start, oha failed, ...).
    pub fn failed(configuration: Configuration, error: String) -> Row {
        Row {
            error: Some(error),
            ..Row::aggregate(configuration, &[])
        }
    }
}

/// What the benchmark ran on (results.json and calls.json `machine`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    /// Logical CPUs this process may run on.
    pub cores: usize,
    pub memory_mb: u64,
    pub kernel: String,
    pub rustc: String,
    pub node: String,
    pub oha: String,
    /// Whether qr-bench itself was built with optimizations (the `--calls` core timing needs it).
    pub qr_bench_release: bool,
}

/// The run's settings, as written to results.json.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub tiers: Vec<String>,
    pub modes: Vec<String>,
    pub engines: Vec<String>,
    pub workers: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub connections: usize,
    pub repeat: u32,
    pub quick: bool,
    /// Open-loop rate of the measured runs (`--rate`).
    pub rate: Option<f64>,
    /// Share of the peak for the extra fixed-rate runs (`--latency`).
    pub latency_share: Option<f64>,
    pub targets: Vec<String>,
    pub started_utc: String,
    /// How qr-bench was invoked.
    pub command_line: String,
    pub monitor_interval_ms: u64,
    pub load_generator: String,
}

/// Everything an HTTP run produces (results.json).
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub config: Config,
    pub rows: Vec<Row>,
    /// The core's cost per call for each engine, timed in-process in the same run: with the
    /// ceilings' rows, it splits each row's CPU per request into host, core and boundary.
    pub core: Vec<CallRow>,
}

/// One tier and engine's per-call cost (`--calls`); node/bench/calls.js prints the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRow {
    /// "core" for the Rust function called directly, else the Node tier module.
    pub tier: String,
    pub engine: String,
    #[serde(default)]
    pub calls: u64,
    #[serde(default = "nan")]
    pub median_us: f64,
    #[serde(default = "nan")]
    pub mean_us: f64,
    #[serde(default = "nan")]
    pub p90_us: f64,
    #[serde(default = "nan")]
    pub png_bytes_mean: f64,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn nan() -> f64 {
    f64::NAN
}

impl CallRow {
    /// A row for `tier` and `engine` that could not be timed.
    pub fn failed(tier: &str, engine: &str, source: &str, error: String) -> CallRow {
        CallRow {
            tier: tier.into(),
            engine: engine.into(),
            calls: 0,
            median_us: f64::NAN,
            mean_us: f64::NAN,
            p90_us: f64::NAN,
            png_bytes_mean: f64::NAN,
            source: source.into(),
            error: Some(error),
        }
    }
}

/// A criterion estimate found in cargo's target directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionRow {
    /// The benchmark id (its directory under `<target>/criterion`).
    pub id: String,
    pub median_us: f64,
    pub mean_us: f64,
    /// How old the estimate is, in seconds (criterion keeps the last run's).
    pub age_s: u64,
}

/// Everything `--calls` produces (calls.json).
#[derive(Debug, Clone, Serialize)]
pub struct CallsResults {
    pub machine: Machine,
    pub rounds: u32,
    pub targets: Vec<String>,
    pub rows: Vec<CallRow>,
    pub criterion: Vec<CriterionRow>,
    /// Where the criterion estimates were looked for, as shown to the reader.
    #[serde(skip)]
    pub criterion_dir: String,
}

/// `YYYYMMDDTHHMMSSZ` for a moment (UTC, proleptic Gregorian): output folders and
/// `started_utc`.
pub fn utc_stamp(time: SystemTime) -> String {
    let unix_secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    /// One repeat serving `ok` requests at `rps`, `failed` of them failed.
    pub(crate) fn sample(rps: f64, ok: u64, failed: u64) -> RunSample {
        RunSample {
            m: Measured {
                requests_per_sec: rps,
                latency_mean_ms: 1000.0 / rps,
                latency_p99_ms: 3000.0 / rps,
                response_bytes_mean: 778.0,
                memory_rss_max_mb: 100.0,
                memory_pss_max_mb: 60.0,
                memory_pss_anon_mb: 20.0,
                cpu_seconds: 2.0,
                loadgen_cpu_seconds: 0.5,
                server_life_cpu_seconds: 3.0,
                requests_ok: ok,
                requests_failed: failed,
            },
            processes_max: 3,
            server_exit_ok: true,
            fixed_rate: None,
        }
    }

    /// `tier` in cluster mode with two workers.
    pub(crate) fn cluster(tier: Tier, engine: Option<Engine>) -> Configuration {
        Configuration::new(tier, Mode::Cluster, engine, Some(2))
    }

    #[test]
    fn configurations_expand_like_the_article() {
        let all = configurations(Tier::ALL, &[Mode::Cluster], &[Engine::Article], 2);
        let labels: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            labels,
            [
                "tier-0 cluster js",
                "tier-1 cluster article",
                "tier-1-sidecar cluster article",
                "tier-2 cluster article",
                "tier-2-bindgen cluster article",
                "tier-3 cluster article",
                "tier-3-async single article",
                "tier-4 single article",
                "tier-4-nginx single article",
                "node-ceiling cluster article",
                "node-ceiling single article",
                "rust-ceiling single article",
                "py-tier-0 cluster py",
                "py-tier-1 cluster article",
                "py-tier-2 cluster article",
                "py-tier-3 cluster article",
                "py-ceiling cluster article",
            ]
        );
        assert_eq!(all[0].workers, Some(2));
        assert_eq!(all[6].workers, None, "tier-3-async: one process");
        assert_eq!(all[7].workers, None);
        assert_eq!(all[0].engine, None);
        assert!(all.iter().all(|c| c.port == 0));
        // Tier-4 runs once whatever the modes.
        let both = configurations(
            &[Tier::Tier4],
            &[Mode::Single, Mode::Cluster],
            &[Engine::Article],
            2,
        );
        assert_eq!(both.len(), 1);
    }

    #[test]
    fn aggregate_takes_medians_spreads_and_sums() {
        let runs = [
            sample(100.0, 1000, 0),
            sample(300.0, 3000, 0),
            sample(200.0, 2000, 0),
        ];
        let tier4 = cluster(Tier::Tier4, Some(Engine::Article));
        let row = Row::aggregate(tier4, &runs);
        assert_eq!(row.m.requests_per_sec, 200.0);
        assert_eq!(row.m.requests_ok, 6000);
        assert!(row.valid);
        assert_eq!(row.repeats, 3);
        assert_eq!(
            row.spread.as_ref().unwrap()["requests_per_sec"],
            [100.0, 300.0]
        );
        assert_eq!(row.cpu_us_per_request, 1000.0); // 2 s / 2000 requests
        let one = Row::aggregate(tier4, &runs[..1]);
        assert!(one.spread.is_none());
        let failed = Row::failed(tier4, "no server".into());
        assert!(!failed.valid && failed.m.requests_per_sec.is_nan());
    }

    #[test]
    fn any_failure_in_any_repeat_invalidates_the_row() {
        let tier1 = cluster(Tier::Tier1, Some(Engine::Article));
        let row = Row::aggregate(tier1, &[sample(100.0, 10, 0), sample(100.0, 10, 1)]);
        assert!(!row.valid);
        assert_eq!(row.m.requests_failed, 1);
        assert!(!Row::aggregate(tier1, &[sample(0.0, 0, 0)]).valid);
    }

    #[test]
    fn json_has_exactly_the_promised_fields() {
        let row = Row::aggregate(cluster(Tier::Tier0, None), &[sample(100.0, 10, 0)]);
        let v = serde_json::to_value(&row).unwrap();
        for (f, value) in [
            ("tier", json!("tier-0")),
            ("mode", json!("cluster")),
            ("engine", json!("js")),
            ("workers", json!(2)),
            ("requests_ok", json!(10)),
            ("valid", json!(true)),
            ("repeats", json!(1)),
        ] {
            assert_eq!(v[f], value, "{f}");
        }
        for f in [
            "requests_per_sec",
            "latency_mean_ms",
            "latency_p99_ms",
            "response_bytes_mean",
            "memory_rss_max_mb",
            "memory_pss_max_mb",
            "memory_pss_anon_mb",
            "cpu_seconds",
            "loadgen_cpu_seconds",
            "server_life_cpu_seconds",
            "requests_failed",
            "cpu_us_per_request",
            "processes_max",
            "server_exit_ok",
        ] {
            assert!(v.get(f).is_some(), "missing {f}");
        }
        assert_eq!(v.as_object().unwrap().len(), 21, "{v:#}");
        assert!(v.get("spread").is_none() && v.get("error").is_none());
        let tier4 = Configuration::new(Tier::Tier4, Mode::Single, Some(Engine::Fast), None);
        let v = serde_json::to_value(Row::aggregate(tier4, &[])).unwrap();
        assert_eq!(
            [&v["tier"], &v["mode"], &v["engine"], &v["workers"]],
            [
                &json!("tier-4"),
                &json!("single"),
                &json!("fast"),
                &json!(null)
            ]
        );
    }

    #[test]
    fn utc_stamps() {
        let at = |secs| utc_stamp(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_795_635_187), "20261125T193307Z");
    }
}
