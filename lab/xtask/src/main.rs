//! rusty-qr's front door: every multi-step job, with nothing to install by hand (Linux only: the
//! launcher and the benchmark read /proc and signal process groups). This file is the command
//! line and its dispatch; each task lives in the module of its name (builds.rs, serve.rs, test.rs,
//! ...), and cmd.rs runs their commands.
//!
//! Run with `cargo xtask <build | serve TIER [...] | test | bench [...] | fuzz [...] | soak [...] |
//! image [--check] | cluster --hosts N>`;
//! `cargo xtask --help` lists them.

mod background;
mod bench;
mod build_lock;
mod builds;
mod cluster;
mod cmd;
mod dependency_invariants;
mod docker;
mod fuzz;
mod image;
mod node_build;
mod py_build;
mod schemathesis;
mod serve;
mod soak;
mod test;

use std::time::Duration;

use clap::{Parser, Subcommand};
use qr_harness::{Mode, Tier, repo_root};

/// rusty-qr's tasks: build every tier, serve one, test everything, benchmark.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    after_help = "Exit status: 0 done, 1 a step failed (its command and status are shown), 2 usage error.\n\nExamples:\n  cargo xtask test\n  cargo xtask serve tier-3 --mode cluster --engine article\n  cargo xtask bench --quick"
)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Release builds of every tier: Rust binaries, the Wasm modules and their glue, the napi addon,
    /// the npm packages.
    Build,
    /// Build what one tier needs, then run it in the foreground (Ctrl-C stops it gracefully).
    Serve(serve::ServeArgs),
    /// N replicas of tier 4, each in its own network namespace, behind nginx (as root; Ctrl-C
    /// stops them and removes the namespaces).
    Cluster(cluster::ClusterArgs),
    /// fmt, clippy, build, every test, the image in Docker, and a few seconds of each fuzz
    /// target: what CI runs.
    Test,
    /// Build every tier, then benchmark them under load (`cargo xtask bench --help` lists its options).
    #[command(disable_help_flag = true)]
    Bench {
        /// Options for the benchmark driver, qr-bench.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build the libFuzzer targets of lab/fuzz/ (stable toolchain) and fuzz each for a bounded time.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        time: u64,
        /// Executions per target, however long they take (instead of --time).
        #[arg(long, conflicts_with = "time")]
        runs: Option<u64>,
        /// Only run each target on its regression inputs (lab/fuzz/regressions/<target>/).
        #[arg(long)]
        replay: bool,
        /// Targets to run [default: all of lab/fuzz/Cargo.toml's].
        targets: Vec<String>,
    },
    /// Build every tier, then run each under a long mixed load (the contract's cases), checking
    /// every answer and sampling its memory; prints a table. Not part of `test`.
    Soak {
        /// Time per tier after a 30 s warm-up: seconds, or with a unit (`90s`, `10m`).
        #[arg(long, default_value = "10m", value_parser = parse_duration)]
        duration: Duration,
        /// The Node and Python tiers' mode.
        #[arg(long, default_value = "single")]
        mode: Mode,
        /// Tiers to soak [default: every tier but the ceilings].
        tiers: Vec<Tier>,
    },
    /// Tier 4 as a container image: the static binary in `FROM scratch` (deploy/Dockerfile), built
    /// with Docker (the running engine, or a dockerd started for this) and saved to
    /// target/image/qr-server.tar; `test` builds and checks it too.
    Image {
        /// Also run it in Docker and pass the conformance suite against it with every engine.
        #[arg(long)]
        check: bool,
    },
}

/// `600`, `600s` or `10m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix('m') {
        Some(minutes) => (minutes, 60),
        None => (text.strip_suffix('s').unwrap_or(text), 1),
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n * unit)),
        _ => Err(format!("{text:?} is not a duration like 600, 90s or 10m")),
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Build => builds::all(),
        Task::Serve(args) => serve::serve(&args),
        Task::Cluster(args) => cluster::cluster(&args),
        Task::Test => test::test(),
        Task::Bench { args } => bench::bench(&args),
        Task::Fuzz {
            time,
            runs,
            replay,
            targets,
        } => {
            let budget = runs.map_or(fuzz::Budget::Seconds(time), fuzz::Budget::Runs);
            fuzz::fuzz(repo_root(), &targets, budget, replay)
        }
        Task::Soak {
            duration,
            mode,
            tiers,
        } => builds::all().and_then(|()| soak::soak(&soak::configurations(&tiers, mode), duration)),
        Task::Image { check } => image::image(check),
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
