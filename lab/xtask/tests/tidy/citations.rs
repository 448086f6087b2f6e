//! Every path the docs and comments cite exists: the paths named in prose and comments (from
//! the root), the links of every Markdown file (from the file's folder, anchors included), and
//! ARCHITECTURE.md's code map, which has a row for every crate.

use std::collections::BTreeSet;
use std::path::Path;

use crate::{assert_none, ignored, missing, read, root, tracked};

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
    if name.ends_with(".py") {
        // Docstrings and comments alike: a Python file's every line is read.
        return text.to_owned();
    }
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

#[test]
fn architecture_md_maps_every_crate_and_names_only_existing_paths() {
    let text = read("ARCHITECTURE.md");
    let cited = cited_paths(&text);
    assert!(
        cited.len() >= 10,
        "ARCHITECTURE.md names only {} paths",
        cited.len()
    );
    let mut absent: Vec<String> = cited.into_iter().filter(|path| missing(path)).collect();
    for folder in ["crates", "lab"] {
        for entry in std::fs::read_dir(root().join(folder)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            if entry.path().join("Cargo.toml").exists()
                && !text.contains(&format!("| `{folder}/{name}` |"))
            {
                absent.push(format!("a code-map row for {folder}/{name}"));
            }
        }
    }
    assert_none(
        absent,
        "ARCHITECTURE.md names missing paths or misses a crate",
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
    assert_none(dangling, "citations of missing files");
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
    assert_eq!(
        link_targets("[a](docs/x.md) ![b](../y.svg \"t\") [c](#z) (d)"),
        ["docs/x.md", "../y.svg", "#z"]
    );
    assert!(
        anchors("# The API\n```\n# not a heading\n```\n## Cost per call (µs)")
            .contains("cost-per-call-µs")
    );
    assert!(anchors("## What `cargo xtask test` runs").contains("what-cargo-xtask-test-runs"));
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

/// The targets of the Markdown links and images in `text`: `[label](target)`, without a title.
fn link_targets(text: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            targets.push(target);
            rest = &rest[end..];
        }
    }
    targets
}

/// The anchors of a Markdown file's headings, as GitHub makes them: lower case, spaces to `-`,
/// every character but letters, digits, `-` and `_` dropped.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_code = false;
    markdown
        .lines()
        .filter(|line| {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            !in_code && line.starts_with('#')
        })
        .map(|line| {
            line.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_markdown_link_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for name in tracked().iter().filter(|name| name.ends_with(".md")) {
        let text = read(name);
        let folder = Path::new(name).parent().unwrap_or(Path::new(""));
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
            let file = if path.is_empty() {
                Path::new(name).to_path_buf()
            } else {
                folder.join(path)
            };
            let resolved = root().join(&file);
            if !resolved.exists() {
                broken.push(format!(
                    "{name}: {target} ({} does not exist)",
                    file.display()
                ));
            } else if !anchor.is_empty()
                && !anchors(&std::fs::read_to_string(&resolved).unwrap_or_default())
                    .contains(anchor)
            {
                broken.push(format!("{name}: {target} (no heading #{anchor})"));
            }
        }
    }
    assert!(checked >= 30, "only {checked} links checked");
    assert_none(broken, "Markdown links that do not resolve");
}
