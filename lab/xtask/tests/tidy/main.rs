//! Keeps the house in order (after rust-analyzer's tidy tests): the docs' paths and links resolve
//! (`citations`), every file says what it is, stays small and is named for its job (`files`), the
//! map holds (`map`: product apart from lab, every tier and engine documented, README a front
//! door), and so do the habits a test can see (`habits`: commit subjects). Run with
//! `cargo test -p xtask --test tidy`.

mod citations;
mod files;
mod habits;
mod map;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask sits in lab/, below the repository root")
        .to_path_buf()
}

/// The files git tracks, relative to the root.
fn tracked() -> Vec<String> {
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git ls-files failed");
    String::from_utf8(output.stdout)
        .expect("UTF-8 file names")
        .split('\0')
        .filter(|name| !name.is_empty() && root().join(name).exists())
        .map(str::to_owned)
        .collect()
}

/// A tracked file's text.
fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Whether git ignores `path` (a build output such as `node/build/qr_napi.node`).
fn ignored(path: &str) -> bool {
    Command::new("git")
        .args(["check-ignore", "-q", "--no-index", path])
        .current_dir(root())
        .status()
        .expect("git runs")
        .success()
}

/// Whether a cited `path` (from the root) is neither in the tree nor a build output git ignores.
fn missing(path: &str) -> bool {
    !root().join(path).exists() && !ignored(path)
}

/// Fails with every problem found, one a line.
fn assert_none(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}
