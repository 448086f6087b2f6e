//! ARCHITECTURE.md's invariants on dependencies, checked by `cargo xtask test`: qr-core depends on
//! nothing host-, async- or FFI-specific (it builds for bare wasm32, and no such crate is in its
//! tree), qr-contract on nothing, and xtask on no encoder (so `cargo xtask --help` compiles no
//! image stack).

use std::path::Path;

use anyhow::{Result, bail};

use crate::builds::ensure_wasm_target;
use crate::cmd::{self, Step, cargo, run};
use crate::node_build::wasm_release_build;

/// The crates qr-core must not depend on, by name prefix.
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

/// Fails unless every invariant holds (see the module doc).
pub fn check(root: &Path) -> Result<()> {
    let step = Step::start("dependency invariants (qr-core host-free on wasm32, xtask light)");
    ensure_wasm_target(root)?;
    // As the Wasm modules build it: already built then, so this costs nothing.
    run(wasm_release_build(root).args(["--quiet", "-p", "qr-core"]))?;
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
