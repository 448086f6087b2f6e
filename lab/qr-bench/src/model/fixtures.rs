//! Test values shared by the model's and the report's tests: repeats, configurations and rows.

use qr_core::Engine;
use qr_harness::{Mode, Tier};

use super::{Configuration, Measured, Row, RunSample};

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

/// `tier` in single mode with a Rust `engine`.
pub(crate) fn single(tier: Tier, engine: Engine) -> Configuration {
    Configuration::new(tier, Mode::Single, Some(engine), None)
}

/// tier-0 and tier-4 (article, and fast with one failed request: invalid), in cluster mode.
pub(crate) fn rows() -> Vec<Row> {
    vec![
        Row::aggregate(cluster(Tier::Tier0, None), &[sample(100.0, 10, 0)]),
        Row::aggregate(
            cluster(Tier::Tier4, Some(Engine::Article)),
            &[sample(400.0, 40, 0)],
        ),
        Row::aggregate(
            cluster(Tier::Tier4, Some(Engine::Fast)),
            &[sample(4000.0, 40, 1)],
        ),
    ]
}
