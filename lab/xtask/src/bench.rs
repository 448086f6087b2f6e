//! `cargo xtask bench`: builds every tier, then hands its options to the benchmark driver,
//! lab/qr-bench (`cargo xtask bench --help` prints the driver's options).

use std::process::Command;

use anyhow::Result;
use qr_harness::{paths, repo_root};

use crate::builds;
use crate::cmd::{Step, cargo, run};

/// Builds every tier and qr-bench, then runs qr-bench with `args`; `--help` only asks qr-bench.
pub fn bench(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return run(cargo(repo_root())
            .args(["run", "--quiet", "--release", "-p", "qr-bench", "--"])
            .args(args));
    }
    builds::all()?;
    let step = Step::start("build qr-bench");
    run(cargo(repo_root()).args(["build", "--quiet", "--release", "-p", "qr-bench"]))?;
    step.done();
    run(Command::new(paths::release_binary("qr-bench"))
        .args(args)
        .current_dir(repo_root()))
}
