//! rusty-qr tier-4-nginx, the partial rewrite as teams deploy it: a real nginx on 127.0.0.1 routes
//! `/qrcode` to qr-server (tier 4) and every other path to the Node app (tier-0, single), and this
//! program starts, watches and stops the three as one process.
//!
//! Run with `qr-nginx [--addr 127.0.0.1:42069] [--engine E]` after `cargo xtask build` (or
//! `cargo xtask serve tier-4-nginx`). It prints `listening on http://ADDR` once nginx accepts
//! connections. SIGINT or SIGTERM stops all three gracefully (exit 0 if each stopped cleanly); if
//! one exits on its own, the others are stopped and it exits 1. `qr-nginx --help` says more.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{ExitCode, ExitStatus};

use anyhow::{Context, Result};
use clap::Parser;
use qr_contract::Engine;
use qr_harness::{Mode, Server, ServerSpec, Tier};
use signal_hook::consts::{SIGCHLD, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use qr_nginx::config::{Backends, Config, RUST_PATHS};
use qr_nginx::nginx::{Nginx, RunDir};

/// Where nginx listens unless `--addr` says otherwise: qr-server's default address.
const DEFAULT_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 42069);

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "qr-nginx",
    version,
    about = "rusty-qr tier-4-nginx: nginx routes GET /qrcode to qr-server and every other path to the Node app.",
    long_about = None,
    after_help = AFTER_HELP,
)]
struct Cli {
    /// Address nginx listens on (port 0: any free port; the ready line shows the one taken)
    #[arg(long, value_name = "HOST:PORT", default_value_t = DEFAULT_ADDR)]
    addr: SocketAddr,

    /// The engine qr-server renders with (default: qr-server's)
    #[arg(long, value_name = "ENGINE")]
    engine: Option<Engine>,
}

/// The end of `--help`.
const AFTER_HELP: &str = "\
Needs the release builds of qr-server and the Node app's dependencies (`cargo xtask build`), and \
nginx (on PATH or /usr/sbin/nginx; `cargo xtask build` installs Debian's package). Both apps listen \
on ephemeral ports of 127.0.0.1; nginx's configuration, pid file and logs are in the target \
directory's nginx/<pid>/ folder while it runs.

When nginx accepts connections it prints one line to stdout, `listening on http://ADDR`. On SIGINT \
or SIGTERM it stops nginx gracefully (SIGQUIT), then both apps (SIGTERM).

Exit status:
  0  all three stopped cleanly after SIGINT or SIGTERM
  1  one could not start or exited on its own (the others are stopped), or one did not stop cleanly
  2  usage error";

fn main() -> ExitCode {
    let cli: Cli = match qr_contract::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("qr-nginx: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    // Before any child starts: a signal during start-up waits for the loop below instead of
    // ending qr-nginx with its children left running.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGCHLD]).context("cannot handle signals")?;
    let binary = qr_harness::tools::find_nginx().context(
        "nginx is not installed (neither on PATH nor /usr/sbin/nginx): `cargo xtask build` installs it",
    )?;
    let dir = RunDir::create()?;
    let mut three = Three::default();
    if let Err(err) = three.start(cli, &binary, &dir) {
        eprintln!("qr-nginx: {err:#}");
        three.stop();
        return Ok(ExitCode::FAILURE);
    }
    let mut batch: Vec<i32> = signals.pending().collect();
    if !batch
        .iter()
        .any(|&signal| signal == SIGINT || signal == SIGTERM)
    {
        print_ready_line(three.addr())?;
    }
    loop {
        if batch
            .iter()
            .any(|&signal| signal == SIGINT || signal == SIGTERM)
        {
            return Ok(exit_code(three.stop()));
        }
        // SIGCHLD: did one of the three exit?
        if let Some((which, status)) = three.exited()? {
            eprintln!("qr-nginx: {which} exited unexpectedly ({status}); stopping the others");
            three.stop();
            return Ok(ExitCode::FAILURE);
        }
        batch = signals.wait().collect();
    }
}

fn print_ready_line(addr: SocketAddr) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    Ok(())
}

fn exit_code(clean: bool) -> ExitCode {
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The three processes, each `None` until started or once gone.
#[derive(Debug, Default)]
struct Three {
    rust: Option<Server>,
    node: Option<Server>,
    nginx: Option<Nginx>,
}

impl Three {
    /// Starts qr-server and the Node app (through `ServerSpec`, the one way every server starts),
    /// then nginx in front of them.
    fn start(&mut self, cli: &Cli, binary: &Path, dir: &RunDir) -> Result<()> {
        let rust = ServerSpec {
            engine: cli.engine,
            ..ServerSpec::new(Tier::Tier4, Mode::Single)
        };
        let rust = self.rust.insert(Server::start(&rust)?).addr();
        let node = ServerSpec::new(Tier::Tier0, Mode::Single);
        let node = self.node.insert(Server::start(&node)?).addr();
        let config = Config {
            dir: dir.path(),
            listen: cli.addr,
            backends: Backends::Split { rust, node },
            workers: qr_harness::cpus(),
            root: rustix::process::geteuid().is_root(),
        };
        let nginx = self.nginx.insert(Nginx::start(binary, config.clone())?);
        eprintln!(
            "qr-nginx: nginx ({} workers) on {}: {} -> qr-server on {rust}, every other path -> \
             node on {node}; its configuration is {}",
            config.workers,
            nginx.addr(),
            RUST_PATHS.join(", "),
            dir.path().join("nginx.conf").display()
        );
        Ok(())
    }

    fn addr(&self) -> SocketAddr {
        self.nginx.as_ref().expect("nginx started").addr()
    }

    /// The first of the three found to have exited, with its status; it is reaped and forgotten
    /// (what it left in its process group is killed).
    fn exited(&mut self) -> Result<Option<(&'static str, ExitStatus)>> {
        if let Some(nginx) = &self.nginx
            && let Some(status) = nginx.exited()?
        {
            self.nginx = None;
            return Ok(Some(("nginx", status)));
        }
        for (which, slot) in [("qr-server", &mut self.rust), ("node", &mut self.node)] {
            if let Some(server) = slot
                && let Some(status) = server.exited()?
            {
                *slot = None;
                return Ok(Some((which, status)));
            }
        }
        Ok(None)
    }

    /// Stops what runs: nginx first, so no request reaches an app that is stopping, then both
    /// apps at once. Whether each stopped cleanly (exit status 0); says why not on stderr.
    fn stop(self) -> bool {
        let mut clean = true;
        if let Some(nginx) = self.nginx {
            clean &= check("nginx", "SIGQUIT", nginx.stop());
        }
        let servers = [("qr-server", self.rust), ("node", self.node)];
        std::thread::scope(|scope| {
            let stops: Vec<_> = servers
                .into_iter()
                .filter_map(|(which, server)| Some((which, server?)))
                .map(|(which, server)| scope.spawn(move || check(which, "SIGTERM", server.stop())))
                .collect();
            for stop in stops {
                clean &= stop.join().unwrap_or(false);
            }
        });
        clean
    }
}

/// Whether `which` stopped with exit status 0 after `signal`; says why not on stderr.
fn check(which: &str, signal: &str, stopped: Result<ExitStatus>) -> bool {
    match stopped {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!("qr-nginx: {which} exited with {status} after {signal}");
            false
        }
        Err(err) => {
            eprintln!("qr-nginx: {err:#}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("qr-nginx").chain(args.iter().copied()))
    }

    #[test]
    fn command_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn addr_and_engine_are_optional() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.addr, DEFAULT_ADDR);
        assert_eq!(cli.engine, None);
        let cli = parse(&["--addr", "127.0.0.1:0", "--engine", "article"]).unwrap();
        assert_eq!(cli.addr.port(), 0);
        assert_eq!(cli.engine, Some(Engine::Article));
        assert_eq!(parse(&["--engine", "slow"]).unwrap_err().exit_code(), 2);
    }
}
