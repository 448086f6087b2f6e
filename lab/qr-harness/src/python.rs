//! The project's Python: one virtual environment, `<target dir>/venv`, that the project creates
//! itself from the machine's `python3` (3.11 or newer is a prerequisite) and fills from the
//! committed lock `requirements.lock` (exact versions and hashes, wheels only).
//!
//! The Python host runs in it (`python -m rusty_qr`, pytest, py-tier-3's wheel), and the
//! manifests' test (`lab/xtask/tests/deploy/`) runs its kubernetes-validate.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

use crate::paths::{self, repo_root};

/// The lock every package of the venv comes from, relative to the repository root.
pub const LOCK: &str = "requirements.lock";

/// The oldest Python the lock was made for (Debian 12's `python3`).
pub const MIN_PYTHON: (u32, u32) = (3, 11);

/// The Debian package that brings `ensurepip` (hence `python3 -m venv`) to Debian's `python3`.
pub const VENV_PACKAGE: &str = "python3-venv";

/// Written into the venv once every package of the lock is installed: a copy of the lock it was
/// filled from. A venv without it, or with another lock's copy, is made again.
const STAMP: &str = "rusty-qr-requirements.lock";

/// The project's virtual environment (see [`venv`]).
#[derive(Debug, Clone)]
pub struct Venv {
    dir: PathBuf,
}

impl Venv {
    /// Its folder, `<target dir>/venv`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its interpreter. Run tools as `python -m MODULE`: the scripts in `bin/` name the folder
    /// the venv was built in, which [`venv`] renames when it is ready.
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin").join("python")
    }

    /// A command running `python -m module` in the venv.
    pub fn module(&self, module: &str) -> Command {
        let mut command = Command::new(self.python());
        command.args(["-m", module]);
        command
    }
}

/// The project's venv, `<target dir>/venv`, holding exactly the packages of [`LOCK`]: made when
/// missing or when the lock has changed (about 10 s with PyPI reachable), else returned at once.
///
/// Fails with one line saying what to install when `python3` is missing or older than
/// [`MIN_PYTHON`]; installs Debian's [`VENV_PACKAGE`] when `python3 -m venv` lacks ensurepip.
/// Safe to call from several threads and processes at once: each builds in its own folder and
/// the first to finish renames it into place.
pub fn venv() -> Result<Venv> {
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());

    let lock_path = repo_root().join(LOCK);
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    let venv = Venv { dir: paths::venv() };
    if is_filled_from(&venv.dir, &lock) {
        return Ok(venv);
    }

    let python = python3()?;
    let building = venv
        .dir
        .with_file_name(format!("venv.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    eprintln!(
        "==> creating the Python venv {} from {LOCK} (once per lock)",
        paths::shown(&venv.dir)
    );
    let built = fill(&python, &building, &lock_path).and_then(|()| {
        std::fs::write(building.join(STAMP), &lock)
            .with_context(|| format!("cannot write {}", building.join(STAMP).display()))
    });
    if let Err(error) = built {
        let _ = std::fs::remove_dir_all(&building);
        return Err(error);
    }
    // Another process may have finished first: keep its venv if it is filled from this lock.
    if !is_filled_from(&venv.dir, &lock) {
        match std::fs::remove_dir_all(&venv.dir) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("cannot remove {}", venv.dir.display()));
            }
        }
        if let Err(error) = std::fs::rename(&building, &venv.dir)
            && !is_filled_from(&venv.dir, &lock)
        {
            let _ = std::fs::remove_dir_all(&building);
            let shown = format!("{} to {}", building.display(), venv.dir.display());
            return Err(error).with_context(|| format!("cannot rename {shown}"));
        }
    }
    let _ = std::fs::remove_dir_all(&building);
    eprintln!("    ready: {}", paths::shown(&venv.python()));
    Ok(venv)
}

/// Whether `dir` is a venv whose packages were all installed from `lock`.
fn is_filled_from(dir: &Path, lock: &str) -> bool {
    dir.join("bin").join("python").exists()
        && std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|stamp| stamp == lock)
}

/// `python3 -m venv DIR`, then every package of the lock, by hash, wheels only (nothing is
/// compiled, and nothing not in the lock is installed).
fn fill(python: &Path, dir: &Path, lock: &Path) -> Result<()> {
    let created = Command::new(python)
        .args(["-m", "venv"])
        .arg(dir)
        .output()
        .with_context(|| format!("cannot run {} -m venv", python.display()))?;
    if !created.status.success() {
        bail!(
            "{} -m venv {} failed ({}): {}",
            python.display(),
            dir.display(),
            created.status,
            String::from_utf8_lossy(&created.stderr).trim()
        );
    }
    let mut pip = Command::new(dir.join("bin").join("python"));
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--require-hashes",
        "--only-binary",
        ":all:",
        "-r",
    ])
    .arg(lock)
    // pip's progress on stderr, like every other step: stdout stays for results.
    .stdout(std::io::stderr());
    let shown = format!("pip install --require-hashes -r {LOCK}");
    eprintln!("    {shown}");
    let status = pip
        .status()
        .with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status}): is PyPI reachable?");
    }
    Ok(())
}

/// `python3` from PATH, checked to be at least [`MIN_PYTHON`] and able to make a venv (else
/// Debian's [`VENV_PACKAGE`] is installed).
fn python3() -> Result<PathBuf> {
    let python = PathBuf::from("python3");
    let (major, minor) = MIN_PYTHON;
    let missing = format!(
        "python3 {major}.{minor} or newer is needed for the project's Python tools: install it \
         (Debian: `sudo apt-get install --no-install-recommends python3 {VENV_PACKAGE}`)"
    );
    let probe = "import sys; print('%d %d' % sys.version_info[:2])";
    let version = match Command::new(&python).args(["-c", probe]).output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        _ => bail!("{missing}"),
    };
    let found =
        parse_version(&version).with_context(|| format!("{missing} (it said {version:?})"))?;
    if found < MIN_PYTHON {
        bail!("python3 is {}.{}; {missing}", found.0, found.1);
    }
    let can_make_venvs = |python: &Path| {
        Command::new(python)
            .args(["-c", "import ensurepip, venv"])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if !can_make_venvs(&python) {
        crate::tools::apt_install(VENV_PACKAGE, "use a python3 that has ensurepip")?;
        if !can_make_venvs(&python) {
            bail!("python3 still cannot make a venv after installing {VENV_PACKAGE}; {missing}");
        }
    }
    Ok(python)
}

/// `"3 11\n"` -> `(3, 11)`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split_whitespace().map(str::parse::<u32>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor)), None) => Some((major, minor)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_interpreters_version_line() {
        assert_eq!(parse_version("3 11\n"), Some((3, 11)));
        assert_eq!(parse_version("3 9"), Some((3, 9)));
        assert!(parse_version("3 9") < Some(MIN_PYTHON));
        assert_eq!(parse_version(""), None);
        assert_eq!(parse_version("3"), None);
        assert_eq!(parse_version("3 11 2"), None);
        assert_eq!(parse_version("Python 3.11"), None);
    }

    #[test]
    fn a_venv_counts_only_when_filled_from_the_same_lock() {
        let dir = std::env::temp_dir().join(format!("rusty-qr-venv-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        assert!(!is_filled_from(&dir, "a==1\n"), "no interpreter, no stamp");
        std::fs::write(dir.join("bin").join("python"), "").unwrap();
        assert!(
            !is_filled_from(&dir, "a==1\n"),
            "no stamp: pip did not finish"
        );
        std::fs::write(dir.join(STAMP), "a==1\n").unwrap();
        assert!(is_filled_from(&dir, "a==1\n"));
        assert!(!is_filled_from(&dir, "a==2\n"), "the lock changed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_lock_pins_every_package_by_hash() {
        let lock = std::fs::read_to_string(repo_root().join(LOCK)).unwrap();
        let pins: Vec<&str> = lock
            .lines()
            .filter(|line| !line.starts_with([' ', '#']) && !line.trim().is_empty())
            .collect();
        assert!(
            pins.iter()
                .any(|line| line.starts_with("kubernetes-validate==")),
            "{LOCK} lacks kubernetes-validate"
        );
        for pin in &pins {
            assert!(
                pin.contains("==") && pin.ends_with('\\'),
                "{LOCK}: {pin:?} is not an exact version followed by its hashes"
            );
        }
    }
}
