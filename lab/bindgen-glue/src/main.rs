//! `bindgen-glue`: rusty-qr's build tool that turns crates/qr-wasm-bindgen's Wasm module into the
//! tier-2-bindgen JS glue, exactly what `wasm-bindgen --target nodejs --out-dir OUT_DIR INPUT`
//! writes (`<stem>.js`, `<stem>.d.ts`, `<stem>_bg.wasm`, `<stem>_bg.wasm.d.ts`), through the
//! `wasm-bindgen-cli-support` library that CLI is a front end for. Building this takes a fraction of
//! `cargo install wasm-bindgen-cli` (no test runner, HTTP client or TLS stack).
//!
//! Run by `cargo xtask build`; by hand: `cargo run -p bindgen-glue -- INPUT.wasm OUT_DIR`.
//! The library is pinned to the `wasm-bindgen` version crates/qr-wasm-bindgen pins; the test below
//! holds the two together through Cargo.lock.
//!
//! # Why a library and not the CLI
//!
//! Measured 2026-12-01 on this project's machine (2 vCPUs, shared with other builds: load average
//! 4 to 7 throughout), one after the other, each from an empty target dir, sources already
//! downloaded:
//!
//! | what | crates (normal + build) | fresh build |
//! | --- | --: | --: |
//! | `cargo install wasm-bindgen-cli --version =0.2.130` (what xtask did; `--locked` fails on a yanked pin, the retry resolves anew) | 161 (ring, rustls, ureq, rouille, tiny_http, ...) | 325 s |
//! | `cargo build -p bindgen-glue` (debug: what xtask does) | 43 | 47 s |
//! | `cargo build --release -p bindgen-glue` | 43 | 103 s |
//!
//! A run takes 0.1-0.2 s from the debug build (0.02-0.06 s release, 0.02 s the CLI), and the four
//! files are byte-identical to the CLI's.

use std::path::Path;
use std::process::ExitCode;

use wasm_bindgen_cli_support::Bindgen;

const USAGE: &str =
    "usage: bindgen-glue INPUT.wasm OUT_DIR   (writes wasm-bindgen's --target nodejs glue)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match generate(Path::new(input), Path::new(out_dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bindgen-glue: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the nodejs-target glue of `input` into `out_dir`, with the settings
/// `wasm-bindgen --target nodejs` uses: where the CLI's defaults differ from the library's
/// (`Bindgen::new`), they are set here.
fn generate(input: &Path, out_dir: &Path) -> anyhow::Result<()> {
    Bindgen::new()
        .input_path(input)
        .nodejs(true)?
        // The CLI writes a .d.ts unless told `--no-typescript`; the library only when asked.
        .typescript(true)
        // The CLI keeps the default module path unless `--omit-default-module-path`.
        .omit_default_module_path(false)
        .generate(out_dir)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    /// Finds `package`'s version in the text of a Cargo.lock (`[[package]]` tables with `name` then
    /// `version`); `Err` unless exactly one version is locked.
    fn version_in_lock(lock: &str, package: &str) -> Result<String, String> {
        let name_line = format!("name = \"{package}\"");
        let mut versions = Vec::new();
        for table in lock.split("[[package]]").skip(1) {
            let mut lines = table.lines().map(str::trim).filter(|line| !line.is_empty());
            if lines.next() != Some(name_line.as_str()) {
                continue;
            }
            let version = lines
                .next()
                .and_then(|line| line.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .ok_or_else(|| format!("no version line after {name_line}"))?;
            versions.push(version.to_owned());
        }
        match versions.as_slice() {
            [version] => Ok(version.clone()),
            [] => Err(format!("{package} is not locked")),
            many => Err(format!(
                "{package} is locked at several versions ({many:?})"
            )),
        }
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    #[test]
    fn the_glue_library_is_locked_at_the_wasm_bindgen_version_both_manifests_pin() {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = crate_dir.ancestors().nth(2).unwrap();
        let lock = read(&root.join("Cargo.lock"));
        let bindgen = version_in_lock(&lock, "wasm-bindgen").unwrap();
        let support = version_in_lock(&lock, "wasm-bindgen-cli-support").unwrap();
        assert_eq!(
            support, bindgen,
            "wasm-bindgen-cli-support must be locked at the wasm-bindgen version"
        );
        let ours = read(&crate_dir.join("Cargo.toml"));
        assert!(
            ours.contains(&format!(
                "wasm-bindgen-cli-support = {{ version = \"={bindgen}\""
            )),
            "lab/bindgen-glue pins wasm-bindgen-cli-support with `=` at the locked {bindgen}"
        );
        let theirs = read(&root.join("crates/qr-wasm-bindgen/Cargo.toml"));
        assert!(
            theirs.contains(&format!("wasm-bindgen = \"={bindgen}\"")),
            "crates/qr-wasm-bindgen pins wasm-bindgen with `=` at the locked {bindgen}"
        );
    }

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "cfg-if",
]

[[package]]
name = "wasm-bindgen-cli-support"
version = "0.2.130"

[[package]]
name = "syn"
version = "1.0.109"

[[package]]
name = "syn"
version = "2.0.100"
"#;

    #[test]
    fn reads_the_one_locked_version() {
        assert_eq!(version_in_lock(LOCK, "wasm-bindgen").unwrap(), "0.2.130");
        assert_eq!(
            version_in_lock(LOCK, "wasm-bindgen-cli-support").unwrap(),
            "0.2.130"
        );
    }

    #[test]
    fn refuses_a_missing_or_ambiguous_version() {
        assert!(
            version_in_lock(LOCK, "napi")
                .unwrap_err()
                .contains("not locked")
        );
        assert!(
            version_in_lock(LOCK, "syn")
                .unwrap_err()
                .contains("several")
        );
    }
}
