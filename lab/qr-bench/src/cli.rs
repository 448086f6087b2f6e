//! The command line: what a run is asked to do. `cargo xtask bench` forwards its options here
//! verbatim.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use qr_core::Engine;
use qr_harness::{Mode, Stack, Tier};

use crate::model::Workload;

/// rusty-qr's HTTP benchmark: every tier under the same load, with the whole process tree's
/// CPU and memory; or, with --calls, the cost of each boundary per call.
#[derive(Debug, Clone, Parser)]
#[command(name = "qr-bench", version)]
pub struct Args {
    /// Tiers to run, comma-separated [default: every tier: tier-0,...,tier-4].
    #[arg(long, value_delimiter = ',')]
    pub tiers: Vec<Tier>,
    /// HTTP stacks, comma-separated (express, fastify, axum, gunicorn, granian): each tier runs on
    /// every listed stack of its host, or on its host's default if none is listed [default: each
    /// host's default: express, axum, gunicorn].
    #[arg(long, value_delimiter = ',', conflicts_with = "calls")]
    pub stacks: Vec<Stack>,
    /// Node and Python host modes, comma-separated (tier-4 is one process and runs once).
    #[arg(long, value_delimiter = ',', default_value = "cluster")]
    pub modes: Vec<Mode>,
    /// Rust engines, comma-separated [default: every engine]. Tier-0 is pure JS ("js"),
    /// py-tier-0 pure Python ("py").
    #[arg(long, visible_alias = "engine", value_delimiter = ',')]
    pub engines: Vec<Engine>,
    /// Cluster workers [default: the CPU count].
    #[arg(long, value_parser = parse_count)]
    pub workers: Option<usize>,
    /// Measured load per run, e.g. 30, 30s, 500ms, 2m [default: 30s; 3s with --quick].
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Warm-up load before each measured run [default: 5s; 1s with --quick].
    #[arg(long, value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 100, value_parser = parse_count)]
    pub connections: usize,
    /// Runs per configuration (a fresh server each); the tables show medians and min-max.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// A smoke run: a few seconds per configuration.
    #[arg(long)]
    pub quick: bool,
    /// Output directory [default: target/bench/<UTC timestamp>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Open loop at R req/s (oha -q R --latency-correction) instead of the closed loop:
    /// latency percentiles free of coordinated omission.
    #[arg(long, conflicts_with = "latency", value_parser = parse_positive)]
    pub rate: Option<f64>,
    /// After each closed-loop run, a fixed-rate run at --latency-share of the peak it measured.
    #[arg(long)]
    pub latency: bool,
    /// The share of the measured peak that --latency runs at.
    #[arg(long, default_value_t = 0.5, value_parser = parse_share)]
    pub latency_share: f64,
    /// Measure the cost of each boundary per call (in-process), not HTTP: every tier and engine
    /// over each workload's requests, without options and with them.
    #[arg(long)]
    pub calls: bool,
    /// --calls: rounds over a workload's requests per tier, engine and workload (each capped at
    /// about 3 s).
    #[arg(long, default_value_t = 200)]
    pub calls_rounds: u32,
    /// The target texts, one a line [default: contract/article-texts.txt].
    #[arg(long)]
    pub targets: Option<PathBuf>,
    /// What the requests ask for: each target text alone (default), or each with each of the
    /// options workload's six option sets (options). --calls times both.
    #[arg(long, value_enum, default_value_t, conflicts_with = "calls")]
    pub workload: Workload,
    /// No progress bar (plain lines on stderr instead).
    #[arg(long)]
    pub no_progress: bool,
}

fn parse_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number >= 1, got {s:?}")),
    }
}

fn parse_positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a number > 0, got {s:?}")),
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    match parse_positive(s) {
        Ok(v) if v <= 1.0 => Ok(v),
        _ => Err(format!("expected a share in (0, 1], got {s:?}")),
    }
}

/// Seconds as a plain number, or with a unit: `ms`, `s`, `m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let secs: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (e.g. 30, 30s, 500ms, 2m)"))?;
    Duration::try_from_secs_f64(secs * scale).map_err(|e| format!("{s:?}: {e}"))
}

impl Args {
    /// The tiers to run (all when none was given).
    pub fn tiers(&self) -> Vec<Tier> {
        if self.tiers.is_empty() {
            Tier::ALL.to_vec()
        } else {
            self.tiers.clone()
        }
    }

    /// The engines to run (all when none was given).
    pub fn engines(&self) -> Vec<Engine> {
        if self.engines.is_empty() {
            Engine::ALL.to_vec()
        } else {
            self.engines.clone()
        }
    }

    /// The target texts' file (`contract/article-texts.txt` unless given).
    pub fn targets_path(&self) -> PathBuf {
        self.targets
            .clone()
            .unwrap_or_else(|| qr_harness::repo_root().join("contract/article-texts.txt"))
    }

    /// The measured load per run.
    pub fn duration(&self) -> Duration {
        self.duration
            .unwrap_or(Duration::from_secs(if self.quick { 3 } else { 30 }))
    }

    /// The warm-up load before each measured run.
    pub fn warmup(&self) -> Duration {
        self.warmup
            .unwrap_or(Duration::from_secs(if self.quick { 1 } else { 5 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtask_options_parse_verbatim() {
        let a = Args::try_parse_from([
            "qr-bench",
            "--tiers",
            "tier-4,tier-0",
            "--modes",
            "single,cluster",
            "--engines",
            "article",
            "--duration",
            "5s",
            "--connections",
            "10",
            "--warmup",
            "500ms",
            "--repeat",
            "3",
            "--quick",
            "--out",
            "/tmp/x",
            "--rate",
            "100",
            "--workload",
            "options",
        ])
        .unwrap();
        assert_eq!(a.workload, Workload::Options);
        assert_eq!(a.tiers(), vec![Tier::Tier4, Tier::Tier0]);
        assert_eq!(a.modes, vec![Mode::Single, Mode::Cluster]);
        assert_eq!(a.duration(), Duration::from_secs(5));
        assert_eq!(a.warmup(), Duration::from_millis(500));
        assert_eq!((a.connections, a.repeat, a.rate), (10, 3, Some(100.0)));
    }

    #[test]
    fn defaults_and_quick() {
        let a = Args::try_parse_from(["qr-bench"]).unwrap();
        assert_eq!(a.tiers(), Tier::ALL.to_vec());
        assert_eq!(a.engines(), Engine::ALL.to_vec());
        assert_eq!(a.modes, vec![Mode::Cluster]);
        assert_eq!(a.workload, Workload::Default);
        assert_eq!(
            (a.duration(), a.warmup()),
            (Duration::from_secs(30), Duration::from_secs(5))
        );
        let q = Args::try_parse_from(["qr-bench", "--quick"]).unwrap();
        assert_eq!(
            (q.duration(), q.warmup()),
            (Duration::from_secs(3), Duration::from_secs(1))
        );
    }

    #[test]
    fn stacks_are_a_list_of_names() {
        let a = Args::try_parse_from(["qr-bench", "--stacks", "express,fastify,granian"]).unwrap();
        assert_eq!(a.stacks, [Stack::Express, Stack::Fastify, Stack::Granian]);
        let none = Args::try_parse_from(["qr-bench"]).unwrap();
        assert!(none.stacks.is_empty(), "each host's default");
        let err = Args::try_parse_from(["qr-bench", "--stacks", "express,koa"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "unknown stack \"koa\" (expected one of: express, fastify, axum, gunicorn, granian)"
            ),
            "{err}"
        );
        // --calls times the tiers in-process: no HTTP stack.
        assert!(Args::try_parse_from(["qr-bench", "--calls", "--stacks", "fastify"]).is_err());
    }

    #[test]
    fn bad_names_and_durations_are_rejected() {
        assert!(Args::try_parse_from(["qr-bench", "--tiers", "tier-9"]).is_err());
        assert!(Args::try_parse_from(["qr-bench", "--engines", "slow"]).is_err());
        assert!(Args::try_parse_from(["qr-bench", "--repeat", "0"]).is_err());
        assert!(Args::try_parse_from(["qr-bench", "--rate", "5", "--latency"]).is_err());
        assert!(Args::try_parse_from(["qr-bench", "--rate", "0"]).is_err());
        assert!(Args::try_parse_from(["qr-bench", "--connections", "0"]).is_err());
        assert!(Args::try_parse_from(["qr-bench", "--latency-share", "1.5"]).is_err());
        assert!(Args::try_parse_from(["qr-bench", "--workload", "heavy"]).is_err());
        // --calls times every workload: asking for one is a mistake.
        assert!(Args::try_parse_from(["qr-bench", "--calls", "--workload", "options"]).is_err());
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1").is_err());
    }
}
