//! nginx as a child process: the run folder it writes into (under cargo's target directory, removed
//! on exit), started in the foreground in its own process group (`qr_harness::ProcessGroup`), ready
//! once its pid file names it, stopped gracefully with SIGQUIT, and never left behind.

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_harness::ProcessGroup;
use rustix::process::Signal;

use crate::config::Config;

/// How long nginx may take to listen.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long nginx may take to exit after SIGQUIT: past its `worker_shutdown_timeout` (10 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a port picked for `--addr 127.0.0.1:0` is tried when another process takes it first.
const PORT_ATTEMPTS: usize = 5;
/// How often a waiting loop looks again.
const POLL: Duration = Duration::from_millis(20);

/// nginx's folder for one run, `<target>/nginx/<pid>/`: its configuration, pid file, error log and
/// temporary files. Private to this user (0700: nginx's workers run as the same user, see
/// `Config::render`), removed when dropped.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Makes the folder afresh (one left by an earlier process with the same pid is stale), and
    /// removes those of qr-nginx processes that no longer run (killed before they could).
    pub fn create() -> Result<RunDir> {
        RunDir::create_at(std::process::id().to_string())
    }

    /// [`RunDir::create`] for one of several nginx a process runs: `<target>/nginx/<pid>-<name>/`.
    pub fn create_named(name: &str) -> Result<RunDir> {
        RunDir::create_at(format!("{}-{name}", std::process::id()))
    }

    fn create_at(folder: String) -> Result<RunDir> {
        let runs = qr_harness::paths::target_dir().join("nginx");
        remove_stale(&runs);
        let path = runs.join(folder);
        match fs::remove_dir_all(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", path.display()));
            }
            _ => {}
        }
        fs::create_dir_all(&runs).with_context(|| format!("cannot create {}", runs.display()))?;
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(RunDir { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // Nothing to report it to; a folder left behind is in cargo's target directory.
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Removes the folders in `runs` named after a pid that no longer runs (`<pid>` or `<pid>-<name>`).
fn remove_stale(runs: &Path) {
    let Ok(entries) = fs::read_dir(runs) else {
        return;
    };
    for entry in entries.flatten() {
        let pid = entry
            .file_name()
            .to_str()
            .and_then(|name| name.split('-').next()?.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            // Another qr-nginx may be removing it too.
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A running nginx master (and its workers, in its process group). Dropping it kills the group.
#[derive(Debug)]
pub struct Nginx {
    group: ProcessGroup,
    addr: SocketAddr,
}

impl Nginx {
    /// Writes `config` into its run folder and starts nginx with it, returning once nginx listens.
    /// With port 0 it picks a free port first, and another one if a process takes it before
    /// nginx binds it.
    pub fn start(binary: &Path, mut config: Config) -> Result<Nginx> {
        if config.listen.port() != 0 {
            return Nginx::start_once(binary, &config);
        }
        let mut attempt = 1;
        loop {
            config.listen = free_port(config.listen)?;
            match Nginx::start_once(binary, &config) {
                Err(_) if attempt < PORT_ATTEMPTS && TcpListener::bind(config.listen).is_err() => {
                    eprintln!(
                        "qr-nginx: another process took {} before nginx could; trying another port",
                        config.listen
                    );
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    fn start_once(binary: &Path, config: &Config) -> Result<Nginx> {
        let conf = config.dir.join("nginx.conf");
        let pid_file = config.dir.join("nginx.pid");
        fs::write(&conf, config.render())
            .with_context(|| format!("cannot write {}", conf.display()))?;
        let mut command = Command::new(binary);
        command
            .arg("-e")
            .arg(config.dir.join("error.log"))
            .arg("-p")
            .arg(config.dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            // stdout is the ready line's alone. stderr is inherited: nginx writes its start-up
            // errors there (`nginx: [emerg] bind() to ... failed`), then only to error.log.
            .stdout(Stdio::null());
        // A pid file from an earlier attempt must not pass for this one's.
        match fs::remove_file(&pid_file) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", pid_file.display()));
            }
            _ => {}
        }
        // Its own group: a terminal's Ctrl-C reaches qr-nginx only, which stops nginx gracefully,
        // and what the master leaves behind can be killed with the group. If qr-nginx dies without
        // stopping nginx (SIGKILL), nginx stops gracefully too; it is started on the main thread.
        let group = ProcessGroup::spawn(&mut command, "nginx", Signal::QUIT)
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut nginx = Nginx {
            group,
            addr: config.listen,
        };
        // nginx writes its pid file after it has opened its listening sockets.
        let pid = nginx.pid().to_string();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if nginx.group.exited()?.is_some() {
                let status = nginx.group.kill_and_reap()?;
                bail!("nginx exited before it was ready ({status})");
            }
            if fs::read_to_string(&pid_file).is_ok_and(|text| text.trim() == pid) {
                return Ok(nginx);
            }
            if Instant::now() >= deadline {
                let status = nginx.group.kill_and_reap()?;
                bail!("nginx did not listen within {READY_TIMEOUT:?}; killed it ({status})");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Where nginx listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The master's pid (also its process group's id).
    pub fn pid(&self) -> u32 {
        self.group.pid()
    }

    /// The master's exit status if it has exited on its own, without reaping it (dropping the
    /// `Nginx` does, and kills the workers it left).
    pub fn exited(&self) -> Result<Option<ExitStatus>> {
        self.group.exited()
    }

    /// SIGQUIT, nginx's graceful stop (the workers finish what is in flight, then exit), and waits
    /// for it; kills it and fails if it takes longer than [`STOP_TIMEOUT`]. Then SIGKILL to the
    /// group (workers a dead master left; none after a graceful stop) and the master is reaped.
    pub fn stop(mut self) -> Result<ExitStatus> {
        self.group
            .signal(Signal::QUIT)
            .context("sending SIGQUIT to nginx")?;
        if self.group.exited_within(STOP_TIMEOUT)?.is_none() {
            let status = self.group.kill_and_reap()?;
            bail!("nginx did not exit within {STOP_TIMEOUT:?} of SIGQUIT; killed it ({status})");
        }
        self.group.kill_and_reap()
    }
}

/// `addr` with a port that is free now: bound, read and released, for nginx to bind next.
fn free_port(addr: SocketAddr) -> Result<SocketAddr> {
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    Ok(listener.local_addr()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_is_a_real_one_on_the_same_address() {
        // Another test's server may take the port between its release and this bind (the suites
        // run side by side): it is bindable again on one of a few tries.
        let bindable = (0..20).any(|_| {
            let addr = free_port("127.0.0.1:0".parse().unwrap()).unwrap();
            assert_eq!(addr.ip().to_string(), "127.0.0.1");
            assert_ne!(addr.port(), 0);
            TcpListener::bind(addr).is_ok()
        });
        assert!(
            bindable,
            "no released port could be bound again in 20 tries"
        );
    }

    #[test]
    fn the_run_folder_is_private_removed_when_dropped_and_sweeps_dead_ones() {
        use std::os::unix::fs::PermissionsExt;
        let mut gone = Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        let stale = qr_harness::paths::target_dir().join(format!("nginx/{}", gone.id()));
        fs::create_dir_all(&stale).unwrap();
        let stale_named = stale.with_file_name(format!("{}-cluster-0", gone.id()));
        fs::create_dir_all(&stale_named).unwrap();
        let dir = RunDir::create().unwrap();
        assert!(!stale.exists(), "the folder of a process that is gone");
        assert!(
            !stale_named.exists(),
            "a named folder of a process that is gone"
        );
        let named = RunDir::create_named("cluster-7").unwrap();
        assert!(
            named
                .path()
                .ends_with(format!("nginx/{}-cluster-7", std::process::id()))
        );
        let path = dir.path().to_path_buf();
        assert!(path.ends_with(format!("nginx/{}", std::process::id())));
        fs::write(path.join("nginx.conf"), "x").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        drop(dir);
        assert!(!path.exists());
    }
}
