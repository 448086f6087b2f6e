//! Processes that die or hang under load: a cluster worker killed with SIGKILL, and tier-1-sidecar's
//! child stopped with SIGSTOP.

use std::time::{Duration, Instant};

use qr_harness::load::Load;
use qr_harness::procs;
use qr_harness::{Mode, Server, ServerSpec, Tier};

use crate::{children, cluster, contract, one_at_a_time, png_cases, stop_with_0};

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn a_cluster_worker_killed_under_load_costs_at_most_its_in_flight_requests() {
    let _alone = one_at_a_time();
    const CLIENTS: usize = 16;
    let contract = contract();
    let clusters = (Tier::ALL.iter())
        .filter(|t| t.has_modes() && !t.is_ceiling())
        .flat_map(|&tier| (tier.host().stacks().iter()).map(move |&stack| cluster(tier).on(stack)));
    for spec in clusters {
        let label = spec.label();
        let server = Server::start(&spec).unwrap();
        let workers = children(server.pid());
        assert_eq!(workers.len(), 2, "{label}: workers {workers:?}");
        let load = Load::start(server.addr(), CLIENTS, png_cases(&contract), &contract).unwrap();
        load.wait_for("50 answers", Duration::from_secs(30), |t| t.ok >= 50);

        rustix::process::kill_process(
            rustix::process::Pid::from_raw(workers[0]).unwrap(),
            rustix::process::Signal::KILL,
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let replacement = loop {
            let now = children(server.pid());
            if let Some(new) = now.iter().find(|pid| !workers.contains(pid)) {
                break *new;
            }
            assert!(Instant::now() < deadline, "{label}: no new worker: {now:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        // A client sees its lost request when it next runs, which on a loaded machine can be a
        // while after the kill: wait until no new loss has shown for a second. From then on,
        // with the new worker there, nothing more is lost.
        let settle_until = Instant::now() + Duration::from_secs(30);
        let mut replaced = load.tally();
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = load.tally();
            let quiet = now.lost() + now.refused == replaced.lost() + replaced.refused;
            replaced = now;
            if quiet {
                break;
            }
            assert!(
                Instant::now() < settle_until,
                "{label}: losses go on: {replaced}"
            );
        }
        std::thread::sleep(Duration::from_secs(1));
        let after = load.tally().since(&replaced);
        let total = load.finish();
        eprintln!(
            "{label}: worker {} killed, {replacement} replaced it: {total}",
            workers[0]
        );

        // Each client has one request in flight at a time, so the killed worker held at most one
        // per client (on a kept-alive connection, or on a new one it had just accepted); none may
        // be wrong or wait.
        assert!(
            total.lost() + total.refused <= CLIENTS as u64,
            "{label}: {total}"
        );
        assert_eq!(
            (total.wrong, total.stalled, total.busy),
            (0, 0, 0),
            "{label}: {total}"
        );
        assert!(
            after.ok > 0 && after.lost() == 0,
            "{label} after the replacement: {after}"
        );
        assert!(children(server.pid()).contains(&replacement));
        stop_with_0(server, &label);
    }
}

/// The sidecars (`qr-cli --serve`) in `root`'s process tree.
fn sidecars(root: u32) -> Vec<i32> {
    let all = procs::scan_all().expect("/proc is readable");
    procs::tree_pids(root as i32, &all)
        .into_iter()
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.split(|&b| b == 0).any(|arg| arg == b"--serve")
        })
        .collect()
}

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn a_hung_sidecar_fails_its_queue_at_the_first_timeout_and_a_fresh_one_serves() {
    let _alone = one_at_a_time();
    // The article engine (about 0.7 ms a PNG) and 32 clients: the sidecar has a queue, so when it
    // stops, some requests in flight were sent before its last answer.
    const CLIENTS: usize = 32;
    /// tier-1-sidecar's timeout (node/tiers/tier-1.js's TIMEOUT_MS), and a margin.
    const TIMEOUT: Duration = Duration::from_secs(5);
    const MARGIN: Duration = Duration::from_secs(3);
    let contract = contract();
    for mut spec in [
        ServerSpec::new(Tier::Tier1Sidecar, Mode::Single),
        cluster(Tier::Tier1Sidecar),
    ] {
        spec.engine = Some(qr_contract::Engine::Article);
        let label = spec.label();
        let server = Server::start(&spec).unwrap();
        let load = Load::start(server.addr(), CLIENTS, png_cases(&contract), &contract).unwrap();
        load.wait_for("50 answers", Duration::from_secs(30), |t| t.ok >= 50);
        let hung = sidecars(server.pid());
        assert!(!hung.is_empty(), "{label}: no sidecar running");
        for &pid in &hung {
            let pid = rustix::process::Pid::from_raw(pid).unwrap();
            rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
        }
        let before = load.tally();
        std::thread::sleep(TIMEOUT + MARGIN);
        let hang = load.tally().since(&before);
        std::thread::sleep(Duration::from_secs(1));
        let total = load.finish();
        let after = total.since(&before).since(&hang);
        eprintln!("{label}: sidecars {hung:?} stopped: {hang}; then {after}");
        // Every client had at most one request in flight on a hung sidecar: those fail (500) at
        // the first timeout, all at once, and nothing sent later goes to the hung child.
        assert!(hang.wrong <= CLIENTS as u64, "{label}: {hang}");
        assert_eq!((hang.lost(), hang.stalled), (0, 0), "{label}: {hang}");
        assert!(
            after.ok > 0 && after.wrong == 0,
            "{label} once replaced: {after}"
        );
        let left: Vec<i32> = sidecars(server.pid())
            .into_iter()
            .filter(|pid| hung.contains(pid))
            .collect();
        assert!(
            left.is_empty(),
            "{label}: the hung sidecars {left:?} are still there"
        );
        stop_with_0(server, &label);
    }
}
