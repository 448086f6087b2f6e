//! rusty-qr's many hosts on one machine: N replicas of qr-server (tier 4), each in a network
//! namespace of its own, behind a real nginx on 127.0.0.1 that balances them with passive health
//! checks and retries. A replica that exits on its own is started again.
//!
//! Run with `cargo xtask cluster --hosts N [--engine E] [--port P]` (builds first), or
//! `qr-cluster --hosts 3 [--addr 127.0.0.1:42069] [--engine E]` as root after `cargo xtask build`.
//! It prints `listening on http://ADDR` once nginx accepts connections; SIGINT or SIGTERM stops
//! nginx, then the replicas, and removes the namespaces (exit 0 if all stopped cleanly).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use qr_cluster::cluster::{Cluster, ClusterSpec, Part};
use qr_cluster::netns::MAX_REPLICAS;
use qr_contract::Engine;
use signal_hook::consts::{SIGCHLD, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "qr-cluster",
    version,
    about = "rusty-qr: N replicas of qr-server, each in its own network namespace, behind nginx.",
    long_about = None,
    after_help = AFTER_HELP,
)]
struct Cli {
    /// Replicas of qr-server, each in a network namespace of its own
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=MAX_REPLICAS as i64))]
    hosts: u8,

    /// Address nginx listens on (port 0: any free port; the ready line shows the one taken)
    #[arg(long, value_name = "HOST:PORT", default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, 42069)))]
    addr: SocketAddr,

    /// The engine the replicas render with (default: qr-server's)
    #[arg(long, value_name = "ENGINE")]
    engine: Option<Engine>,
}

/// The end of `--help`.
const AFTER_HELP: &str = "\
Runs as root: it makes one network namespace per replica (ip netns add) and a veth pair to it, \
with a /30 of 10.213.0.0/16 that no address or route of this machine overlaps (the replica's \
end, eth0, inside; the host's end, rq<pid>-<k>-<i>, here). Each replica, the release build of \
qr-server, listens on its namespace's address, port 42069. nginx (on PATH or /usr/sbin/nginx) \
balances them round-robin, takes a replica that fails out of the rotation for 2 s, and sends an \
idempotent request that failed on one replica to the next; its configuration is in the target \
directory's nginx/<pid>-cluster-.../ folder while it runs.

When nginx accepts connections it prints one line to stdout, `listening on http://ADDR`. A \
replica that exits on its own is started again. On SIGINT or SIGTERM it stops nginx gracefully \
(SIGQUIT), then the replicas (SIGTERM), and deletes the namespaces and veth pairs. If it is killed \
(SIGKILL), nginx and the replicas stop on their own, and the next run removes the namespaces.

Exit status:
  0  everything stopped cleanly after SIGINT or SIGTERM
  1  something could not start, nginx exited on its own, or something did not stop cleanly
  2  usage error";

fn main() -> ExitCode {
    qr_contract::cli::parse::<Cli>().map_or_else(
        |usage| usage,
        |cli| {
            run(&cli).unwrap_or_else(|err| {
                eprintln!("qr-cluster: {err:#}");
                ExitCode::FAILURE
            })
        },
    )
}

fn run(cli: &Cli) -> Result<ExitCode> {
    if !rustix::process::geteuid().is_root() {
        anyhow::bail!(
            "needs root: it makes network namespaces and veth pairs (run it as root, or with sudo)"
        );
    }
    // Before anything starts: a signal during start-up waits for the loop below.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGCHLD]).context("cannot handle signals")?;
    let binary = qr_harness::tools::find_nginx().context(
        "nginx is not installed (neither on PATH nor /usr/sbin/nginx): `cargo xtask build` installs it",
    )?;
    let spec = ClusterSpec {
        hosts: usize::from(cli.hosts),
        engine: cli.engine,
        listen: cli.addr,
    };
    // On an error, dropping what was started stops it and removes the namespaces.
    let mut cluster = Cluster::start(&binary, &spec)?;
    for (i, (addr, (netns, veth))) in cluster
        .replica_addrs()
        .into_iter()
        .zip(cluster.namespaces())
        .enumerate()
    {
        eprintln!("qr-cluster: replica {i} on {addr} in namespace {netns} (veth {veth})");
    }
    let mut batch: Vec<i32> = signals.pending().collect();
    let stopping = |batch: &[i32]| batch.iter().any(|&s| s == SIGINT || s == SIGTERM);
    if !stopping(&batch) {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{}", cluster.addr())?;
        stdout.flush()?;
    }
    loop {
        if stopping(&batch) {
            let clean = cluster.stop();
            return Ok(ExitCode::from(u8::from(!clean)));
        }
        // SIGCHLD: nginx ends the cluster; a replica is started again.
        while let Some((which, status)) = cluster.exited()? {
            let Part::Replica(i) = which else {
                eprintln!(
                    "qr-cluster: nginx exited unexpectedly ({status}); stopping the replicas"
                );
                cluster.stop();
                return Ok(ExitCode::FAILURE);
            };
            eprintln!("qr-cluster: {which} exited unexpectedly ({status}); starting it again");
            if let Err(err) = cluster.start_replica(i) {
                eprintln!("qr-cluster: {err:#}; stopping the cluster");
                cluster.stop();
                return Ok(ExitCode::FAILURE);
            }
        }
        batch = signals.wait().collect();
    }
}
