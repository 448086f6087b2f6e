//! Where everything is: the one place that knows the repository's layout and where builds land
//! (cargo's target directory, honouring `CARGO_TARGET_DIR`, its Python venv, and `node/build/`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root: every command runs there and every build output is found from it.
pub fn repo_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("lab/qr-harness sits two levels below the repository root")
            .to_path_buf()
    })
}

/// Where cargo writes its builds: `CARGO_TARGET_DIR` (a relative one is taken from the repository
/// root, where xtask runs cargo), else `<root>/target`.
pub fn target_dir() -> PathBuf {
    target_dir_from(std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
}

fn target_dir_from(configured: Option<PathBuf>) -> PathBuf {
    match configured {
        Some(dir) if !dir.as_os_str().is_empty() => repo_root().join(dir),
        _ => repo_root().join("target"),
    }
}

/// A binary of the release build, e.g. `release_binary("qr-server")`.
pub fn release_binary(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

/// The tier-1 binary every Node process is pointed at (`RUSTY_QR_CLI`).
pub fn qr_cli() -> PathBuf {
    release_binary("qr-cli")
}

/// Tier 4.
pub fn qr_server() -> PathBuf {
    release_binary("qr-server")
}

/// Tier 4 behind nginx: starts qr-server, the Node app and nginx, and stops them together.
pub fn qr_nginx() -> PathBuf {
    release_binary("qr-nginx")
}

/// What `cargo xtask build` makes for the Node host to load: the Wasm modules and the addon.
pub fn node_build() -> PathBuf {
    repo_root().join("node/build")
}

/// The project's Python virtual environment (made by [`crate::python::venv`]).
pub fn venv() -> PathBuf {
    target_dir().join("venv")
}

/// The Python host's package, `rusty_qr` (its folder goes on `PYTHONPATH`).
pub fn python_host() -> PathBuf {
    repo_root().join("python")
}

/// `path` relative to the repository root when it is inside it, for messages.
pub fn shown(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_holds_the_workspace() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("lab/qr-harness").is_dir());
    }

    #[test]
    fn the_target_dir_honours_cargo_target_dir() {
        assert_eq!(target_dir_from(None), repo_root().join("target"));
        assert_eq!(target_dir_from(Some("".into())), repo_root().join("target"));
        assert_eq!(target_dir_from(Some("/tmp/t".into())), Path::new("/tmp/t"));
        assert_eq!(target_dir_from(Some("out".into())), repo_root().join("out"));
        assert_eq!(
            shown(&repo_root().join("target/release/qr-cli")),
            "target/release/qr-cli"
        );
        assert_eq!(shown(Path::new("/elsewhere/qr-cli")), "/elsewhere/qr-cli");
    }
}
