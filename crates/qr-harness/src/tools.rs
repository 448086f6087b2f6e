//! Pinned command-line tools, installed once with `cargo install` into
//! `~/.cache/rusty-qr/tools/<crate>-<version>/`, outside the clone: every clone and CI reuse them.
//! Only the load generator is left: the Wasm glue comes from crates/wasm-glue, a workspace tool.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The load generator the benchmark drives, at the version every figure was measured with.
pub const OHA: (&str, &str) = ("oha", "1.16.0");

/// `~/.cache/rusty-qr/tools`.
fn tools_dir() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set: cannot find ~/.cache")?;
    Ok(PathBuf::from(home).join(".cache/rusty-qr/tools"))
}

/// The oha binary, installed when absent (minutes, once) into `oha-<version>/`.
///
/// With its default features, so with rustls on aws-lc-sys (a C build), though it only ever loads
/// `http://127.0.0.1`: oha 1.16.0 does not compile without a TLS feature (`--no-default-features`
/// fails with E0599, `Stream::Tls` and `connect_tls` used outside their `cfg`), and its other one,
/// `native-tls`, needs the system's OpenSSL headers, which the README does not ask for.
pub fn oha() -> Result<PathBuf> {
    let (krate, version) = OHA;
    let root = tools_dir()?.join(format!("{krate}-{version}"));
    let path = root.join("bin").join("oha");
    if path.is_file() {
        return Ok(path);
    }
    eprintln!(
        "==> installing {krate} {version} into {} (once; takes a few minutes)",
        root.display()
    );
    // `--locked` first; if that fails, because a dependency pinned in the tool's own lock file has
    // since been yanked, once more without it: the tool itself stays exact.
    let install = |locked: bool| -> Result<()> {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command.arg("install");
        if locked {
            command.arg("--locked");
        }
        command
            .args(["--version", &format!("={version}"), "--root"])
            .arg(&root)
            .arg(krate);
        let status = command
            .status()
            .with_context(|| format!("cannot run cargo install {krate}"))?;
        if !status.success() {
            bail!("cargo install {krate} {version} failed ({status})");
        }
        Ok(())
    };
    if let Err(error) = install(true) {
        eprintln!("    {error:#}; retrying without --locked");
        install(false)?;
    }
    if !path.is_file() {
        bail!("cargo install {krate} {version} made no {}", path.display());
    }
    eprintln!("    installed {}", path.display());
    Ok(path)
}
