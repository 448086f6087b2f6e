//! The command-line tools the project runs but does not build: the load generator, pinned and
//! installed once with `cargo install` into `~/.cache/rusty-qr/tools/<crate>-<version>/`, outside
//! the clone (every clone and CI reuse it), and Debian's packages, installed when missing: nginx
//! for tier-4-nginx, Chromium for the playground's test, the Docker engine for the image's check,
//! kubectl for the manifests' test.
//! The Wasm glue comes from lab/bindgen-glue, a workspace tool.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The load generator the benchmark drives, at the version every figure was measured with.
pub const OHA: (&str, &str) = ("oha", "1.16.0");

/// `~/.cache/rusty-qr/tools`.
fn tools_dir() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set: cannot find ~/.cache")?;
    Ok(PathBuf::from(home).join(".cache/rusty-qr/tools"))
}

/// Where the pinned oha is installed (`oha-<version>/`), and its binary there.
fn oha_paths() -> Result<(PathBuf, PathBuf)> {
    let (krate, version) = OHA;
    let root = tools_dir()?.join(format!("{krate}-{version}"));
    let binary = root.join("bin").join(krate);
    Ok((root, binary))
}

/// The `cargo install` of the pinned oha (`--locked`: with the tool's own lock file), or `None`
/// when it is installed already. For a caller that installs it meanwhile; [`oha`] finishes the job.
pub fn oha_install() -> Result<Option<Command>> {
    let (root, binary) = oha_paths()?;
    Ok((!binary.is_file()).then(|| oha_install_command(&root, true)))
}

fn oha_install_command(root: &Path, locked: bool) -> Command {
    let (krate, version) = OHA;
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.arg("install");
    if locked {
        command.arg("--locked");
    }
    command
        .args(["--version", &format!("={version}"), "--root"])
        .arg(root)
        .arg(krate);
    command
}

/// The oha binary, installed when absent (minutes, once) into `oha-<version>/`.
///
/// With its default features, so with rustls on aws-lc-sys (a C build), though it only ever loads
/// `http://127.0.0.1`: oha 1.16.0 does not compile without a TLS feature (`--no-default-features`
/// fails with E0599, `Stream::Tls` and `connect_tls` used outside their `cfg`), and its other one,
/// `native-tls`, needs the system's OpenSSL headers, which the README does not ask for.
pub fn oha() -> Result<PathBuf> {
    let (krate, version) = OHA;
    let (root, path) = oha_paths()?;
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
        let mut command = oha_install_command(&root, locked);
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

/// The Debian package that ships `/usr/sbin/nginx`. Not `nginx-light`: in Debian 12 that is only
/// `nginx` plus the echo module (it depends on `nginx`), which tier-4-nginx does not use.
pub const NGINX_PACKAGE: &str = "nginx";

/// Where Debian puts nginx; often not on a non-root user's PATH.
const NGINX_SBIN: &str = "/usr/sbin/nginx";

/// The Debian package of the browser the playground's test drives (`/usr/bin/chromium`).
pub const CHROMIUM_PACKAGE: &str = "chromium";

/// The nginx binary that tier-4-nginx runs, without installing it: the first `nginx` on PATH, else
/// `/usr/sbin/nginx`.
pub fn find_nginx() -> Option<PathBuf> {
    find_program("nginx", &[NGINX_SBIN])
}

/// The first `name` on PATH, else the first of `elsewhere` that is executable.
fn find_program(name: &str, elsewhere: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .chain(elsewhere.iter().map(PathBuf::from))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The nginx binary ([`find_nginx`]), installed when absent with Debian's package [`NGINX_PACKAGE`]
/// (see [`apt_install`]); fails with one line saying what to install if that cannot be done.
///
/// Only the binary is used: qr-nginx runs it in the foreground with its own configuration.
pub fn nginx() -> Result<PathBuf> {
    found_or_installed("nginx", &[NGINX_SBIN], NGINX_PACKAGE)
}

/// The Chromium binary that the playground's test (node/tests/web.test.js) drives: `chromium` on
/// PATH, else installed with Debian's package [`CHROMIUM_PACKAGE`] (see [`apt_install`]).
pub fn chromium() -> Result<PathBuf> {
    found_or_installed("chromium", &[], CHROMIUM_PACKAGE)
}

/// The Docker engine's daemon, which `cargo xtask image --check` starts: `dockerd` on PATH, else
/// installed with Debian's `docker.io` (which brings the `docker` client, containerd and runc).
pub fn dockerd() -> Result<PathBuf> {
    found_or_installed("dockerd", &[], "docker.io")
}

/// The Debian package that ships `/usr/bin/kubectl` (1.20 in Debian 12; its kustomize, v2.0.3,
/// renders `deploy/k8s` byte for byte as kubectl 1.32's v5.5 does).
pub const KUBECTL_PACKAGE: &str = "kubernetes-client";

/// The `kubectl` that renders `deploy/k8s` (`kubectl kustomize`): the first on PATH, else
/// installed with Debian's [`KUBECTL_PACKAGE`].
pub fn kubectl() -> Result<PathBuf> {
    found_or_installed("kubectl", &[], KUBECTL_PACKAGE)
}

/// `name` on PATH (or in `elsewhere`), else installed with Debian's `package`.
fn found_or_installed(name: &str, elsewhere: &[&str], package: &str) -> Result<PathBuf> {
    if let Some(path) = find_program(name, elsewhere) {
        return Ok(path);
    }
    let otherwise = format!("put {name} on PATH");
    apt_install(package, &otherwise)?;
    let path = find_program(name, elsewhere)
        .with_context(|| format!("apt-get installed no {name}; {otherwise}"))?;
    eprintln!("    installed {}", path.display());
    Ok(path)
}

/// Installs Debian's `package` (`apt-get update`, then `apt-get install -y
/// --no-install-recommends PACKAGE`), as root or through `sudo -n`; fails with one line saying
/// what to install (or `otherwise`) if that cannot be done. A package's own service is not
/// wanted: unless the machine has a `policy-rc.d` already, one that forbids starting services is
/// in place for the install (else Debian's nginx would start its default site on port 80).
pub(crate) fn apt_install(package: &str, otherwise: &str) -> Result<()> {
    let manual = format!(
        "{package} is not installed: install Debian's `{package}` package \
         (`sudo apt-get install --no-install-recommends {package}`) or {otherwise}"
    );
    let root = rustix::process::geteuid().is_root();
    eprintln!(
        "==> installing {package} with apt-get (Debian's `{package}` package, once{})",
        if root { "" } else { ", through sudo -n" }
    );
    // One shell as root (sudo strips the environment, so it is set inside): no prompt, and no
    // service started by the package unless a policy-rc.d already decides; the one written here
    // is removed afterwards.
    let apt_get = |args: &[&str]| -> Result<()> {
        let script = format!(
            "policy=/usr/sbin/policy-rc.d; written=; \
             if [ ! -e $policy ]; then printf '#!/bin/sh\\nexit 101\\n' > $policy && chmod 755 $policy && written=1; fi; \
             DEBIAN_FRONTEND=noninteractive apt-get {}; status=$?; \
             if [ -n \"$written\" ]; then rm -f $policy; fi; exit $status",
            args.join(" ")
        );
        let mut command = if root {
            Command::new("sh")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "sh"]);
            sudo
        };
        command
            .args(["-c", &script])
            // apt-get's progress on stderr, like every other step: stdout stays for results.
            .stdout(std::io::stderr());
        let shown = format!("apt-get {}", args.join(" "));
        eprintln!("    {shown}");
        let status = command
            .status()
            .with_context(|| format!("cannot run {shown}; {manual}"))?;
        if !status.success() {
            bail!("{shown} failed ({status}); {manual}");
        }
        Ok(())
    };
    apt_get(&["update", "-q"])?;
    apt_get(&["install", "-q", "-y", "--no-install-recommends", package])
}
