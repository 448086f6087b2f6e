//! rusty-qr's front door: every multi-step job, with nothing to install by hand (Linux only: the
//! launcher and the benchmark read /proc and signal process groups).
//!
//! Run with `cargo xtask <build | serve TIER [...] | test | bench [...] | fuzz [...] | soak [...] |
//! image [--check] | cluster --hosts N>`;
//! `cargo xtask --help` lists them.

mod cluster;
mod cmd;
mod fuzz;
mod image;
mod node_build;
mod py_build;
mod soak;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use cmd::{Step, cargo, run};
use qr_contract::Engine;
use qr_harness::{Mode, ServerSpec, Tier, paths, repo_root};

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
    Serve(ServeArgs),
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
    /// Tier 4 as a container image, written without a registry or base image to
    /// target/image/qr-server.tar (`docker load -i` it); `test` builds and checks it too.
    Image {
        /// Also run it in Docker (the running engine, or a dockerd started for this) and pass the
        /// conformance suite against it with every engine.
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

/// What `serve` runs: a tier, or the playground's page (web/).
#[derive(Debug, Clone, Copy)]
enum Served {
    Tier(Tier),
    Web,
}

impl std::str::FromStr for Served {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "web" => Ok(Served::Web),
            _ => name
                .parse()
                .map(Served::Tier)
                .map_err(|err| format!("{err}, or web")),
        }
    }
}

/// The playground's default port: beside a tier's.
const WEB_PORT: u16 = 42070;
/// A tier's default port.
const TIER_PORT: u16 = 42069;

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// A tier (tier-0 ... tier-4-nginx, py-tier-0 ... py-tier-3, node-ceiling, rust-ceiling,
    /// py-ceiling), or `web`: the playground page, which makes QR codes in the browser and asks a
    /// running tier for the same.
    tier: Served,
    /// Node and Python tiers only: single | cluster.
    #[arg(long, default_value = "single")]
    mode: Mode,
    /// Cluster mode's worker count [default: the CPU count].
    #[arg(long)]
    workers: Option<usize>,
    /// The port on 127.0.0.1 [default: 42069; web: 42070].
    #[arg(long)]
    port: Option<u16>,
    /// The Rust engine, every tier but tier-0 [default: fast].
    #[arg(long)]
    engine: Option<Engine>,
}

impl ServeArgs {
    fn spec(&self, tier: Tier) -> ServerSpec {
        ServerSpec {
            workers: self.workers,
            port: self.port.unwrap_or(TIER_PORT),
            engine: self.engine,
            ..ServerSpec::new(tier, self.mode)
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Build => build(),
        Task::Serve(args) => match args.tier {
            Served::Tier(tier) => serve(&args.spec(tier)),
            Served::Web if args.engine.is_some() || args.workers.is_some() => {
                eprintln!("error: web takes only --port (the page picks the engine)");
                std::process::exit(2);
            }
            Served::Web => serve_web(args.port.unwrap_or(WEB_PORT)),
        },
        Task::Cluster(args) => cluster::cluster(&args),
        Task::Test => test(),
        Task::Bench { args } => bench(&args),
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
        } => build().and_then(|()| soak::soak(&soak::configurations(&tiers, mode), duration)),
        Task::Image { check } => image::image(check),
    };
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

/// Release builds of everything the tiers run.
fn build() -> Result<()> {
    let root = repo_root();
    check_node()?;
    release_build(root, &["qr-cli", "qr-server", "qr-nginx"])?;
    qr_harness::tools::nginx()?;
    npm_ci_if_stale(root)?;
    node_build::build_all(root)?;
    build_python(root)
}

/// The Python host's venv (from `requirements.lock`) with the py-tier-3 extension's wheel in it.
fn build_python(root: &Path) -> Result<()> {
    qr_harness::python::venv()?;
    py_build::build_wheel(root)?;
    Ok(())
}

/// Release builds of only what `tier` runs, for `serve`.
fn build_tier(tier: Tier) -> Result<()> {
    let root = repo_root();
    if tier.is_node() || tier == Tier::Tier4Nginx {
        check_node()?;
        npm_ci_if_stale(root)?;
    }
    match tier {
        Tier::Tier0 => Ok(()),
        Tier::Tier1 | Tier::Tier1Sidecar => release_build(root, &["qr-cli"]),
        Tier::Tier2 | Tier::Tier2Bindgen => node_build::build_wasm(root),
        Tier::Tier3 | Tier::Tier3Async | Tier::NodeCeiling => node_build::build_napi(root),
        Tier::Tier4 | Tier::RustCeiling => release_build(root, &["qr-server"]),
        Tier::Tier4Nginx => {
            qr_harness::tools::nginx()?;
            release_build(root, &["qr-server", "qr-nginx"])
        }
        Tier::PyTier0 => qr_harness::python::venv().map(drop),
        Tier::PyTier1 => {
            qr_harness::python::venv()?;
            release_build(root, &["qr-cli"])
        }
        Tier::PyTier2 => {
            qr_harness::python::venv()?;
            node_build::build_wasm(root)
        }
        Tier::PyTier3 | Tier::PyCeiling => build_python(root),
    }
}

/// `cargo build --release` of the binaries `packages`.
fn release_build(root: &Path, packages: &[&str]) -> Result<()> {
    let step = Step::start("release build of the Rust binaries");
    let mut command = cargo(root);
    command.args(["build", "--release"]);
    for package in packages {
        command.args(["-p", package]);
    }
    run(&mut command)?;
    step.done();
    Ok(())
}

/// Node.js 20 or newer and npm, or one line saying what to install.
fn check_node() -> Result<()> {
    let version = cmd::output(Command::new("node").arg("--version")).context(
        "Node.js 20 or newer is required: install Node.js 20 and npm, then run this again",
    )?;
    let version = version.trim();
    let numbers: Vec<u32> = version
        .trim_start_matches('v')
        .split('.')
        .map_while(|n| n.parse().ok())
        .collect();
    // node/package.json's engines field: express 5 and the lock file's packages need 20.17.
    if numbers.len() < 2 || (numbers[0], numbers[1]) < (20, 17) {
        bail!("Node.js {version} is too old: install Node.js 20.17 or newer");
    }
    cmd::output(Command::new("npm").arg("--version"))
        .context("npm is required: install npm (it comes with Node.js 20)")?;
    Ok(())
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
fn npm_ci_if_stale(root: &Path) -> Result<()> {
    let node = root.join("node");
    let lock = modified(&node.join("package-lock.json"))?;
    // npm writes this file on every install: its age is the install's age.
    let installed = modified(&node.join("node_modules/.package-lock.json")).ok();
    if installed.is_some_and(|installed| installed >= lock) {
        return Ok(());
    }
    let step = Step::start("npm ci (Node packages)");
    // npm's report goes to stderr: `serve` keeps stdout for the server's ready line alone.
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .stdout(std::io::stderr())
        .current_dir(&node))?;
    step.done();
    Ok(())
}

fn modified(path: &Path) -> Result<std::time::SystemTime> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("{} is missing", path.display()))?
        .modified()?)
}

/// Builds, then replaces this process with the tier's server, so that signals reach it
/// directly and its ready line and exit status are ours.
fn serve(spec: &ServerSpec) -> Result<()> {
    build_tier(spec.tier)?;
    let mut command = spec.command();
    eprintln!("serving {} ({} mode)", spec.tier, spec.mode);
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    Err(error).context("could not start the server")
}

/// Builds the Wasm module, then replaces this process with the playground's server (web/playground-server.js).
fn serve_web(port: u16) -> Result<()> {
    let root = repo_root();
    check_node()?;
    node_build::build_wasm(root)?;
    let mut command = Command::new("node");
    command
        .arg(root.join("web/playground-server.js"))
        .args(["--port", &port.to_string()]);
    eprintln!(
        "serving the playground: open it, and start a tier (cargo xtask serve tier-4) for its right-hand side"
    );
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    Err(error).context("could not start web/playground-server.js")
}

/// Everything CI checks: formatting, lints, the build, every test (the conformance suite
/// and the benchmark's own test included), and the core's independence from any host.
fn test() -> Result<()> {
    let root = repo_root();
    let step = Step::start("cargo fmt --check");
    run(cargo(root).args(["fmt", "--all", "--check"]))?;
    step.done();

    build()?;

    // `--all-features`: qr-core's `internals` (its stage bench) and qr-contract's `clap` are
    // linted and tested too.
    let step = Step::start("cargo clippy (all targets and features, warnings denied)");
    run(cargo(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    step.done();

    check_core_is_host_free(root)?;

    let step = Step::start("the load generator for the benchmark's test (oha, pinned)");
    qr_harness::tools::oha()?;
    step.done();

    let step = Step::start("kubectl and the Python venv for the manifests' test (when missing)");
    qr_harness::tools::kubectl()?;
    qr_harness::python::venv()?;
    step.done();

    let step = Step::start("cargo test (unit, integration, conformance over HTTP, bench harness)");
    run(cargo(root).args([
        "test",
        "--workspace",
        "--all-features",
        "--",
        "--include-ignored",
    ]))?;
    step.done();

    let step = Step::start("Chromium for the playground's test (Debian's package, when missing)");
    let chromium = qr_harness::tools::chromium()?;
    step.done();

    let step = Step::start("npm test (Node host, in-process tiers, the playground in Chromium)");
    run(Command::new("npm")
        .arg("test")
        .env("RUSTY_QR_CLI", paths::qr_cli())
        .env("RUSTY_QR_SERVER", paths::qr_server())
        .env("RUSTY_QR_CHROMIUM", chromium)
        .current_dir(root.join("node")))?;
    step.done();

    let step = Step::start("pytest (Python host: parsing, the app, each tier, the launcher)");
    run(qr_harness::python::venv()?
        .module("pytest")
        .args(["-q", "python/tests"])
        .env("PYTHONPATH", paths::python_host())
        .env("RUSTY_QR_CLI", paths::qr_cli())
        .env("RUSTY_QR_WASM", paths::node_build().join("qr_wasm.wasm"))
        .current_dir(root))?;
    step.done();

    // The image itself is built and its rules checked by cargo test (xtask's image tests).
    image::image(true)?;

    fuzz::test(root)
}

/// ARCHITECTURE.md's invariants on dependencies: qr-core depends on nothing host-, async- or
/// FFI-specific (it builds for bare wasm32, and no such crate is in its tree), qr-contract on
/// nothing, and xtask on no encoder (so `cargo xtask --help` compiles no image stack).
fn check_core_is_host_free(root: &Path) -> Result<()> {
    const HOST_CRATES: &[&str] = &[
        "napi",
        "wasm-bindgen",
        "js-sys",
        "tokio",
        "axum",
        "hyper",
        "libc",
        "anyhow",
        "web-sys",
    ];
    let step = Step::start("dependency invariants (qr-core host-free on wasm32, xtask light)");
    ensure_wasm_target(root)?;
    run(cargo(root).args([
        "build",
        "--quiet",
        "-p",
        "qr-core",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    forbid_in_tree(root, "qr-core", HOST_CRATES)?;
    forbid_in_tree(root, "qr-contract", &[""])?;
    forbid_in_tree(root, "xtask", &["qr-core", "image", "qrcode", "png"])?;
    step.done();
    Ok(())
}

/// Fails if the normal and build dependencies of `package` (not itself) include a crate whose
/// name starts with one of `forbidden` (`""` forbids every dependency).
fn forbid_in_tree(root: &Path, package: &str, forbidden: &[&str]) -> Result<()> {
    let tree = cmd::output(cargo(root).args([
        "tree",
        "-p",
        package,
        "--edges",
        "normal,build",
        "--target",
        "all",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]))?;
    for line in tree.lines().skip(1) {
        let name = line.split_whitespace().next().unwrap_or_default();
        if forbidden.iter().any(|prefix| name.starts_with(prefix)) {
            bail!("{package} must not depend on {name}, but it does:\n{tree}");
        }
    }
    Ok(())
}

/// The wasm32 target of the pinned toolchain, added through rustup when missing
/// (rustup does not always add a toolchain file's targets to an installed toolchain).
fn ensure_wasm_target(root: &Path) -> Result<()> {
    let sysroot = cmd::output(
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .current_dir(root),
    )?;
    if Path::new(sysroot.trim())
        .join("lib/rustlib/wasm32-unknown-unknown")
        .is_dir()
    {
        return Ok(());
    }
    run(Command::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .current_dir(root))
}

/// Builds every tier, then hands the options to the benchmark driver (`qr-bench`).
fn bench(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return run(cargo(repo_root())
            .args(["run", "--quiet", "--release", "-p", "qr-bench", "--"])
            .args(args));
    }
    build()?;
    let step = Step::start("build qr-bench");
    run(cargo(repo_root()).args(["build", "--quiet", "--release", "-p", "qr-bench"]))?;
    step.done();
    run(Command::new(paths::release_binary("qr-bench"))
        .args(args)
        .current_dir(repo_root()))
}
