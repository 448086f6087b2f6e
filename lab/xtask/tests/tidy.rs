//! Keeps the map true (after rust-analyzer's tidy tests): ARCHITECTURE.md has a row for every crate
//! and every path it names exists, every source file opens with a comment saying what it is, and
//! no comment cites a file that does not exist. Run with `cargo test -p xtask --test tidy`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The top-level folders whose paths are checked wherever they are cited.
const TOP_LEVEL: &[&str] = &[
    "crates/",
    "node/",
    "python/",
    "web/",
    "contract/",
    "deploy/",
    "docs/",
    "lab/",
    ".ci/",
];

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

/// Whether git ignores `path` (a build output such as `node/build/qr_napi.node`).
fn ignored(path: &str) -> bool {
    Command::new("git")
        .args(["check-ignore", "-q", "--no-index", path])
        .current_dir(root())
        .status()
        .expect("git runs")
        .success()
}

/// Whether a cited `path` is neither in the tree nor a build output git ignores.
fn missing(path: &str) -> bool {
    !root().join(path).exists() && !ignored(path)
}

/// The repository paths cited in `text`: tokens that start with a top-level folder, without
/// trailing punctuation. Globs and placeholders (`*`, `<...>`, `{...}`) are not paths.
fn cited_paths(text: &str) -> Vec<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-./*<>{}".contains(c);
    let mut paths = Vec::new();
    for (start, _) in text.char_indices() {
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| allowed(c) || c == '\\') {
            continue;
        }
        let rest = &text[start..];
        if !TOP_LEVEL.iter().any(|top| rest.starts_with(top)) {
            continue;
        }
        let token: String = rest.chars().take_while(|&c| allowed(c)).collect();
        let token = token.trim_end_matches(['.', ',', ':', ';']);
        if !token.contains(['*', '<', '>', '{', '}']) {
            paths.push(token.to_owned());
        }
    }
    paths
}

/// The comment text of a source file's lines (`//` and `#` comments, block comment lines).
fn comments(name: &str, text: &str) -> String {
    let marker = if name.ends_with(".toml") || name.ends_with(".sh") || name.ends_with("/run") {
        "#"
    } else {
        "//"
    };
    text.lines()
        .filter_map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("* ") || trimmed.starts_with("/**") {
                Some(trimmed)
            } else {
                line.find(marker).map(|at| &line[at..])
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_source(name: &str) -> bool {
    [".rs", ".js", ".ts"].iter().any(|ext| name.ends_with(ext))
}

#[test]
fn architecture_md_maps_every_crate_and_names_only_existing_paths() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut absent = Vec::new();
    let mut checked = 0;
    for path in cited_paths(&text) {
        checked += 1;
        if missing(&path) {
            absent.push(path);
        }
    }
    assert!(checked >= 10, "ARCHITECTURE.md names only {checked} paths");
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let row = format!("| `crates/{name}` |");
        if !text.contains(&row) {
            absent.push(format!("a code-map row for crates/{name}"));
        }
    }
    assert!(
        absent.is_empty(),
        "ARCHITECTURE.md names missing paths or misses a crate: {absent:?}"
    );
}

#[test]
fn every_source_file_opens_with_a_comment_saying_what_it_is() {
    let mut bare = Vec::new();
    for name in tracked().iter().filter(|name| is_source(name)) {
        let text = std::fs::read_to_string(root().join(name)).unwrap();
        let first = text
            .lines()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("");
        let opens = if name.ends_with(".rs") {
            first.starts_with("//!")
        } else {
            first.starts_with("// ") || first.starts_with("/**")
        };
        if !opens {
            bare.push(format!("{name}: {first:?}"));
        }
    }
    assert!(
        bare.is_empty(),
        "files without an opening doc comment:\n{}",
        bare.join("\n")
    );
}

#[test]
fn no_comment_cites_a_file_that_does_not_exist() {
    let mut dangling = Vec::new();
    for name in tracked() {
        let Ok(text) = std::fs::read_to_string(root().join(&name)) else {
            continue; // not text
        };
        let cited = if name.ends_with(".md") {
            cited_paths(&text)
        } else {
            cited_paths(&comments(&name, &text))
        };
        for path in cited {
            if missing(&path) {
                dangling.push(format!("{name} cites {path}"));
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "citations of missing files:\n{}",
        dangling.join("\n")
    );
}

#[test]
fn the_path_finder_finds_paths_and_skips_globs() {
    let text = "see `crates/qr-core/src/lib.rs`, node/tiers/<tier>.js and crates/*; \
                not xcrates/a or a/crates/b. Also (contract/article-texts.txt).";
    assert_eq!(
        cited_paths(text),
        ["crates/qr-core/src/lib.rs", "contract/article-texts.txt"]
    );
    assert!(ignored("target/release/qr-cli"));
    assert!(!ignored("crates/qr-core/src/lib.rs"));
    let rust = concat!(
        "fn x() {} // see crates/qr-cli/src/main.rs\n",
        "/// contract/article-texts.txt\n",
    );
    let code = "let s = \"crates/nowhere.rs\";";
    assert_eq!(
        cited_paths(&comments("x.rs", &format!("{rust}{code}"))),
        ["crates/qr-cli/src/main.rs", "contract/article-texts.txt"]
    );
}
