//! The map holds: no product crate depends on a lab crate (but for its tests), every tier has its
//! module in its host and a line in the docs, every engine is documented, and README.md is a
//! front door (short, the two commands on its first screen, a link to every doc).

use std::process::Command;

use qr_contract::Engine;
use qr_harness::{Host, Tier};
use serde_json::Value;

use crate::{assert_none, read, root, tracked};

/// README.md's most lines, and the line by which both commands must have appeared.
const README_LINES: usize = 150;
const COMMANDS_BY_LINE: usize = 40;

#[test]
fn no_product_crate_depends_on_a_lab_crate_but_for_its_tests() {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let folder_of = |manifest: &str| {
        let relative = manifest
            .strip_prefix(root().to_str().unwrap())
            .unwrap()
            .trim_start_matches('/');
        relative.split('/').next().unwrap().to_owned()
    };
    let lab: Vec<&str> = packages
        .iter()
        .filter(|p| folder_of(p["manifest_path"].as_str().unwrap()) == "lab")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(lab.contains(&"qr-harness"), "lab crates: {lab:?}");
    let mut wrong = Vec::new();
    for package in packages {
        if folder_of(package["manifest_path"].as_str().unwrap()) != "crates" {
            continue;
        }
        for dependency in package["dependencies"].as_array().unwrap() {
            let name = dependency["name"].as_str().unwrap();
            if lab.contains(&name) && dependency["kind"].as_str() != Some("dev") {
                wrong.push(format!("{} depends on {name}", package["name"]));
            }
        }
    }
    assert_none(
        wrong,
        "product crates that depend on the lab outside their tests",
    );
}

/// The file that holds a tier's code in its host, where the host has one per tier.
fn tier_module(tier: Tier) -> Option<String> {
    match tier.host() {
        Host::Node => Some(format!("node/tiers/{}.js", tier.name())),
        Host::Python => Some(format!(
            "python/rusty_qr/tiers/{}.py",
            tier.name().replace('-', "_")
        )),
        Host::Rust => None,
    }
}

#[test]
fn every_tier_has_its_module_and_a_line_in_the_docs() {
    let files = tracked();
    let readme = read("README.md");
    let ceilings = read("docs/variants-and-ceilings.md");
    let mut absent = Vec::new();
    for &tier in Tier::ALL {
        if let Some(module) = tier_module(tier).filter(|module| !files.contains(module)) {
            absent.push(format!("{tier}: {module}"));
        }
        let (doc, text) = if tier.is_ceiling() {
            ("docs/variants-and-ceilings.md", &ceilings)
        } else {
            ("README.md", &readme)
        };
        if !text.contains(&format!("`{}`", tier.name()))
            && !text.contains(&format!("| {} ", tier.name()))
        {
            absent.push(format!("{tier}: named in {doc}"));
        }
    }
    assert_none(absent, "tiers without their module or their line");
}

#[test]
fn every_engine_is_documented() {
    let developing = read("docs/developing.md");
    let absent: Vec<String> = Engine::ALL
        .iter()
        .filter(|engine| !developing.contains(&format!("`{}`", engine.name())))
        .map(|engine| format!("{engine}: named in docs/developing.md"))
        .collect();
    assert_none(absent, "engines without a line");
}

#[test]
fn the_readme_is_a_front_door() {
    let readme = read("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let mut wrong = Vec::new();
    if lines.len() > README_LINES {
        wrong.push(format!("{} lines, more than {README_LINES}", lines.len()));
    }
    for command in ["cargo xtask test", "cargo xtask bench"] {
        match lines.iter().position(|line| line.starts_with(command)) {
            Some(at) if at < COMMANDS_BY_LINE => {}
            _ => wrong.push(format!(
                "`{command}` not on a line of its own in the first {COMMANDS_BY_LINE}"
            )),
        }
    }
    for doc in tracked().iter().filter(|name| name.starts_with("docs/")) {
        if !readme.contains(&format!("]({doc})")) {
            wrong.push(format!("no link to {doc}"));
        }
    }
    assert_none(wrong, "README.md");
}
