//! Many hosts on one machine: N replicas of qr-server (tier 4), each in a network namespace of its
//! own (`netns`), listening on its namespace's address, behind one nginx on 127.0.0.1 that
//! balances them round-robin with passive health checks and retries (`config::Backends::Replicas`).
//!
//! Every replica is started through `qr_harness::ServerSpec` (its `--addr` the namespace's
//! address) prefixed with `ip netns exec NAME`, which enters the namespace and execs qr-server in
//! its place, so `qr_harness::Server` supervises qr-server itself. Dropping a [`Cluster`] stops
//! nginx, kills the replicas and removes the namespaces, in that order; [`Cluster::stop`] does
//! the same gracefully and says whether each part stopped cleanly.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_contract::Engine;
use qr_harness::{Mode, Server, ServerSpec, Tier};

use crate::netns::{self, Namespace};
use qr_nginx::config::{Backends, Config};
use qr_nginx::nginx::{Nginx, RunDir};

/// The port every replica listens on, each on its own namespace's address (as pods do).
pub const REPLICA_PORT: u16 = 42069;
/// How often a waiting loop looks again.
const POLL: Duration = Duration::from_millis(20);

/// What a cluster is made of.
#[derive(Debug, Clone, Copy)]
pub struct ClusterSpec {
    /// Replicas of qr-server.
    pub hosts: usize,
    /// The engine they render with (`None`: qr-server's default).
    pub engine: Option<Engine>,
    /// Where nginx listens (port 0: a free one).
    pub listen: SocketAddr,
}

/// One replica: its namespace, and its server while it runs.
#[derive(Debug)]
pub struct Replica {
    spec: ServerSpec,
    label: String,
    server: Option<Server>,
}

impl Replica {
    fn start(&mut self, netns: &Namespace) -> Result<()> {
        let prefix = ["ip", "netns", "exec", netns.name()];
        let server = Server::start_with_prefix(&self.spec, &prefix, self.label.clone())?;
        self.server = Some(server);
        Ok(())
    }
}

/// A running cluster. Fields drop in order: nginx, the replicas, their namespaces, nginx's folder.
#[derive(Debug)]
pub struct Cluster {
    nginx: Option<Nginx>,
    replicas: Vec<Replica>,
    namespaces: Vec<Namespace>,
    _dir: RunDir,
}

impl Cluster {
    /// Makes the namespaces, starts a replica in each (the release qr-server) and nginx (`binary`)
    /// in front of them; returns once nginx listens. On an error, what was started is stopped and
    /// removed.
    pub fn start(binary: &Path, spec: &ClusterSpec) -> Result<Cluster> {
        let namespaces = netns::create(spec.hosts)?;
        let replicas = namespaces
            .iter()
            .enumerate()
            .map(|(i, netns)| Replica {
                spec: ServerSpec {
                    ip: IpAddr::V4(netns.addr()),
                    port: REPLICA_PORT,
                    engine: spec.engine,
                    ..ServerSpec::new(Tier::Tier4, Mode::Single)
                },
                label: format!("replica {i}"),
                server: None,
            })
            .collect();
        let dir = RunDir::create_named(&format!("cluster-{}", namespaces[0].veth()))?;
        let mut cluster = Cluster {
            nginx: None,
            replicas,
            namespaces,
            _dir: dir,
        };
        for i in 0..spec.hosts {
            cluster.start_replica(i)?;
        }
        let addrs = cluster.replica_addrs();
        let config = Config {
            dir: cluster._dir.path(),
            listen: spec.listen,
            backends: Backends::Replicas(&addrs),
            workers: qr_harness::cpus(),
            root: true,
        };
        cluster.nginx = Some(Nginx::start(binary, config)?);
        Ok(cluster)
    }

    /// Where nginx listens.
    pub fn addr(&self) -> SocketAddr {
        self.nginx.as_ref().expect("nginx runs").addr()
    }

    /// nginx's master process.
    pub fn nginx_pid(&self) -> u32 {
        self.nginx.as_ref().expect("nginx runs").pid()
    }

    /// How many replicas there are (running or not).
    pub fn len(&self) -> usize {
        self.replicas.len()
    }

    /// Whether the cluster has no replica (never: it is made with at least one).
    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    /// Each replica's address, in its namespace.
    pub fn replica_addrs(&self) -> Vec<SocketAddr> {
        (self.replicas.iter())
            .map(|replica| SocketAddr::new(replica.spec.ip, replica.spec.port))
            .collect()
    }

    /// The namespaces' names and the host ends of their veth pairs.
    pub fn namespaces(&self) -> Vec<(String, String)> {
        (self.namespaces.iter())
            .map(|netns| (netns.name().to_owned(), netns.veth().to_owned()))
            .collect()
    }

    /// Replica `i`'s pid, while it runs.
    pub fn replica_pid(&self, i: usize) -> Option<u32> {
        self.replicas[i].server.as_ref().map(Server::pid)
    }

    /// Starts replica `i` (again), in its namespace, on the same address; returns once it listens.
    pub fn start_replica(&mut self, i: usize) -> Result<()> {
        if self.replicas[i].server.is_some() {
            bail!("replica {i} runs already");
        }
        self.replicas[i].start(&self.namespaces[i])
    }

    /// SIGTERM to replica `i` (qr-server drains: in-flight requests finish, idle kept-alive
    /// connections close after 250 ms), and its exit status.
    pub fn stop_replica(&mut self, i: usize) -> Result<ExitStatus> {
        let server = self.replicas[i]
            .server
            .take()
            .with_context(|| format!("replica {i} is not running"))?;
        server.stop()
    }

    /// SIGKILL to replica `i`; returns once it is gone, with its exit status.
    pub fn kill_replica(&mut self, i: usize) -> Result<ExitStatus> {
        let server = self.replicas[i]
            .server
            .take()
            .with_context(|| format!("replica {i} is not running"))?;
        server.kill()
    }

    /// The TCP connections established to replica `i` on its port: nginx's, seen from inside the
    /// replica's namespace (`/proc/PID/net/tcp` is the table of PID's network namespace).
    pub fn connections(&self, i: usize) -> usize {
        let (Some(pid), replica) = (self.replica_pid(i), &self.replicas[i]) else {
            return 0;
        };
        let IpAddr::V4(ip) = replica.spec.ip else {
            return 0;
        };
        // `sl local rem st ...`: the local address as little-endian hex `AABBCCDD:PORT`, state 01
        // for ESTABLISHED.
        let local = format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(ip.octets()),
            replica.spec.port
        );
        std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).map_or(0, |table| {
            (table.lines().skip(1))
                .filter(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    fields.get(1) == Some(&local.as_str()) && fields.get(3) == Some(&"01")
                })
                .count()
        })
    }

    /// Waits (at most `limit`) until nginx sends replica `i` requests again: a connection to it
    /// is established. After a failure nginx leaves a replica alone for its `fail_timeout`.
    pub fn wait_served(&self, i: usize, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        while self.connections(i) == 0 {
            if Instant::now() >= deadline {
                bail!("nginx sent replica {i} nothing within {limit:?} of its start");
            }
            std::thread::sleep(POLL);
        }
        Ok(())
    }

    /// The first part found to have exited on its own (then reaped and forgotten: a replica is
    /// ready for [`Cluster::start_replica`]), with its status.
    pub fn exited(&mut self) -> Result<Option<(Part, ExitStatus)>> {
        if let Some(nginx) = &self.nginx
            && let Some(status) = nginx.exited()?
        {
            self.nginx = None;
            return Ok(Some((Part::Nginx, status)));
        }
        for (i, replica) in self.replicas.iter_mut().enumerate() {
            if let Some(server) = &replica.server
                && let Some(status) = server.exited()?
            {
                replica.server = None;
                return Ok(Some((Part::Replica(i), status)));
            }
        }
        Ok(None)
    }

    /// Stops nginx (SIGQUIT: what is in flight finishes), then every replica at once (SIGTERM),
    /// then removes the namespaces and nginx's folder. Whether each part stopped cleanly (exit
    /// status 0, namespace removed); says why not on stderr.
    pub fn stop(mut self) -> bool {
        let mut clean = true;
        if let Some(nginx) = self.nginx.take() {
            clean &= check("nginx", nginx.stop());
        }
        let servers: Vec<_> = (self.replicas.iter_mut())
            .filter_map(|replica| Some((replica.label.clone(), replica.server.take()?)))
            .collect();
        std::thread::scope(|scope| {
            let stops: Vec<_> = servers
                .into_iter()
                .map(|(label, server)| scope.spawn(move || check(&label, server.stop())))
                .collect();
            for stop in stops {
                clean &= stop.join().unwrap_or(false);
            }
        });
        for netns in std::mem::take(&mut self.namespaces) {
            if let Err(error) = netns.remove() {
                eprintln!("qr-cluster: {error:#}");
                clean = false;
            }
        }
        clean
    }
}

/// A part of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Nginx,
    Replica(usize),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Nginx => f.write_str("nginx"),
            Part::Replica(i) => write!(f, "replica {i}"),
        }
    }
}

/// Whether `which` stopped with exit status 0; says why not on stderr.
fn check(which: &str, stopped: Result<ExitStatus>) -> bool {
    match stopped {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!("qr-cluster: {which} exited with {status} when stopped");
            false
        }
        Err(err) => {
            eprintln!("qr-cluster: {which}: {err:#}");
            false
        }
    }
}
