//! What the rendered manifests promise (see [`broken_promises`]), and what they must agree with
//! outside deploy/k8s: the image deploy/Dockerfile builds and qr-server's drain.

use std::collections::BTreeSet;

use qr_harness::repo_root;
use serde_json::Value;

/// The kinds the base holds, one of each.
pub const KINDS: &[(&str, &str)] = &[
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
];

/// What the manifests must agree with in the image deploy/Dockerfile builds: the port it exposes
/// (`EXPOSE`, where its default command listens) and the uid it runs as (`USER uid:gid`).
pub struct Image {
    pub port: i64,
    pub uid: i64,
}

/// deploy/Dockerfile's `EXPOSE` and `USER`.
pub fn image() -> Image {
    let dockerfile = std::fs::read_to_string(repo_root().join("deploy/Dockerfile")).unwrap();
    let value = |instruction: &str| -> i64 {
        let line = dockerfile
            .lines()
            .find_map(|line| line.strip_prefix(instruction))
            .unwrap_or_else(|| panic!("deploy/Dockerfile has no {instruction}"));
        let number = line.trim().split([':', '/']).next().unwrap_or_default();
        number
            .parse()
            .unwrap_or_else(|_| panic!("{instruction}{line}"))
    };
    Image {
        port: value("EXPOSE "),
        uid: value("USER "),
    }
}

/// qr-server's drain: `DEFAULT_SHUTDOWN_GRACE` in crates/qr-server/src/lib.rs, in seconds.
pub fn server_grace_seconds() -> i64 {
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
pub fn quantity(text: &str) -> Option<f64> {
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
pub fn broken_promises(docs: &[Value], server_grace: i64) -> Vec<String> {
    let image = image();
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
        http.is_some_and(|port| port["containerPort"] == image.port),
        "a container port named http on the image's port",
    );
    let at_http = |port: &Value| *port == "http" || *port == image.port;

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
                .all(|uid| uid.is_null() || **uid == image.uid),
        "runs as non-root (the image's uid)",
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
                == Some(image.port)
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
