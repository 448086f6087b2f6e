//! `qr-cluster` with real processes, namespaces and sockets: N replicas of qr-server, each in its
//! own network namespace, behind nginx, under 100 keep-alive connections of load
//! (`qr_harness::load`, every answer checked against the contract): a replica killed with SIGKILL
//! costs at most the requests in flight on it, a rolling restart (SIGTERM one at a time) costs
//! none, and everything is torn down on SIGTERM and on a failed start.
//!
//! Needs root and the release builds (`cargo xtask build`); run with
//! `cargo test -p qr-cluster --test replicas -- --include-ignored --nocapture` (prints the tallies).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use qr_cluster::cluster::{Cluster, ClusterSpec};
use qr_harness::contract::{Case, Contract};
use qr_harness::load::{Load, Tally};
use qr_harness::{Stack, http};

/// Client connections, as in the benchmark and the SIGTERM fault test.
const CLIENTS: usize = 100;

/// One cluster at a time: each loads both cores, and the teardown checks look for every
/// namespace this process made.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn start(hosts: usize) -> Cluster {
    let nginx = qr_harness::tools::nginx().unwrap_or_else(|e| panic!("{e:#}"));
    let spec = ClusterSpec {
        hosts,
        engine: None,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    Cluster::start(&nginx, &spec).unwrap_or_else(|e| panic!("{e:#}"))
}

/// The contract's cases for the Rust host that nginx may send twice: all but POST and PATCH
/// (nginx never resends a POST, LOCK or PATCH it has sent; see config.rs), the PNGs of every text
/// set among them.
fn idempotent_load(addr: SocketAddr) -> Load {
    let contract = Contract::load().expect("contract/cases.json loads");
    let cases: Vec<Case> = (contract.cases(Stack::Axum).into_iter())
        .filter(|case| !matches!(case.method.as_str(), "POST" | "PATCH" | "LOCK"))
        .collect();
    Load::start(addr, CLIENTS, cases, &contract).unwrap()
}

/// Every request that did not get the contract's answer.
fn failed(tally: &Tally) -> u64 {
    tally.lost() + tally.refused + tally.wrong + tally.stalled + tally.busy
}

/// Three replicas under load, every client answered a few times.
fn three_under_load() -> (Cluster, Load) {
    let cluster = start(3);
    let load = idempotent_load(cluster.addr());
    let answered = 3 * CLIENTS as u64;
    load.wait_for("every client answered", Duration::from_secs(60), |t| {
        t.ok >= answered
    });
    (cluster, load)
}

/// The namespaces whose names start with `prefix`.
fn namespaces(prefix: &str) -> Vec<String> {
    let output = Command::new("ip").args(["netns", "list"]).output().unwrap();
    (String::from_utf8_lossy(&output.stdout).lines())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// The network interfaces of this namespace whose names start with `prefix`.
fn links(prefix: &str) -> Vec<String> {
    (std::fs::read_dir("/sys/class/net").unwrap().flatten())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

/// Whether `pid` runs (a zombie does not).
fn runs(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// Waits (at most 10 s) until `gone` holds: the kernel removes a namespace's devices
/// asynchronously.
fn eventually(what: &str, gone: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "needs root and `cargo xtask build`; run by `cargo xtask test`"]
fn a_replica_killed_under_load_costs_at_most_its_in_flight_requests() {
    let _alone = one_at_a_time();
    let (mut cluster, load) = three_under_load();
    // Each request in flight on the replica holds one of its connections: their count bounds them.
    let connections = cluster.connections(0);
    let before = load.tally();
    let status = cluster.kill_replica(0).unwrap();
    // A client sees a failed request when it next runs, which on a loaded machine can be a while
    // after the kill: wait until no new failure has shown for a second; after that, with nginx
    // skipping the dead replica, nothing more may fail.
    let settle_until = Instant::now() + Duration::from_secs(30);
    let mut settled = load.tally();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = load.tally();
        let quiet = failed(&now) == failed(&settled);
        settled = now;
        if quiet {
            break;
        }
        assert!(Instant::now() < settle_until, "failures go on: {settled}");
    }
    // Past the replica's fail_timeout (2 s), when nginx tries it again and finds it still dead.
    std::thread::sleep(Duration::from_secs(3));
    let after = load.tally().since(&settled);
    let total = load.finish();
    eprintln!(
        "replica 0 killed ({status}) with {connections} connections from nginx: {total}\n  after it settled: {after}"
    );
    assert_eq!(failed(&before), 0, "before the kill: {before}");
    assert!(
        failed(&total) <= connections as u64,
        "more failures than the {connections} requests the replica can have had in flight: {total}"
    );
    assert!(
        after.ok > 0 && failed(&after) == 0,
        "the two others serve everything: {after}"
    );
    assert!(cluster.stop(), "the cluster stops cleanly");
}

#[test]
#[ignore = "needs root and `cargo xtask build`; run by `cargo xtask test`"]
fn a_rolling_restart_under_load_fails_no_request() {
    let _alone = one_at_a_time();
    let (mut cluster, load) = three_under_load();
    for i in 0..cluster.len() {
        let old = cluster.replica_pid(i).unwrap();
        let served = load.tally().ok;
        let started = Instant::now();
        let status = cluster.stop_replica(i).unwrap();
        assert_eq!(status.code(), Some(0), "replica {i} drained and exited 0");
        cluster.start_replica(i).unwrap();
        cluster.wait_served(i, Duration::from_secs(30)).unwrap();
        assert_ne!(cluster.replica_pid(i), Some(old));
        eprintln!(
            "replica {i}: stopped ({status}), started and served again after {:?}: {}",
            started.elapsed(),
            load.tally()
        );
        assert!(load.tally().ok > served, "the cluster kept serving");
    }
    std::thread::sleep(Duration::from_secs(1));
    let total = load.finish();
    eprintln!("rolling restart of 3 replicas under {CLIENTS} connections: {total}");
    assert_eq!(failed(&total), 0, "{total}");
    assert!(total.ok > 0);
    assert!(cluster.stop(), "the cluster stops cleanly");
}

#[test]
#[ignore = "needs root and `cargo xtask build`; run by `cargo xtask test`"]
fn a_failed_start_removes_what_it_made() {
    let _alone = one_at_a_time();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let nginx = qr_harness::tools::nginx().unwrap();
    let spec = ClusterSpec {
        hosts: 2,
        engine: None,
        listen: taken.local_addr().unwrap(),
    };
    let err = Cluster::start(&nginx, &spec).unwrap_err();
    assert!(
        format!("{err:#}").contains("nginx exited before it was ready"),
        "{err:#}"
    );
    let ours = format!("rusty-qr-{}-", std::process::id());
    assert_eq!(namespaces(&ours), Vec::<String>::new());
    eventually("the veth pairs are gone", || {
        links(&format!("rq{}-", std::process::id())).is_empty()
    });
}

#[test]
#[ignore = "needs root and `cargo xtask build`; run by `cargo xtask test`"]
fn sigterm_stops_everything_and_removes_the_namespaces() {
    let _alone = one_at_a_time();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qr-cluster"))
        .args(["--hosts", "2", "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = (line.trim().strip_prefix("listening on http://"))
        .unwrap_or_else(|| panic!("ready line: {line:?}"))
        .parse()
        .unwrap();
    for _ in 0..4 {
        let response = http::send(addr, "GET", "/qrcode?text=hello", &[]).unwrap();
        assert_eq!(response.status, 200);
    }
    let pid = child.id();
    let prefix = format!("rusty-qr-{pid}-");
    assert_eq!(namespaces(&prefix).len(), 2);
    assert_eq!(links(&format!("rq{pid}-")).len(), 2);
    let processes: Vec<u32> = qr_harness::procs::scan_all()
        .unwrap()
        .iter()
        .filter(|p| p.ppid == pid as i32)
        .map(|p| p.pid as u32)
        .collect();
    assert_eq!(processes.len(), 3, "nginx and two replicas: {processes:?}");

    let started = Instant::now();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(namespaces(&prefix), Vec::<String>::new());
    eventually("the veth pairs are gone", || {
        links(&format!("rq{pid}-")).is_empty()
    });
    eventually("nginx and the replicas are gone", || {
        processes.iter().all(|&p| !runs(p))
    });
    let runs_dir = qr_harness::paths::target_dir().join("nginx");
    let left: Vec<_> = (std::fs::read_dir(runs_dir).into_iter().flatten().flatten())
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{pid}-"))
        })
        .collect();
    assert!(left.is_empty(), "nginx's run folder is removed: {left:?}");
}
