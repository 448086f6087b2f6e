//! The Kubernetes manifests (deploy/k8s, a kustomize base for tier 4): rendered with
//! `kubectl kustomize`, validated offline against the Kubernetes schemas (kubernetes-validate,
//! strict, from the project's venv), and held to what they promise: the port and uid of the image
//! deploy/Dockerfile builds, probes on `/healthz` at the container's port, a preStop sleep and a
//! grace period that outlast qr-server's drain, requests within limits, a PDB, HPA and Service
//! that reach the Deployment's pods, scrape annotations for `/metrics`. Every check is also shown
//! to reject a manifest broken in the way it guards against.
//!
//! Run with `cargo test -p xtask --test deploy -- --include-ignored`: the first run installs
//! kubectl (Debian's `kubernetes-client`) when none is on PATH and makes `<target dir>/venv` from
//! requirements.lock (`qr_harness::python`). promises.rs holds what the manifests promise,
//! schemas.rs the rendering and the schema check.

mod promises;
mod schemas;

use std::sync::OnceLock;

use qr_harness::python::{self, Venv};
use qr_harness::repo_root;
use serde_json::{Value, json};

use promises::{KINDS, broken_promises, image, quantity, server_grace_seconds};
use schemas::{render, to_json, to_yaml, validate};

/// The Kubernetes versions whose schemas the manifests must pass: 1.30, the first where the
/// preStop `sleep` action is on by default (beta); 1.34, where it is GA; 1.37, the newest that
/// kubernetes-validate 1.37.0 ships.
const VERSIONS: &[&str] = &["1.30.0", "1.34.0", "1.37.0"];

/// The kustomization fields that kustomize v2.0.3 (Debian 12's kubectl 1.20) knows as well as
/// today's: the base must render with either.
const OLD_KUSTOMIZE_FIELDS: &[&str] =
    &["apiVersion", "kind", "resources", "images", "commonLabels"];

struct Setup {
    venv: Venv,
    rendered: String,
    docs: Vec<Value>,
}

/// kubectl and the venv (installed when missing), and `deploy/k8s` rendered once.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let kubectl = qr_harness::tools::kubectl().unwrap_or_else(|error| panic!("{error:#}"));
        let venv = python::venv().unwrap_or_else(|error| panic!("{error:#}"));
        let rendered = render(&kubectl, &repo_root().join("deploy/k8s"));
        let docs = to_json(&venv, &rendered);
        Setup {
            venv,
            rendered,
            docs,
        }
    })
}

/// `docs` with the value at `pointer` (a JSON pointer into the document of `kind`) replaced,
/// or removed when `value` is null.
fn with(docs: &[Value], kind: &str, pointer: &str, value: Value) -> Vec<Value> {
    let mut docs = docs.to_vec();
    let doc = docs
        .iter_mut()
        .find(|doc| doc["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"));
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/").replace("~0", "~");
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{kind} has no {parent}"));
    match parent {
        Value::Object(map) if value.is_null() => {
            map.remove(&key)
                .unwrap_or_else(|| panic!("{kind} has no {pointer}"));
        }
        Value::Object(map) => {
            map.insert(key, value);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{kind}: {parent} is neither an object nor an array"),
    }
    docs
}

const CONTAINER: &str = "/spec/template/spec/containers/0";

#[test]
#[ignore = "needs kubectl and the project's Python venv (installed when missing); run by `cargo xtask test`"]
fn the_manifests_render_and_pass_the_kubernetes_schemas() {
    let setup = setup();
    assert_eq!(setup.docs.len(), KINDS.len(), "{}", setup.rendered);
    if let Err(report) = validate(&setup.venv, &setup.rendered, setup.docs.len(), VERSIONS) {
        panic!(
            "the rendered manifests do not validate:\n{report}\n{}",
            setup.rendered
        );
    }
    let kustomization =
        std::fs::read_to_string(repo_root().join("deploy/k8s/kustomization.yaml")).unwrap();
    let kustomization = to_json(&setup.venv, &kustomization);
    let fields: Vec<&String> = kustomization[0].as_object().unwrap().keys().collect();
    assert!(
        fields
            .iter()
            .all(|field| OLD_KUSTOMIZE_FIELDS.contains(&field.as_str())),
        "kustomization.yaml uses fields old kustomize does not know: {fields:?}"
    );
}

#[test]
#[ignore = "needs kubectl and the project's Python venv (installed when missing); run by `cargo xtask test`"]
fn the_manifests_keep_their_promises() {
    let setup = setup();
    let grace = server_grace_seconds();
    assert!(grace > 0);
    let broken = broken_promises(&setup.docs, grace);
    assert!(
        broken.is_empty(),
        "deploy/k8s breaks its promises:\n  {}\n{}",
        broken.join("\n  "),
        setup.rendered
    );
}

#[test]
#[ignore = "needs kubectl and the project's Python venv (installed when missing); run by `cargo xtask test`"]
fn the_schemas_reject_a_broken_manifest() {
    let setup = setup();
    let docs = &setup.docs;
    let count = docs.len();
    // The untouched documents pass as JSON too, so each failure below is the breakage's.
    validate(&setup.venv, &to_yaml(docs), count, &["1.34.0"]).unwrap();
    let broken = [
        (
            "a misspelt field (strict)",
            with(
                docs,
                "Deployment",
                &format!("{CONTAINER}/readinessprobe"),
                json!({}),
            ),
        ),
        (
            "a port as a string",
            with(
                docs,
                "Deployment",
                &format!("{CONTAINER}/ports/0/containerPort"),
                json!("8080"),
            ),
        ),
        (
            "no selector (required)",
            with(docs, "Deployment", "/spec/selector", Value::Null),
        ),
        (
            "an apiVersion with no schema (only a warning to kubernetes-validate)",
            with(
                docs,
                "HorizontalPodAutoscaler",
                "/apiVersion",
                json!("autoscaling/v9"),
            ),
        ),
        (
            "a sleep that is not a number",
            with(
                docs,
                "Deployment",
                &format!("{CONTAINER}/lifecycle/preStop/sleep/seconds"),
                json!("five"),
            ),
        ),
    ];
    for (what, docs) in broken {
        assert!(
            validate(&setup.venv, &to_yaml(&docs), count, &["1.34.0"]).is_err(),
            "the schemas accepted {what}"
        );
    }
    // The preStop sleep action is unknown to 1.28's schema: the versions tested are the ones
    // where it exists.
    assert!(validate(&setup.venv, &setup.rendered, count, &["1.28.0"]).is_err());
}

#[test]
#[ignore = "needs kubectl and the project's Python venv (installed when missing); run by `cargo xtask test`"]
fn each_promise_check_rejects_its_broken_promise() {
    let setup = setup();
    let docs = &setup.docs;
    let grace = server_grace_seconds();
    let deployment = |pointer: &str, value| with(docs, "Deployment", pointer, value);
    let container = |pointer: &str, value| deployment(&format!("{CONTAINER}{pointer}"), value);
    let cases = [
        (
            container("/readinessProbe/httpGet/path", json!("/health")),
            "readinessProbe",
        ),
        (
            container("/livenessProbe/httpGet/port", json!(9090)),
            "livenessProbe",
        ),
        (
            container("/livenessProbe/failureThreshold", json!(1)),
            "liveness gives up",
        ),
        (
            container(
                "/lifecycle/preStop",
                json!({"exec": {"command": ["sleep", "5"]}}),
            ),
            "preStop",
        ),
        (
            deployment(
                "/spec/template/spec/terminationGracePeriodSeconds",
                json!(grace),
            ),
            "terminationGracePeriodSeconds",
        ),
        (container("/resources/requests/cpu", json!("2")), "cpu"),
        (
            container("/resources/requests/memory", json!("1Gi")),
            "memory",
        ),
        (container("/resources/limits/memory", Value::Null), "memory"),
        (
            container("/securityContext/readOnlyRootFilesystem", json!(false)),
            "readOnlyRootFilesystem",
        ),
        (
            container("/securityContext/capabilities/drop", json!(["NET_RAW"])),
            "drop ALL",
        ),
        (
            container("/securityContext/allowPrivilegeEscalation", Value::Null),
            "allowPrivilegeEscalation",
        ),
        (
            deployment("/spec/template/spec/securityContext/runAsUser", json!(0)),
            "non-root",
        ),
        (
            deployment(
                "/spec/template/metadata/annotations/prometheus.io~1path",
                json!("/stats"),
            ),
            "scrape",
        ),
        (
            deployment(
                "/spec/template/metadata/annotations/prometheus.io~1port",
                json!("9090"),
            ),
            "scrape",
        ),
        (deployment("/spec/replicas", json!(3)), "replicas"),
        (
            with(docs, "Service", "/spec/ports/0/targetPort", json!(9090)),
            "Service targets",
        ),
        (
            with(
                docs,
                "Service",
                "/spec/selector",
                json!({"app.kubernetes.io/name": "other"}),
            ),
            "Service selects",
        ),
        (
            with(
                docs,
                "PodDisruptionBudget",
                "/spec/selector/matchLabels",
                json!({"app.kubernetes.io/name": "other"}),
            ),
            "PodDisruptionBudget selects",
        ),
        (
            with(
                docs,
                "PodDisruptionBudget",
                "/spec/maxUnavailable",
                json!(0),
            ),
            "lets one pod go",
        ),
        (
            with(
                docs,
                "HorizontalPodAutoscaler",
                "/spec/scaleTargetRef/name",
                json!("other"),
            ),
            "HPA scales the Deployment",
        ),
        (
            with(
                docs,
                "HorizontalPodAutoscaler",
                "/spec/minReplicas",
                json!(1),
            ),
            "two replicas",
        ),
        (docs[..3].to_vec(), "exactly one"),
    ];
    assert!(broken_promises(docs, grace).is_empty());
    for (docs, expected) in cases {
        let broken = broken_promises(&docs, grace);
        assert!(
            broken.iter().any(|line| line.contains(expected)),
            "expected a broken promise about {expected:?}, got {broken:?}"
        );
    }
    // A server that drains for longer than the pod's grace period is caught too.
    assert!(
        broken_promises(docs, 60)
            .iter()
            .any(|line| line.contains("terminationGracePeriodSeconds"))
    );
}

#[test]
fn quantities_parse_as_kubernetes_writes_them() {
    assert_eq!(quantity("250m"), Some(0.25));
    assert_eq!(quantity("1"), Some(1.0));
    assert_eq!(quantity("0.5"), Some(0.5));
    assert_eq!(quantity("32Mi"), Some(32.0 * 1048576.0));
    assert_eq!(quantity("1G"), Some(1e9));
    assert!(quantity("192Mi") > quantity("32Mi"));
    assert!(
        quantity("200M") < quantity("192Mi"),
        "Mi is binary, M decimal"
    );
    assert_eq!(quantity("1e3"), None);
    assert_eq!(quantity("lots"), None);
    assert_eq!(quantity("-1"), None);
}

#[test]
fn the_image_port_and_uid_are_read_from_the_dockerfile() {
    let image = image();
    assert_eq!((image.port, image.uid), (8080, 65532));
}

#[test]
fn the_server_grace_is_read_from_qr_server() {
    let grace = server_grace_seconds();
    assert!((1..=300).contains(&grace), "{grace}");
}
