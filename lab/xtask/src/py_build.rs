//! `cargo xtask build`'s part for py-tier-3: crates/qr-py's wheel, built by maturin into
//! `<target dir>/wheels/` and installed into the project's venv (`<target dir>/venv`, made from
//! `requirements.lock`, which pins maturin). Run with `cargo xtask build` (builds.rs calls
//! [`build_wheel`]).
//!
//! The wheel is `qr_py-<version>-cp311-abi3-<platform>.whl`: abi3, so one build serves every
//! CPython >= 3.11. It is reproducible (crates/qr-py/pyproject.toml turns maturin's SBOM, with its
//! timestamp, off), so "nothing changed" is cheap to see: cargo finds nothing to compile, maturin
//! writes the same bytes, and the venv's stamp holding the installed wheel's SHA-256 says it is in
//! already; pip then is not run (~1.5 s saved). A venv made anew (the lock changed) has no stamp
//! and gets the wheel again.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use qr_harness::paths;
use qr_harness::python::Venv;

use crate::cmd::{Step, output, run};

/// The extension crate's manifest, relative to the repository root.
pub const MANIFEST: &str = "crates/qr-py/Cargo.toml";

/// The wheel's distribution name as it starts a wheel's file name (PEP 427: `-` becomes `_`).
const WHEEL_PREFIX: &str = "qr_py-";

/// Written into the venv once the wheel is installed: `<sha256> <file name>` of that wheel.
const STAMP: &str = "rusty-qr-qr_py.wheel";

/// Builds crates/qr-py's wheel (release) into `<target dir>/wheels/` and installs it into the venv
/// unless that very wheel is installed already; returns the wheel's path. Fails unless the
/// installed module imports and makes a PNG.
pub fn build_wheel(root: &Path) -> Result<PathBuf> {
    let venv = qr_harness::python::venv()?;
    let out = paths::target_dir().join("wheels");
    let step = Step::start("release build of qr-py (the py-tier-3 wheel, maturin)");
    // Only the wheel built now is left, so there is exactly one to install.
    remove_wheels(&out)?;
    run(venv
        .module("maturin")
        .current_dir(root)
        .args(["build", "--release", "-m", MANIFEST, "--interpreter"])
        .arg(venv.python())
        .arg("-o")
        .arg(&out))?;
    let wheel = the_wheel(&out)?;
    let stamp = stamp_of(&wheel)?;
    let stamp_path = venv.dir().join(STAMP);
    if fs::read_to_string(&stamp_path).is_ok_and(|installed| installed == stamp)
        && smoke_test(&venv).is_ok()
    {
        eprintln!("    {} is installed already", paths::shown(&wheel));
        step.done();
        return Ok(wheel);
    }
    // No stamp while pip runs: an interrupted install is redone next time.
    remove_file_if_present(&stamp_path)?;
    run(venv
        .module("pip")
        .args([
            "install",
            "--force-reinstall",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
        ])
        .arg(&wheel))?;
    smoke_test(&venv)?;
    fs::write(&stamp_path, &stamp)
        .with_context(|| format!("cannot write {}", stamp_path.display()))?;
    eprintln!(
        "    installed {} into {}",
        paths::shown(&wheel),
        paths::shown(venv.dir())
    );
    step.done();
    Ok(wheel)
}

/// Imports `qr_py` in the venv and makes one PNG: the wheel loads (no missing symbol) and works.
fn smoke_test(venv: &Venv) -> Result<()> {
    let printed = output(Command::new(venv.python()).args([
        "-c",
        "import qr_py; print(qr_py.generate('rusty-qr')[:8].hex())",
    ]))?;
    // The PNG signature.
    if printed.trim() != "89504e470d0a1a0a" {
        bail!("qr_py.generate in the venv returned no PNG (it began with {printed:?})");
    }
    Ok(())
}

/// `<sha256 hex> <file name>` of the wheel at `path`.
fn stamp_of(path: &Path) -> Result<String> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let hex = sha256_hex(&bytes);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    Ok(format!("{hex} {name}\n"))
}

/// The SHA-256 of `bytes`, in lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The paths of qr-py's wheels in `dir` (none if `dir` is missing), sorted.
fn wheels_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut wheels = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(WHEEL_PREFIX) && name.ends_with(".whl") {
            wheels.push(path);
        }
    }
    wheels.sort();
    Ok(wheels)
}

/// The one qr-py wheel in `dir`, or an error saying what was found.
fn the_wheel(dir: &Path) -> Result<PathBuf> {
    let mut wheels = wheels_in(dir)?;
    match wheels.len() {
        1 => Ok(wheels.remove(0)),
        0 => bail!("maturin left no {WHEEL_PREFIX}*.whl in {}", dir.display()),
        _ => bail!(
            "expected one {WHEEL_PREFIX}*.whl in {}, found {wheels:?}",
            dir.display()
        ),
    }
}

fn remove_wheels(dir: &Path) -> Result<()> {
    wheels_in(dir)?
        .iter()
        .try_for_each(|wheel| remove_file_if_present(wheel))
}

fn remove_file_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rusty-qr-py-build-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn finds_exactly_the_one_qr_py_wheel() {
        let dir = scratch("wheels");
        assert!(the_wheel(&dir).is_err(), "no wheel");
        assert!(the_wheel(&dir.join("missing")).is_err());
        fs::write(dir.join("other-1.0-py3-none-any.whl"), "").unwrap();
        fs::write(dir.join("qr_py-0.1.0.tar.gz"), "").unwrap();
        let wheel = dir.join("qr_py-0.1.0-cp311-abi3-manylinux_2_34_x86_64.whl");
        fs::write(&wheel, "wheel").unwrap();
        assert_eq!(the_wheel(&dir).unwrap(), wheel);

        fs::write(dir.join("qr_py-0.0.9-cp311-abi3-linux_x86_64.whl"), "").unwrap();
        assert!(the_wheel(&dir).is_err(), "two wheels");
        remove_wheels(&dir).unwrap();
        assert!(wheels_in(&dir).unwrap().is_empty());
        assert!(dir.join("other-1.0-py3-none-any.whl").is_file(), "not ours");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_stamp_names_the_wheels_bytes() {
        let dir = scratch("stamp");
        let wheel = dir.join("qr_py-0.1.0-cp311-abi3-linux_x86_64.whl");
        fs::write(&wheel, "abc").unwrap();
        assert_eq!(
            stamp_of(&wheel).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad \
             qr_py-0.1.0-cp311-abi3-linux_x86_64.whl\n"
        );
        fs::write(&wheel, "abd").unwrap();
        assert!(!stamp_of(&wheel).unwrap().starts_with("ba7816bf"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_manifest_is_the_extension_crate() {
        let manifest = fs::read_to_string(paths::repo_root().join(MANIFEST)).unwrap();
        assert!(manifest.contains("name = \"qr-py\""), "{MANIFEST}");
        assert!(
            manifest.contains("abi3-py311"),
            "{MANIFEST} is not abi3 for 3.11"
        );
    }
}
