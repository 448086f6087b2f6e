//! One configuration's measurement: what one repeat measured ([`RunSample`], [`Measured`],
//! [`FixedRate`]) and the [`Row`] its repeats fold into (medians, spreads, summed counts), as
//! results.json's `rows` show it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Configuration;
use crate::stats::{median, spread};

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

#[cfg(test)]
mod tests {
    use qr_core::Engine;
    use qr_harness::{Stack, Tier};
    use serde_json::json;

    use super::*;
    use crate::model::fixtures::{cluster, cluster_on, sample, single};

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
        let tier4 = single(Tier::Tier4, Engine::Fast);
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
        // A stack other than the host's default is its own field; the tier stays the tier.
        let fastify = cluster_on(Tier::Tier3, Stack::Fastify, Some(Engine::Fast));
        let v = serde_json::to_value(Row::aggregate(fastify, &[sample(100.0, 10, 0)])).unwrap();
        assert_eq!(
            [&v["tier"], &v["stack"]],
            [&json!("tier-3"), &json!("fastify")]
        );
        assert_eq!(v.as_object().unwrap().len(), 22, "{v:#}");
    }
}
