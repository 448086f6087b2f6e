//! `cargo xtask test`: everything CI checks, in one pipeline (see [`test`]).

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use qr_harness::{paths, repo_root};

use crate::background::Background;
use crate::cmd::{Step, cargo, run};
use crate::{builds, dependency_invariants, fuzz, image, schemathesis};

/// Everything CI checks: formatting, lints, the build, every test (the conformance suite,
/// Schemathesis against every tier and the benchmark's own test included), and the core's
/// independence from any host.
///
/// What only later steps need runs in the background meanwhile, at the lowest priority (see
/// `background.rs`), each in its own target directory: clippy, the fuzz targets' build, and the
/// load generator when it is not installed yet, whose one user, the benchmark's test, then runs
/// near the end.
pub fn test() -> Result<()> {
    let root = repo_root();
    let step = Step::start("cargo fmt --check");
    run(cargo(root).args(["fmt", "--all", "--check"]))?;
    step.done();

    let fuzz_targets = fuzz::prepare_for_test(root)?;
    let load_generator = match qr_harness::tools::oha_install()? {
        Some(install) => Some(Background::start(
            "the load generator (oha, pinned) for the benchmark's test",
            paths::target_dir().join("oha-install.log"),
            vec![install],
        )?),
        None => None,
    };

    // `--all-features`: qr-core's `internals` (its stage bench) and qr-contract's `clap` are
    // linted and tested too. Its own target directory: a check shares no artifact with a build,
    // and cargo would otherwise make the builds wait for it.
    let mut clippy = cargo(root);
    clippy
        .args(["clippy", "--workspace", "--all-targets", "--all-features"])
        .arg("--target-dir")
        .arg(paths::target_dir().join("clippy"))
        .args(["--", "-D", "warnings"]);
    let lints = Background::start(
        "cargo clippy (all targets and features, warnings denied)",
        paths::target_dir().join("clippy/clippy.log"),
        vec![clippy],
    )?;

    builds::all()?;

    dependency_invariants::check(root)?;

    let step = Step::start("kubectl and the Python venv for the manifests' test (when missing)");
    qr_harness::tools::kubectl()?;
    qr_harness::python::venv()?;
    step.done();

    let step = Step::start("cargo test (unit, integration, conformance over HTTP, faults)");
    cargo_test(root, &["--workspace", "--exclude", "qr-bench"])?;
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

    let step = Step::start("Schemathesis: every tier held to its OpenAPI description");
    schemathesis::every_tier()?;
    step.done();

    // The image: built with Docker, its rules checked, the conformance suite run against it.
    image::image(true)?;

    if let Some(job) = load_generator {
        // A failed install is tried once more in the foreground, without `--locked` if need be.
        if let Err(error) = job.finish() {
            eprintln!("    {error:#}");
        }
    }
    let step = Step::start("the load generator for the benchmark's test (oha, pinned)");
    qr_harness::tools::oha()?;
    step.done();
    let step = Step::start("cargo test -p qr-bench (the benchmark, and a quick real run of it)");
    cargo_test(root, &["-p", "qr-bench"])?;
    step.done();

    lints.finish()?;
    fuzz::test(root, fuzz_targets)
}

/// `cargo test` of the packages `selection` names, with every feature and the ignored tests (they
/// need the builds, done by then).
fn cargo_test(root: &Path, selection: &[&str]) -> Result<()> {
    run(cargo(root)
        .arg("test")
        .args(selection)
        .args(["--all-features", "--", "--include-ignored"]))
}
