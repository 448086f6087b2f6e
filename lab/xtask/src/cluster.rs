//! `cargo xtask cluster`: many hosts on one machine. Builds qr-server and qr-cluster, installs
//! nginx when missing, then replaces this process with `qr-cluster`, so Ctrl-C and SIGTERM reach
//! it directly and it tears everything down (lab/qr-cluster/src/cluster.rs).

use anyhow::{Context, Result};
use qr_contract::Engine;
use qr_harness::{paths, repo_root};

/// `cargo xtask cluster --hosts N [--engine E] [--port P]`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// Replicas of qr-server, each in a network namespace of its own (1 to 99).
    #[arg(long, default_value_t = 3)]
    hosts: u8,
    /// The replicas' engine [default: fast].
    #[arg(long)]
    engine: Option<Engine>,
    /// nginx's port on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = crate::serve::TIER_PORT)]
    port: u16,
}

/// Builds, then execs `qr-cluster` (as root: it makes network namespaces).
pub fn cluster(args: &ClusterArgs) -> Result<()> {
    if !rustix::process::geteuid().is_root() {
        anyhow::bail!(
            "cargo xtask cluster makes network namespaces and veth pairs: run it as root"
        );
    }
    qr_harness::tools::nginx()?;
    crate::builds::release(repo_root(), &["qr-server", "qr-cluster"])?;
    let mut command = std::process::Command::new(paths::release_binary("qr-cluster"));
    command
        .args(["--hosts", &args.hosts.to_string()])
        .args(["--addr", &format!("127.0.0.1:{}", args.port)])
        .current_dir(repo_root());
    if let Some(engine) = args.engine {
        command.args(["--engine", engine.name()]);
    }
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    Err(error).context("could not start qr-cluster")
}
