//! What a run produces, as written: the machine it ran on, the HTTP run's settings and
//! [`Results`] (results.json), and `--calls`' per-call costs and [`CallsResults`] (calls.json).

use serde::{Deserialize, Serialize};

use super::{Row, Workload};

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
    /// The stacks `--stacks` listed; none (and no field) when each host ran on its default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stacks: Vec<String>,
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
    /// What the requests ask for: `default` (each target alone) or `options`.
    pub workload: Workload,
    /// The options workload's option sets, each sent with every target (none by default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub option_sets: Vec<String>,
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

/// One tier, engine and workload's per-call cost (`--calls`); the timers in
/// lab/qr-bench/call-timers/ print the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRow {
    /// "core" for the Rust function called directly, else the Node or Python tier module.
    pub tier: String,
    pub engine: String,
    /// The calls timed: the requests of this workload ([`Workload::name`]).
    pub workload: String,
    #[serde(default)]
    pub calls: u64,
    #[serde(default = "nan")]
    pub median_us: f64,
    #[serde(default = "nan")]
    pub mean_us: f64,
    #[serde(default = "nan")]
    pub p90_us: f64,
    /// Mean bytes of the images returned (PNG or SVG).
    #[serde(default = "nan")]
    pub image_bytes_mean: f64,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn nan() -> f64 {
    f64::NAN
}

impl CallRow {
    /// A row for `tier`, `engine` and `workload` that could not be timed.
    pub fn failed(
        tier: &str,
        engine: &str,
        workload: &str,
        source: &str,
        error: String,
    ) -> CallRow {
        CallRow {
            tier: tier.into(),
            engine: engine.into(),
            workload: workload.into(),
            calls: 0,
            median_us: f64::NAN,
            mean_us: f64::NAN,
            p90_us: f64::NAN,
            image_bytes_mean: f64::NAN,
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
    /// The option sets of the rows whose workload is `options`, each with every target.
    pub option_sets: Vec<String>,
    pub rows: Vec<CallRow>,
    pub criterion: Vec<CriterionRow>,
    /// Where the criterion estimates were looked for, as shown to the reader.
    #[serde(skip)]
    pub criterion_dir: String,
}
