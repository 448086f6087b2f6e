//! Fault tests: real servers under real load (`qr_harness::load`, every answer accounted for), hit
//! by the faults an operator meets: a cluster worker killed with SIGKILL, tier-1-sidecar's child
//! hung (SIGSTOP), SIGTERM while 100 connections are busy and idle sockets are open, `/healthz`
//! turning to `draining` at SIGTERM, a client that sends its head a byte a second, and 2,000
//! connections against the 1,024-connection bound.
//!
//! Run with `cargo xtask test` (after `cargo xtask build`), or alone with
//! `cargo test -p qr-harness --test faults -- --include-ignored --nocapture` (the tallies are
//! printed). Tier-1's own faults (a binary gone, not executable or hung) are tested through the
//! server in node/tests/server.test.js.

mod deaths;
mod overload;
mod shutdown;

use std::sync::{Mutex, MutexGuard};

use qr_harness::contract::{Case, Contract};
use qr_harness::procs;
use qr_harness::{Mode, Server, ServerSpec, Tier};

/// One fault test at a time: each loads the machine's cores, and their bounds (a 503 within 1 s,
/// a cut-off at the header timeout) are about one server under one load.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next one still runs alone.
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every configuration that serves real QR codes: each Node and Python tier in both modes (two
/// workers in a cluster) on each stack of its host, tier-4 and tier-4-nginx. The ceilings share
/// their host's code.
fn configurations() -> Vec<ServerSpec> {
    let mut specs = Vec::new();
    for &tier in Tier::ALL.iter().filter(|t| !t.is_ceiling()) {
        for &stack in tier.host().stacks() {
            specs.push(ServerSpec::new(tier, Mode::Single).on(stack));
            if tier.has_modes() {
                specs.push(cluster(tier).on(stack));
            }
        }
    }
    specs
}

fn cluster(tier: Tier) -> ServerSpec {
    ServerSpec {
        workers: Some(2),
        ..ServerSpec::new(tier, Mode::Cluster)
    }
}

fn contract() -> Contract {
    Contract::load().expect("contract/cases.json loads")
}

/// The contract's QR code requests only.
fn png_cases(contract: &Contract) -> Vec<Case> {
    contract
        .texts("article")
        .iter()
        .map(|text| Case::png(text.clone(), text))
        .collect()
}

/// SIGTERM, then the exit status must be 0.
fn stop_with_0(server: Server, label: &str) {
    let status = server.stop().unwrap();
    assert_eq!(status.code(), Some(0), "{label}: {status}");
}

/// The live child processes of `pid` (a cluster primary's workers).
fn children(pid: u32) -> Vec<i32> {
    let pid = pid as i32;
    let mut children: Vec<i32> = procs::scan_all()
        .expect("/proc is readable")
        .iter()
        .filter(|p| p.ppid == pid)
        .map(|p| p.pid)
        .collect();
    children.sort_unstable();
    children
}
