//! `cargo xtask build`'s part for the Node.js host: tier 2 (both Wasm modules) and tier 3 (the napi
//! addon), written to `node/build/`. Run with `cargo xtask build` (builds.rs calls [`build_all`]).
//!
//! Outputs (node/tiers/*.js load exactly these):
//! * `node/build/qr_wasm.wasm`: crates/qr-wasm for wasm32-unknown-unknown (tier-2, hand-written glue);
//! * `node/build/bindgen/qr_wasm_bindgen.{js,d.ts}` + `_bg.wasm`: crates/qr-wasm-bindgen through
//!   lab/bindgen-glue (tier-2-bindgen), which writes what `wasm-bindgen --target nodejs` would, from
//!   the `wasm-bindgen-cli-support` library at exactly the `wasm-bindgen` crate's version. Nothing
//!   to install: a debug build of that small tool (43 crates) replaces `cargo install
//!   wasm-bindgen-cli` (161, with its test runner's HTTP server, HTTP client and TLS stack; figures
//!   in lab/bindgen-glue's doc);
//! * `node/build/qr_napi.node`: crates/qr-napi's cdylib (tier-3), built by cargo and copied (no
//!   `napi build`: we need neither its generated index.js nor its .d.ts), and beside it
//!   `qr_napi.type-defs.jsonl`: the TypeScript signatures napi-derive emitted for the Rust exports
//!   while compiling (one JSON object per export, as @napi-rs/cli collects them), which
//!   node/tests/types.test.js holds the committed crates/qr-napi/index.d.ts to.
//!
//! Both Wasm builds drop DWARF (`profile.release.debug=false`: 470 KB of line tables, useless to
//! V8) and keep the `name` section, so a trap's stack trace names Rust functions.
//!
//! # wasm-opt: measured, not used
//! binaryen 132's wasm-opt (a one-off `npx binaryen@132`, not a dependency; `--enable-bulk-memory
//! --enable-nontrapping-float-to-int`),
//! 2026-11-25, Node 20.20, the 10 texts of contract/article-texts.txt cycled, CPU time per call
//! (`process.cpuUsage`, median of 9 rounds of 1000 calls after 300 warm-up calls; the 2 cores were
//! shared with other jobs, so wall time was useless and CPU time is what is compared).
//!
//! First build (article engine only):
//!
//! | module | none | -O3 | -Oz |
//! | --- | --- | --- | --- |
//! | qr_wasm.wasm size | 177,090 B (157,864 without the 19 KB name section) | 139,926 B | 139,826 B |
//! | qr_wasm.wasm per call, 3 runs | 695 / 699 / 704 µs | 710 / 708 / 710 µs | 678 / 694 / 705 µs |
//! | qr_wasm_bindgen_bg.wasm size | 167,852 B | 139,394 B | 139,295 B |
//! | qr_wasm_bindgen_bg.wasm per call, 2 runs | 706 / 705 µs | 694 / 698 µs | 696 / 700 µs |
//!
//! Again with both engines (qr_wasm.wasm 229,434 B; -O3 186,424 B; -Oz 186,026 B), 2 runs each:
//!
//! | engine | none | -O3 | -Oz | napi addon, for scale |
//! | --- | --- | --- | --- | --- |
//! | article | 713 / 710 µs | 707 / 705 µs | 724 / 683 µs | 668 µs |
//! | fast | 80 / 78 µs | 78 / 78 µs | 77 / 81 µs | 83 µs |
//!
//! Every difference in speed is within the run-to-run noise (a few %); compile + instantiate takes
//! 0.05 ms whatever the size, as V8 compiles lazily. wasm-opt would only save ~40 KB of code (plus
//! the name section it drops) in a module loaded once per process, so it is not run: one tool less,
//! and named frames in trap stack traces.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use qr_harness::paths;

use crate::cmd::{Step, cargo, run};

/// The Wasm target both tier-2 modules are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Builds every Node.js build output (see the module doc).
pub fn build_all(root: &Path) -> Result<()> {
    build_wasm(root)?;
    build_napi(root)
}

/// `cargo build --release --target wasm32-unknown-unknown` as the Wasm modules are built (no
/// debug info), for the packages the caller adds: a crate they depend on is built once for both.
pub fn wasm_release_build(root: &Path) -> Command {
    let mut command = cargo(root);
    command.args(["build", "--release", "--target", WASM_TARGET]);
    command.args(["--config", "profile.release.debug=false"]);
    command
}

/// `node/build/qr_wasm.wasm` and `node/build/bindgen/`.
pub fn build_wasm(root: &Path) -> Result<()> {
    crate::builds::ensure_wasm_target(root)?;
    let step = Step::start("release build of qr-wasm and qr-wasm-bindgen (wasm32)");
    run(wasm_release_build(root).args(["-p", "qr-wasm", "-p", "qr-wasm-bindgen"]))?;
    step.done();

    let built = paths::target_dir().join(WASM_TARGET).join("release");
    let out = paths::node_build();
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    replace_file(&built.join("qr_wasm.wasm"), &out.join("qr_wasm.wasm"))?;

    // A debug build of the tool: it compiles in a fraction of the time of a release build (the
    // workspace's release profile is thin-LTO with one codegen unit), and runs in ~0.2 s.
    let step = Step::start("bindgen-glue: wasm-bindgen's nodejs glue (tier-2-bindgen)");
    let fresh = out.join("bindgen.new");
    remove_dir_if_present(&fresh)?;
    run(cargo(root)
        .args(["run", "-p", "bindgen-glue", "--"])
        .arg(built.join("qr_wasm_bindgen.wasm"))
        .arg(&fresh))?;
    replace_dir(&fresh, &out.join("bindgen"))?;
    step.done();
    Ok(())
}

/// `node/build/qr_napi.node` and `node/build/qr_napi.type-defs.jsonl` (see the module doc).
pub fn build_napi(root: &Path) -> Result<()> {
    let step = Step::start("release build of qr-napi (the tier-3 addon)");
    // napi-derive appends each export's signature to `<folder>/<package name>` while it expands
    // `#[napi]`, when this variable names a folder; napi-build's build script declares it
    // (rerun-if-env-changed), so a build without it is redone with it. (`TYPE_DEF_TMP_PATH` is
    // napi-rs v2's name: napi-derive 3 panics when it is set without this one.)
    let type_defs = paths::target_dir().join("napi-type-defs");
    fs::create_dir_all(&type_defs)
        .with_context(|| format!("cannot create {}", type_defs.display()))?;
    let emitted = type_defs.join("qr-napi");
    let build = |force: bool| {
        let mut command = cargo(root);
        command
            .args(["build", "--release", "-p", "qr-napi"])
            .env("NAPI_TYPE_DEF_TMP_FOLDER", &type_defs);
        if force {
            // Also declared by napi-build: a new value recompiles the crate, so the macros run.
            command.env("NAPI_FORCE_BUILD_QR_NAPI", "type-defs");
        }
        run(&mut command)
    };
    build(false)?;
    if !emitted.is_file() {
        // Compiled before with this folder, and the file removed since: compile once more.
        build(true)?;
    }
    let library = format!(
        "{}qr_napi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let out = paths::node_build();
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    replace_file(
        &paths::target_dir().join("release").join(library),
        &out.join("qr_napi.node"),
    )?;
    replace_file(&emitted, &out.join("qr_napi.type-defs.jsonl"))?;
    step.done();
    Ok(())
}

/// Copies `from` over `to` through a temporary file and a rename: a running Node process that has
/// the old file mapped (a loaded .node addon) keeps its copy intact instead of seeing it rewritten.
fn replace_file(from: &Path, to: &Path) -> Result<()> {
    let temporary = to.with_extension("new");
    fs::copy(from, &temporary)
        .with_context(|| format!("cannot copy {} to {}", from.display(), temporary.display()))?;
    fs::rename(&temporary, to).with_context(|| format!("cannot replace {}", to.display()))?;
    eprintln!("    wrote {}", to.display());
    Ok(())
}

/// Puts the directory `fresh` where `to` is, removing the old one.
fn replace_dir(fresh: &Path, to: &Path) -> Result<()> {
    let old = to.with_extension("old");
    remove_dir_if_present(&old)?;
    if to.exists() {
        fs::rename(to, &old).with_context(|| format!("cannot move {} aside", to.display()))?;
    }
    fs::rename(fresh, to)
        .with_context(|| format!("cannot move {} to {}", fresh.display(), to.display()))?;
    remove_dir_if_present(&old)?;
    eprintln!("    wrote {}", to.display());
    Ok(())
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}
