//! `cargo xtask build` and the builds other tasks share: the release builds of every tier (Rust
//! binaries, node_build.rs's Wasm and napi outputs, py_build.rs's wheel), only what one tier needs
//! for `serve`, and what those builds check first (Node.js and npm, the npm packages, the wasm32
//! target).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use qr_harness::{Tier, repo_root};

use crate::build_lock::BuildLock;
use crate::cmd::{self, Step, cargo, run};
use crate::node_build::{self, WASM_TARGET};
use crate::py_build;

/// Release builds of everything the tiers run.
pub fn all() -> Result<()> {
    let root = repo_root();
    let _one_at_a_time = BuildLock::acquire("builds")?;
    check_node()?;
    release(root, &["qr-cli", "qr-server", "qr-nginx"])?;
    qr_harness::tools::nginx()?;
    npm_ci_if_stale(root)?;
    node_build::build_all(root)?;
    python(root)
}

/// The Python host's venv (from `requirements.lock`) with the py-tier-3 extension's wheel in it.
fn python(root: &Path) -> Result<()> {
    qr_harness::python::venv()?;
    py_build::build_wheel(root)?;
    Ok(())
}

/// Release builds of only what `tier` runs, for `serve`.
pub fn tier(tier: Tier) -> Result<()> {
    let root = repo_root();
    let _one_at_a_time = BuildLock::acquire("builds")?;
    if tier.is_node() || tier == Tier::Tier4Nginx {
        check_node()?;
        npm_ci_if_stale(root)?;
    }
    match tier {
        Tier::Tier0 => Ok(()),
        Tier::Tier1 | Tier::Tier1Sidecar => release(root, &["qr-cli"]),
        Tier::Tier2 | Tier::Tier2Bindgen => node_build::build_wasm(root),
        Tier::Tier3 | Tier::Tier3Async | Tier::NodeCeiling => node_build::build_napi(root),
        Tier::Tier4 | Tier::RustCeiling => release(root, &["qr-server"]),
        Tier::Tier4Nginx => {
            qr_harness::tools::nginx()?;
            release(root, &["qr-server", "qr-nginx"])
        }
        Tier::PyTier0 => qr_harness::python::venv().map(drop),
        Tier::PyTier1 => {
            qr_harness::python::venv()?;
            release(root, &["qr-cli"])
        }
        Tier::PyTier2 => {
            qr_harness::python::venv()?;
            node_build::build_wasm(root)
        }
        Tier::PyTier3 | Tier::PyCeiling => python(root),
    }
}

/// What the playground needs: the Wasm module its page loads.
pub fn web() -> Result<()> {
    let _one_at_a_time = BuildLock::acquire("builds")?;
    check_node()?;
    node_build::build_wasm(repo_root())
}

/// `cargo build --release` of the binaries `packages`.
pub fn release(root: &Path, packages: &[&str]) -> Result<()> {
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
pub fn check_node() -> Result<()> {
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
pub fn npm_ci_if_stale(root: &Path) -> Result<()> {
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

/// The wasm32 target of the pinned toolchain, added through rustup when missing
/// (rustup does not always add a toolchain file's targets to an installed toolchain).
pub fn ensure_wasm_target(root: &Path) -> Result<()> {
    let sysroot = cmd::output(
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .current_dir(root),
    )?;
    if Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir()
    {
        return Ok(());
    }
    run(Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(root))
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    #[ignore = "needs the npm packages (`cargo xtask build`); run by `cargo xtask test`"]
    fn a_tiers_build_waits_while_another_build_holds_the_lock() {
        let held = BuildLock::acquire("builds").unwrap();
        let (done, finished) = mpsc::channel();
        let build = std::thread::spawn(move || {
            let result = tier(Tier::Tier0);
            done.send(()).unwrap();
            result
        });
        assert!(
            finished.recv_timeout(Duration::from_millis(500)).is_err(),
            "the build ran while another held the lock"
        );
        drop(held);
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("the build ran once the lock was free");
        build.join().unwrap().unwrap();
    }
}
