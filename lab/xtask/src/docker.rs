//! The Docker engine `cargo xtask image` builds and runs the image with: the one that runs already
//! (`DOCKER_HOST` or the default socket), else a `dockerd` of Debian's `docker.io` started here
//! and stopped, by its pid, when done; and the containers it runs, removed whatever happens.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_harness::paths;

use crate::cmd::{Step, output};

/// The Docker client, talking to the engine that runs already or to a `dockerd` started here,
/// which is stopped when this is dropped.
pub struct Docker {
    /// The daemon started here, with its socket and its folder under /tmp.
    started: Option<(Child, String, PathBuf)>,
}

impl Docker {
    /// `docker`, talking to this engine.
    pub fn command(&self) -> Command {
        let mut command = Command::new("docker");
        if let Some((_, host, _)) = &self.started {
            command.env("DOCKER_HOST", host);
        }
        command
    }

    fn answers(&self) -> bool {
        self.command()
            .args(["version", "--format", "{{.Server.Version}}"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// The running engine, else a `dockerd` of Debian's `docker.io` package (installed when
    /// missing), started with what a machine without systemd, iptables or overlayfs needs: no
    /// bridge network (containers use the host's), no iptables rules, the vfs storage driver; its
    /// images (and build cache) under `target/docker/`.
    pub fn running_or_start() -> Result<Docker> {
        let existing = Docker { started: None };
        if existing.answers() {
            eprintln!("==> using the running Docker engine");
            return Ok(existing);
        }
        let dockerd = qr_harness::tools::dockerd()?;
        let step = Step::start("start dockerd (its own socket, data in target/docker/)");
        // The socket and containerd's live under a short path: a Unix socket's is at most 107 bytes.
        let runtime = std::env::temp_dir().join(format!("rusty-qr-docker-{}", std::process::id()));
        let data = paths::target_dir().join("docker");
        std::fs::create_dir_all(&runtime)?;
        std::fs::create_dir_all(&data)?;
        let host = format!("unix://{}", runtime.join("docker.sock").display());
        let log = std::fs::File::create(data.join("dockerd.log"))?;
        let mut command = Command::new(dockerd);
        command
            .args(["--host", &host, "--data-root"])
            .arg(data.join("data"))
            .arg("--exec-root")
            .arg(runtime.join("exec"))
            .arg("--pidfile")
            .arg(runtime.join("dockerd.pid"))
            .args(["--iptables=false", "--bridge=none", "--storage-driver=vfs"])
            .stdout(log.try_clone()?)
            .stderr(log);
        qr_harness::end_with_launcher(&mut command, rustix::process::Signal::TERM);
        let child = command.spawn().context("cannot start dockerd")?;
        let docker = Docker {
            started: Some((child, host, runtime)),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !docker.answers() {
            if Instant::now() > deadline {
                bail!(
                    "dockerd did not answer within 60 s; see {}",
                    paths::shown(&data.join("dockerd.log"))
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        step.done();
        Ok(docker)
    }
}

impl Drop for Docker {
    /// Stops the dockerd started here (SIGTERM, then SIGKILL after 30 s) and removes its folder
    /// under /tmp.
    fn drop(&mut self) {
        let Some((child, _, runtime)) = &mut self.started else {
            return;
        };
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        // dockerd leaves its network namespace mounted (exec/netns/default): unmount what is left.
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        for point in mounts.lines().filter_map(|line| line.split(' ').nth(1)) {
            if Path::new(point).starts_with(&*runtime) {
                let _ = Command::new("umount").arg(point).status();
            }
        }
        let _ = std::fs::remove_dir_all(runtime);
    }
}

/// A container, named by whoever started it: removed when dropped, whatever happened.
pub struct Container<'a> {
    pub docker: &'a Docker,
    pub name: String,
}

impl Container<'_> {
    /// Waits (at most 30 s) until `addr` accepts connections; fails with the container's log.
    pub fn wait_for(&self, addr: SocketAddr) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                let logs = output(self.docker.command().args(["logs", &self.name]));
                bail!("the container never listened on {addr}: {logs:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// `docker inspect --format FORMAT` of the container, trimmed.
    pub fn inspect(&self, format: &str) -> Result<String> {
        let text = output(
            self.docker
                .command()
                .args(["inspect", "--format", format, &self.name]),
        )?;
        Ok(text.trim().to_owned())
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self
            .docker
            .command()
            .args(["rm", "--force", &self.name])
            .stdout(Stdio::null())
            .status();
    }
}
