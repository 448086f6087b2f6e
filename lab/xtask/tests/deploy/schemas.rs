//! Rendering and schema-checking deploy/k8s for the manifests' test: `kubectl kustomize`, the
//! YAML read as JSON by the venv's PyYAML, and kubernetes-validate `--strict` from the venv.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use qr_harness::python::Venv;
use serde_json::Value;

/// The manifests in `dir` as `kubectl kustomize` renders them.
pub fn render(kubectl: &Path, dir: &Path) -> String {
    let output = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    assert!(
        output.status.success(),
        "kubectl kustomize {} failed ({}): {}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("kubectl prints UTF-8")
}

/// The YAML documents of `yaml` as JSON values, parsed by the venv's PyYAML (the parser
/// kubernetes-validate uses).
pub fn to_json(venv: &Venv, yaml: &str) -> Vec<Value> {
    let file = scratch_file(yaml);
    let output = Command::new(venv.python())
        .args([
            "-c",
            "import json, sys, yaml\n\
             with open(sys.argv[1]) as f:\n    \
                 json.dump([d for d in yaml.safe_load_all(f) if d], sys.stdout)",
        ])
        .arg(&file)
        .output()
        .expect("the venv's python runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "PyYAML cannot read the YAML: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json.dump writes JSON")
}

/// JSON documents as one YAML stream (JSON is YAML).
pub fn to_yaml(docs: &[Value]) -> String {
    docs.iter()
        .map(|doc| serde_json::to_string_pretty(doc).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// A file of its own in the temp folder holding `text`.
fn scratch_file(text: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "rusty-qr-deploy-{}-{}.yaml",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// kubernetes-validate `--strict` on `yaml` (of `documents` documents) for each of `versions`:
/// Ok only if every document passed against every version. Its exit status alone is not enough:
/// a kind or apiVersion it has no schema for is only a warning, with status 0. (From a file, not
/// stdin: with stdin and several `-k`, 1.37.0 reads it once and fails the second version.)
pub fn validate(
    venv: &Venv,
    yaml: &str,
    documents: usize,
    versions: &[&str],
) -> Result<(), String> {
    let file = scratch_file(yaml);
    let mut command = venv.module("kubernetes_validate");
    command.arg("--strict");
    for version in versions {
        command.args(["-k", version]);
    }
    let output = command
        .arg(&file)
        .output()
        .expect("kubernetes-validate runs");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = format!(
        "kubernetes-validate ({}):\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let passed = stdout
        .lines()
        .filter(|line| line.starts_with("INFO ") && line.contains(" passed for resource "))
        .count();
    let other = stdout
        .lines()
        .any(|line| !(line.starts_with("INFO ") && line.contains(" passed for resource ")));
    if output.status.success() && !other && passed == documents * versions.len() {
        Ok(())
    } else {
        Err(report)
    }
}
