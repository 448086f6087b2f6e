//! The Kubernetes manifests (deploy/k8s, a kustomize base for tier 4): rendered with
//! `kubectl kustomize`, validated offline against the Kubernetes schemas (kubernetes-validate,
//! strict, from the project's venv), and held to what they promise: probes on `/healthz` at the
//! container's port, a preStop sleep and a grace period that outlast qr-server's drain, requests
//! within limits, a PDB, HPA and Service that reach the Deployment's pods, scrape annotations for
//! `/metrics`. Every check is also shown to reject a manifest broken in the way it guards against.
//!
//! Run with `cargo test -p xtask --test deploy -- --include-ignored`: the first run installs
//! kubectl (Debian's `kubernetes-client`) when none is on PATH and makes `<target dir>/venv` from
//! requirements.lock (`qr_harness::python`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use qr_harness::python::{self, Venv};
use qr_harness::repo_root;
use serde_json::{Value, json};

/// The Kubernetes versions whose schemas the manifests must pass: 1.30, the first where the
/// preStop `sleep` action is on by default (beta); 1.34, where it is GA; 1.37, the newest that
/// kubernetes-validate 1.37.0 ships.
const VERSIONS: &[&str] = &["1.30.0", "1.34.0", "1.37.0"];

/// The port the image's entrypoint listens on (`qr-server --addr 0.0.0.0:8080`).
const IMAGE_PORT: i64 = 8080;

/// The kinds the base holds, one of each.
const KINDS: &[(&str, &str)] = &[
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
];

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

fn render(kubectl: &Path, dir: &Path) -> String {
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
fn to_json(venv: &Venv, yaml: &str) -> Vec<Value> {
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
fn to_yaml(docs: &[Value]) -> String {
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
fn validate(venv: &Venv, yaml: &str, documents: usize, versions: &[&str]) -> Result<(), String> {
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

/// qr-server's drain: `DEFAULT_SHUTDOWN_GRACE` in crates/qr-server/src/lib.rs, in seconds.
fn server_grace_seconds() -> i64 {
    let source = std::fs::read_to_string(repo_root().join("crates/qr-server/src/lib.rs")).unwrap();
    let line = source
        .lines()
        .find(|line| line.contains("const DEFAULT_SHUTDOWN_GRACE: Duration"))
        .expect("crates/qr-server/src/lib.rs defines DEFAULT_SHUTDOWN_GRACE");
    line.split_once("Duration::from_secs(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(seconds, _)| seconds.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!("DEFAULT_SHUTDOWN_GRACE is not `Duration::from_secs(N)` any more: {line}")
        })
}

/// A Kubernetes quantity (`250m`, `1`, `0.5`, `32Mi`, `1G`) as a number of units.
fn quantity(text: &str) -> Option<f64> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    let (number, scale) = SUFFIXES
        .iter()
        .find_map(|(suffix, scale)| text.strip_suffix(suffix).map(|number| (number, *scale)))
        .unwrap_or((text, 1.0));
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0 && !number.contains(['e', 'E'])).then_some(value * scale)
}

/// The one document of `kind`.
fn find<'a>(docs: &'a [Value], kind: &str) -> Option<&'a Value> {
    let mut found = docs.iter().filter(|doc| doc["kind"] == kind);
    let first = found.next();
    if found.next().is_some() { None } else { first }
}

/// Whether `selector` (a label map) is non-empty and every label in it is on the pods.
fn selects(selector: &Value, pod_labels: &Value) -> bool {
    selector.as_object().is_some_and(|map| {
        !map.is_empty() && map.iter().all(|(key, value)| pod_labels[key] == *value)
    })
}

/// What the manifests promise, checked on the rendered documents: one line per broken promise.
fn broken_promises(docs: &[Value], server_grace: i64) -> Vec<String> {
    let mut broken = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            broken.push(what.to_owned());
        }
    };
    for (api_version, kind) in KINDS {
        check(
            find(docs, kind).is_some_and(|doc| doc["apiVersion"] == *api_version),
            &format!("exactly one {kind}, {api_version}"),
        );
    }
    check(docs.len() == KINDS.len(), "nothing but those four");
    let (Some(deployment), Some(service), Some(hpa), Some(pdb)) = (
        find(docs, "Deployment"),
        find(docs, "Service"),
        find(docs, "HorizontalPodAutoscaler"),
        find(docs, "PodDisruptionBudget"),
    ) else {
        return broken;
    };

    let pod = &deployment["spec"]["template"];
    let labels = &pod["metadata"]["labels"];
    check(
        selects(&deployment["spec"]["selector"]["matchLabels"], labels)
            && deployment["spec"]["selector"]["matchExpressions"].is_null(),
        "the Deployment's selector matches its own pods",
    );
    check(
        deployment["spec"]["replicas"].is_null(),
        "no Deployment replicas: the HPA owns the count",
    );
    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    check(containers.len() == 1, "one container");
    let Some(container) = containers.first() else {
        return broken;
    };
    let http = container["ports"]
        .as_array()
        .and_then(|ports| ports.iter().find(|port| port["name"] == "http"));
    check(
        http.is_some_and(|port| port["containerPort"] == IMAGE_PORT),
        "a container port named http on the image's port 8080",
    );
    let at_http = |port: &Value| *port == "http" || *port == IMAGE_PORT;

    for probe in ["readinessProbe", "livenessProbe"] {
        let get = &container[probe]["httpGet"];
        check(
            get["path"] == "/healthz"
                && at_http(&get["port"])
                && (get["scheme"].is_null() || get["scheme"] == "HTTP"),
            &format!("{probe} is GET /healthz on the container port"),
        );
    }
    let liveness = &container["livenessProbe"];
    let patience = liveness["periodSeconds"].as_i64().unwrap_or(10)
        * liveness["failureThreshold"].as_i64().unwrap_or(3);
    check(
        patience > server_grace,
        "liveness gives up only after longer than the drain (period x failures > server grace)",
    );

    let pre_stop = &container["lifecycle"]["preStop"];
    let sleep = pre_stop["sleep"]["seconds"].as_i64().unwrap_or(0);
    check(
        sleep > 0 && pre_stop["exec"].is_null(),
        "preStop is the kubelet's sleep action (the image has no shell)",
    );
    let grace = pod["spec"]["terminationGracePeriodSeconds"]
        .as_i64()
        .unwrap_or(30);
    check(
        grace > sleep + server_grace,
        "terminationGracePeriodSeconds > preStop sleep + server grace",
    );

    let pod_security = &pod["spec"]["securityContext"];
    let security = &container["securityContext"];
    let drops: BTreeSet<&str> = security["capabilities"]["drop"]
        .as_array()
        .map(|drops| drops.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    check(
        (security["runAsNonRoot"] == true || pod_security["runAsNonRoot"] == true)
            && [&security["runAsUser"], &pod_security["runAsUser"]]
                .iter()
                .all(|uid| uid.is_null() || **uid == 65532),
        "runs as non-root (the image's uid 65532)",
    );
    check(
        security["readOnlyRootFilesystem"] == true,
        "readOnlyRootFilesystem",
    );
    check(
        security["allowPrivilegeEscalation"] == false,
        "allowPrivilegeEscalation false",
    );
    check(drops.contains("ALL"), "capabilities drop ALL");

    let resources = &container["resources"];
    for resource in ["cpu", "memory"] {
        let request = resources["requests"][resource].as_str().and_then(quantity);
        let limit = resources["limits"][resource].as_str().and_then(quantity);
        check(
            matches!((request, limit), (Some(request), Some(limit)) if request > 0.0 && request <= limit),
            &format!("{resource}: a request, a limit, and request <= limit"),
        );
    }

    let annotations = &pod["metadata"]["annotations"];
    check(
        annotations["prometheus.io/scrape"] == "true"
            && annotations["prometheus.io/port"]
                .as_str()
                .and_then(|port| port.parse().ok())
                == Some(IMAGE_PORT)
            && annotations["prometheus.io/path"] == "/metrics",
        "scrape annotations: true, the container port, /metrics",
    );

    check(
        selects(&service["spec"]["selector"], labels),
        "the Service selects the Deployment's pods",
    );
    let service_ports = service["spec"]["ports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    check(
        !service_ports.is_empty()
            && service_ports
                .iter()
                .all(|port| at_http(&port["targetPort"])),
        "the Service targets the container port",
    );

    check(
        selects(&pdb["spec"]["selector"]["matchLabels"], labels)
            && pdb["spec"]["selector"]["matchExpressions"].is_null(),
        "the PodDisruptionBudget selects the Deployment's pods",
    );
    let min_replicas = hpa["spec"]["minReplicas"].as_i64().unwrap_or(1);
    let lets_one_go = match (&pdb["spec"]["maxUnavailable"], &pdb["spec"]["minAvailable"]) {
        (Value::Number(max), Value::Null) => max.as_i64().is_some_and(|max| max >= 1),
        (Value::Null, Value::Number(min)) => min.as_i64().is_some_and(|min| min < min_replicas),
        _ => false,
    };
    check(
        lets_one_go,
        "the PodDisruptionBudget lets one pod go (a whole number)",
    );

    let target = &hpa["spec"]["scaleTargetRef"];
    check(
        target["apiVersion"] == "apps/v1"
            && target["kind"] == "Deployment"
            && target["name"] == deployment["metadata"]["name"],
        "the HPA scales the Deployment",
    );
    check(
        min_replicas >= 2 && hpa["spec"]["maxReplicas"].as_i64().unwrap_or(0) >= min_replicas,
        "the HPA keeps two replicas at least",
    );
    let metrics = hpa["spec"]["metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    check(
        metrics.iter().any(|metric| {
            metric["type"] == "Resource"
                && metric["resource"]["name"] == "cpu"
                && metric["resource"]["target"]["type"] == "Utilization"
        }),
        "the HPA scales on CPU utilisation (of requests.cpu)",
    );
    broken
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
fn the_server_grace_is_read_from_qr_server() {
    let grace = server_grace_seconds();
    assert!((1..=300).contains(&grace), "{grace}");
}
