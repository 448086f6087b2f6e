//! `cargo xtask fuzz`: builds the libFuzzer targets of `lab/fuzz/` on the pinned stable toolchain
//! and runs each for a bounded time; `cargo xtask test` runs them for a few seconds each.
//!
//! No cargo-fuzz binary and no nightly: the fuzz crate is built with the coverage flags
//! `cargo fuzz build --sanitizer none` passes (all stable), for the host triple (so build
//! scripts and proc macros are not instrumented), into `<target dir>/fuzz` (so the workspace's
//! own builds are never invalidated). lab/fuzz/README.md says why, and what each target checks.
//! Every run first replays `lab/fuzz/regressions/<target>/`, then fuzzes from `lab/fuzz/corpus/<target>/`
//! (ignored by git); a crash is written to `lab/fuzz/artifacts/<target>/` and fails the command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use qr_harness::paths;

use crate::background::Background;
use crate::cmd::{self, Step, cargo, run};

/// The fuzz crate, relative to the repository root.
const FUZZ_DIR: &str = "lab/fuzz";

/// Seconds per target in `cargo xtask test`.
pub const TEST_SECONDS: u64 = 5;

/// How long each target runs.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// Seconds of fuzzing (libFuzzer's `-max_total_time`).
    Seconds(u64),
    /// Executions (libFuzzer's `-runs`), however long they take.
    Runs(u64),
}

impl Budget {
    fn flag(self) -> String {
        match self {
            Budget::Seconds(seconds) => format!("-max_total_time={seconds}"),
            Budget::Runs(runs) => format!("-runs={runs}"),
        }
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Budget::Seconds(seconds) => write!(f, "for {seconds} s"),
            Budget::Runs(runs) => write!(f, "for {runs} executions"),
        }
    }
}

/// What `cargo fuzz build --sanitizer none` gives rustc (cargo-fuzz's `src/project.rs`), all
/// stable: SanitizerCoverage's inline 8-bit counters, PC table, compare tracing and stack depth,
/// which libFuzzer reads; debug assertions and overflow checks, so that an overflow is a crash.
/// Not `--cfg fuzzing`: under it the decoders the targets check against (miniz_oxide, png,
/// fdeflate) skip their checksums.
const COVERAGE_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

/// One target's run, from libFuzzer's final statistics.
struct Stats {
    executions: u64,
    per_second: u64,
    corpus_added: u64,
}

/// Builds the fuzz targets, then fuzzes each of `only` (every target when empty) within `budget`;
/// with `replay`, only runs each target on its regression inputs.
pub fn fuzz(root: &Path, only: &[String], budget: Budget, replay: bool) -> Result<()> {
    let fuzz_dir = root.join(FUZZ_DIR);
    let all = targets(&fuzz_dir)?;
    for name in only {
        if !all.contains(name) {
            bail!("no fuzz target {name:?} (targets: {})", all.join(", "));
        }
    }
    let chosen: Vec<&String> = all
        .iter()
        .filter(|t| only.is_empty() || only.contains(t))
        .collect();
    let binaries = build(root, &fuzz_dir)?;

    let mut failed = Vec::new();
    for target in chosen {
        let binary = binaries.join(target);
        let regressions = inputs(&fuzz_dir.join("regressions").join(target))?;
        let result = if replay {
            replay_inputs(&binary, target, &regressions)
        } else {
            fuzz_one(&fuzz_dir, &binary, target, budget, &regressions)
        };
        if let Err(error) = result {
            eprintln!("    {target}: FAILED: {error:#}");
            failed.push(target.clone());
        }
    }
    if !failed.is_empty() {
        bail!("fuzz targets failed: {}", failed.join(", "));
    }
    Ok(())
}

/// `cargo xtask test`'s first part: the fuzz crate formatted, linted and built, in the
/// background (its own target directory, so it never waits on the workspace's builds).
pub fn prepare_for_test(root: &Path) -> Result<Background> {
    check_cxx()?;
    let manifest = root.join(FUZZ_DIR).join("Cargo.toml");
    let mut format = cargo(root);
    format
        .args(["fmt", "--check", "--manifest-path"])
        .arg(&manifest);
    let mut lint = cargo(root);
    lint.args(["clippy", "--all-targets", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(fuzz_target_dir())
        .args(["--", "-D", "warnings"]);
    Background::start(
        "the fuzz crate: cargo fmt --check, cargo clippy, the targets' build",
        fuzz_target_dir().join("logs/prepared-for-test.log"),
        vec![format, lint, build_command(root, &root.join(FUZZ_DIR))?],
    )
}

/// `cargo xtask test`'s last part: once [`prepare_for_test`] is done, every target for
/// [`TEST_SECONDS`].
pub fn test(root: &Path, prepared: Background) -> Result<()> {
    prepared.finish()?;
    fuzz(root, &[], Budget::Seconds(TEST_SECONDS), false)
}

/// The `[[bin]]` names of lab/fuzz/Cargo.toml, in its order.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let manifest = fuzz_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", paths::shown(&manifest)))?;
    let mut in_bin = false;
    let mut names = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name") {
            let name = value.trim_start().trim_start_matches('=').trim();
            names.push(name.trim_matches('"').to_owned());
        }
    }
    if names.is_empty() {
        bail!("{} declares no [[bin]] target", paths::shown(&manifest));
    }
    Ok(names)
}

/// Where the fuzz crate builds: beside the workspace's builds, never in them.
fn fuzz_target_dir() -> PathBuf {
    paths::target_dir().join("fuzz")
}

/// Release build of every target with [`COVERAGE_FLAGS`]; returns the binaries' folder.
fn build(root: &Path, fuzz_dir: &Path) -> Result<PathBuf> {
    check_cxx()?;
    let step = Step::start("build the fuzz targets (libFuzzer, coverage flags, release)");
    run(&mut build_command(root, fuzz_dir)?)?;
    step.done();
    Ok(fuzz_target_dir().join(host_triple(root)?).join("release"))
}

/// The `cargo build` of every target with [`COVERAGE_FLAGS`] (and any `RUSTFLAGS` of ours).
fn build_command(root: &Path, fuzz_dir: &Path) -> Result<Command> {
    let mut rustflags = COVERAGE_FLAGS.join(" ");
    if let Some(extra) = std::env::var_os("RUSTFLAGS") {
        rustflags.push(' ');
        rustflags.push_str(&extra.to_string_lossy());
    }
    let mut command = cargo(root);
    command
        .args(["build", "--release", "--bins", "--manifest-path"])
        .arg(fuzz_dir.join("Cargo.toml"))
        .args(["--target", &host_triple(root)?, "--target-dir"])
        .arg(fuzz_target_dir())
        .env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    Ok(command)
}

/// libfuzzer-sys compiles libFuzzer's C++ with the `cc` crate: a C++ compiler, or one line
/// saying what to install.
fn check_cxx() -> Result<()> {
    let compiler = std::env::var_os("CXX").unwrap_or_else(|| "c++".into());
    cmd::output(Command::new(&compiler).arg("--version")).with_context(|| {
        format!(
            "a C++ compiler ({}) is required to build libFuzzer: install g++ (apt-get install g++), then run this again",
            compiler.to_string_lossy()
        )
    })?;
    Ok(())
}

/// The pinned toolchain's host triple (`rustc -vV`).
fn host_triple(root: &Path) -> Result<String> {
    let version = cmd::output(Command::new("rustc").arg("-vV").current_dir(root))?;
    version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` names no host")
}

/// The files in `dir` (none if it does not exist), sorted.
fn inputs(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs `binary` on each regression input once.
fn replay_inputs(binary: &Path, target: &str, regressions: &[PathBuf]) -> Result<()> {
    if regressions.is_empty() {
        eprintln!("    {target}: no regression inputs");
        return Ok(());
    }
    run(Command::new(binary).args(regressions))?;
    eprintln!("    {target}: {} regression inputs pass", regressions.len());
    Ok(())
}

/// Fuzzes one target within `budget` (its regression inputs first), its output in a log file;
/// prints the executions libFuzzer reports, or fails with the crash input's path.
fn fuzz_one(
    fuzz_dir: &Path,
    binary: &Path,
    target: &str,
    budget: Budget,
    regressions: &[PathBuf],
) -> Result<()> {
    eprintln!("==> fuzz {target} {budget}");
    let corpus = fuzz_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let logs = fuzz_target_dir().join("logs");
    std::fs::create_dir_all(&logs)?;
    let log_path = logs.join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path)?;

    let mut command = Command::new(binary);
    // The first folder is the corpus libFuzzer adds to; the regression inputs are read only.
    command.arg(&corpus);
    if !regressions.is_empty() {
        command.arg(fuzz_dir.join("regressions").join(target));
    }
    let mut prefix = artifacts.into_os_string();
    prefix.push("/");
    let mut artifact_arg = std::ffi::OsString::from("-artifact_prefix=");
    artifact_arg.push(prefix);
    command
        .arg(artifact_arg)
        .arg(budget.flag())
        // One input taking 10 s is a hang, not a slow input.
        .arg("-timeout=10")
        .arg("-print_final_stats=1")
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null());
    let status = command
        .status()
        .with_context(|| format!("could not run {}", binary.display()))?;
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        eprintln!("{}", tail.join("\n"));
        let crash = text.lines().find_map(|line| {
            line.split_once("Test unit written to ")
                .map(|(_, p)| p.trim())
        });
        match crash {
            Some(input) => bail!(
                "{target} failed ({status}) on {input}\n    replay:   {} {input}\n    minimise: {} -minimize_crash=1 -runs=100000 {input}\n    then commit the minimised input under lab/fuzz/regressions/{target}/ (full log: {})",
                binary.display(),
                binary.display(),
                paths::shown(&log_path)
            ),
            None => bail!(
                "{target} failed ({status}) (full log: {})",
                paths::shown(&log_path)
            ),
        }
    }
    let stats = stats(&text).with_context(|| {
        format!(
            "no final statistics in {}: did the target run?",
            paths::shown(&log_path)
        )
    })?;
    eprintln!(
        "    {target}: {} executions ({}/s), {} new corpus inputs, {} regression inputs replayed",
        stats.executions,
        stats.per_second,
        stats.corpus_added,
        regressions.len()
    );
    Ok(())
}

/// libFuzzer's `-print_final_stats=1` lines.
fn stats(log: &str) -> Option<Stats> {
    let value = |key: &str| {
        log.lines()
            .find_map(|line| line.strip_prefix(key)?.trim().parse::<u64>().ok())
    };
    Some(Stats {
        executions: value("stat::number_of_executed_units:")?,
        per_second: value("stat::average_exec_per_sec:")?,
        corpus_added: value("stat::new_units_added:").unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_of_the_fuzz_manifest_is_found() {
        let names = targets(&qr_harness::repo_root().join(FUZZ_DIR)).unwrap();
        for expected in [
            "core_fast",
            "core_article",
            "deflate",
            "wasm_abi",
            "sidecar_frame",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
    }

    #[test]
    fn final_stats_are_read() {
        let log = "#123 DONE cov: 1\nstat::number_of_executed_units: 1136\nstat::average_exec_per_sec:     103\nstat::new_units_added:          9\n";
        let read = stats(log).unwrap();
        assert_eq!(
            (read.executions, read.per_second, read.corpus_added),
            (1136, 103, 9)
        );
        assert!(stats("no stats").is_none());
    }
}
