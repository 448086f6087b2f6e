//! Every source file says what it is in its first lines, holds one job (about 500 lines at most,
//! unless its header says it holds one algorithm), and has a name that no file in another
//! language uses for another job.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{assert_none, read, tracked};

/// Source files, by extension, and the language each belongs to.
const LANGUAGES: &[(&str, &str)] = &[
    (".rs", "Rust"),
    (".js", "JavaScript"),
    (".d.ts", "JavaScript"),
    (".ts", "JavaScript"),
    (".py", "Python"),
];

/// The most lines a source file has unless its header says it holds one algorithm.
const MAX_LINES: usize = 500;
/// What such a header says.
const ONE_ALGORITHM: &str = "holds one algorithm";

/// Stems that files in several languages may share because they do the same job there: a host's
/// app and its query parser, draining connections at shutdown, the contract's loader and
/// checker, the test launcher of a server process, and what every crate and package names its
/// entry.
const SHARED_STEMS: &[&str] = &[
    "app",
    "query",
    "drain",
    "contract",
    "server_process",
    "lib",
    "main",
    "mod",
    "index",
];

/// The language of a source file, or `None` for anything else.
fn language(name: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(ext, _)| name.ends_with(ext))
        .map(|&(_, language)| language)
}

/// A file's stem without its extensions, with `-` as `_` (`tier-1-sidecar.d.ts`: `tier_1_sidecar`).
fn stem(name: &str) -> String {
    let file = Path::new(name).file_name().unwrap().to_str().unwrap();
    file.split('.').next().unwrap().replace('-', "_")
}

#[test]
fn every_source_file_opens_with_a_comment_saying_what_it_is() {
    let mut bare = Vec::new();
    for name in tracked().iter().filter(|name| language(name).is_some()) {
        let text = read(name);
        let first = text
            .lines()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("");
        let opens = if name.ends_with(".rs") {
            first.starts_with("//!")
        } else if name.ends_with(".py") {
            first.starts_with("\"\"\"")
        } else {
            first.starts_with("// ") || first.starts_with("/**")
        };
        if !opens {
            bare.push(format!("{name}: {first:?}"));
        }
    }
    assert_none(bare, "files without an opening doc comment");
}

#[test]
fn no_source_file_is_long_unless_it_holds_one_algorithm() {
    let mut long = Vec::new();
    for name in tracked().iter().filter(|name| language(name).is_some()) {
        let text = read(name);
        let lines = text.lines().count();
        // The header: the opening comment, the first lines up to the first blank one.
        let header: String = text
            .lines()
            .take_while(|line| !line.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if lines > MAX_LINES && !header.contains(ONE_ALGORITHM) {
            long.push(format!(
                "{name}: {lines} lines (split it by job, or say in its header that it {ONE_ALGORITHM})"
            ));
        }
    }
    assert_none(long, &format!("source files over {MAX_LINES} lines"));
}

#[test]
fn no_two_languages_use_one_name_for_different_jobs() {
    let mut by_stem: BTreeMap<String, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
    for name in tracked() {
        if let Some(language) = language(&name) {
            by_stem
                .entry(stem(&name))
                .or_default()
                .entry(language)
                .or_default()
                .push(name.clone());
        }
    }
    let shared: Vec<String> = by_stem
        .into_iter()
        .filter(|(stem, languages)| languages.len() > 1 && !SHARED_STEMS.contains(&stem.as_str()))
        .map(|(stem, languages)| format!("{stem}: {languages:?}"))
        .collect();
    assert_none(
        shared,
        "stems used in several languages (rename, or add to SHARED_STEMS if the job is the same)",
    );
}

#[test]
fn stems_and_languages_are_read_from_names() {
    assert_eq!(stem("node/tiers/tier-1-sidecar.d.ts"), "tier_1_sidecar");
    assert_eq!(stem("python/rusty_qr/tiers/py_tier_1.py"), "py_tier_1");
    assert_eq!(language("node/tiers/tier-2.d.ts"), Some("JavaScript"));
    assert_eq!(language("README.md"), None);
}
