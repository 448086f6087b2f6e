//! Test values shared by the model's and the report's tests: repeats, configurations, rows and
//! a whole run's results.

use qr_core::Engine;
use qr_harness::{Mode, Stack, Tier};

use super::{Config, Configuration, Machine, Measured, Results, Row, RunSample, Workload};

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

/// `tier` on its host's default stack in cluster mode with two workers.
pub(crate) fn cluster(tier: Tier, engine: Option<Engine>) -> Configuration {
    cluster_on(tier, tier.host().default_stack(), engine)
}

/// `tier` on `stack` in cluster mode with two workers.
pub(crate) fn cluster_on(tier: Tier, stack: Stack, engine: Option<Engine>) -> Configuration {
    Configuration::new(tier, stack, Mode::Cluster, engine, Some(2))
}

/// `tier` on its host's default stack in single mode with a Rust `engine`.
pub(crate) fn single(tier: Tier, engine: Engine) -> Configuration {
    Configuration::new(
        tier,
        tier.host().default_stack(),
        Mode::Single,
        Some(engine),
        None,
    )
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

/// A two-CPU machine.
pub(crate) fn machine() -> Machine {
    Machine {
        cpu_model: "cpu".into(),
        cores: 2,
        memory_mb: 1,
        kernel: "6".into(),
        rustc: "rustc".into(),
        node: "v20".into(),
        oha: "oha 1.16.0".into(),
        qr_bench_release: true,
    }
}

/// A run of [`rows`] with `workload` over two target texts.
pub(crate) fn results(workload: Workload) -> Results {
    Results {
        machine: machine(),
        config: Config {
            tiers: vec!["tier-0".into(), "tier-4".into()],
            stacks: Vec::new(),
            modes: vec!["cluster".into()],
            engines: vec!["article".into(), "fast".into()],
            workers: 2,
            duration_s: 30.0,
            warmup_s: 5.0,
            connections: 100,
            repeat: 1,
            quick: false,
            rate: None,
            latency_share: None,
            targets: vec!["hello".into(), "https://tourofrust.com".into()],
            workload,
            option_sets: workload.option_set_labels(),
            started_utc: "20260101T000000Z".into(),
            command_line: "qr-bench".into(),
            monitor_interval_ms: 150,
            load_generator: "oha 1.16.0 (closed loop unless --rate)".into(),
        },
        rows: rows(),
        core: Vec::new(),
    }
}
