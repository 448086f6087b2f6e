//! The launcher every rusty-qr server is started with: tier names, the exact command, ready line, stop.
//!
//! Used by `cargo xtask serve`, the conformance suite (`cargo xtask test`) and the benchmark.
//! Run its own tests with `cargo test -p qr-harness`.

pub mod tools;

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_core::Engine;
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

/// How long a server may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The prefix of the one line a server prints on stdout once it serves.
pub const READY_PREFIX: &str = "listening on http://";
/// How many of a server's last stderr lines an error quotes.
const STDERR_TAIL_LINES: usize = 20;

/// A tier of Rust adoption: one way to serve `GET /qrcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Pure JS: npm `qrcode` inside express.
    Tier0,
    /// express spawns `qr-cli` once per request.
    Tier1,
    /// express calls the hand-written-ABI Wasm module.
    Tier2,
    /// express calls the wasm-bindgen module.
    Tier2Bindgen,
    /// express calls the napi-rs addon.
    Tier3,
    /// The whole server in Rust (axum).
    Tier4,
}

impl Tier {
    /// Every tier, in order.
    pub const ALL: &'static [Tier] = &[
        Tier::Tier0,
        Tier::Tier1,
        Tier::Tier2,
        Tier::Tier2Bindgen,
        Tier::Tier3,
        Tier::Tier4,
    ];

    /// The tier's name, as accepted by `FromStr` and printed by `Display`.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Tier0 => "tier-0",
            Tier::Tier1 => "tier-1",
            Tier::Tier2 => "tier-2",
            Tier::Tier2Bindgen => "tier-2-bindgen",
            Tier::Tier3 => "tier-3",
            Tier::Tier4 => "tier-4",
        }
    }

    /// Whether the Node.js host serves this tier (all but tier-4).
    pub fn is_node(self) -> bool {
        self != Tier::Tier4
    }

    /// Whether the image comes from the Rust core (tiers 1 to 4), so its PNG bytes equal
    /// `qr_core::png`'s.
    pub fn uses_rust_core(self) -> bool {
        self != Tier::Tier0
    }
}

/// A mode of the Node.js host. Tier-4 ignores it: it is always one multi-threaded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One Node.js process.
    Single,
    /// A primary and N worker processes (`--workers`, default: one per CPU).
    Cluster,
}

impl Mode {
    /// Every mode, in order.
    pub const ALL: &'static [Mode] = &[Mode::Single, Mode::Cluster];

    /// The mode's name, as accepted by `FromStr` and printed by `Display`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Cluster => "cluster",
        }
    }
}

/// A name that [`Tier::from_str`] or [`Mode::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    kind: &'static str,
    name: String,
    expected: Vec<&'static str>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?} (expected one of: {})",
            self.kind,
            self.name,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

macro_rules! named_enum {
    ($ty:ident, $kind:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|value| value.name() == s)
                    .ok_or_else(|| UnknownName {
                        kind: $kind,
                        name: s.to_owned(),
                        expected: $ty::ALL.iter().map(|value| value.name()).collect(),
                    })
            }
        }
    };
}

named_enum!(Tier, "tier");
named_enum!(Mode, "mode");

/// The repository root: every command runs there and every build output is found from it.
pub fn repo_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/qr-harness sits two levels below the repository root")
            .to_path_buf()
    })
}

/// Which server to start, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// The tier to serve.
    pub tier: Tier,
    /// Single process or cluster (ignored by tier-4).
    pub mode: Mode,
    /// Cluster workers (`--workers N`); `None` leaves the host's default. Ignored by tier-4.
    pub workers: Option<usize>,
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The Rust engine (`--engine E`); `None` leaves the default. Tier-0 has none.
    pub engine: Option<Engine>,
}

impl ServerSpec {
    /// A spec for `tier` in `mode` on an ephemeral port, with the defaults.
    pub fn new(tier: Tier, mode: Mode) -> Self {
        ServerSpec {
            tier,
            mode,
            workers: None,
            port: 0,
            engine: None,
        }
    }

    /// A short name for logs and errors: `tier-1 cluster`, `tier-4`.
    pub fn label(&self) -> String {
        if self.tier.is_node() {
            format!("{} {}", self.tier, self.mode)
        } else {
            self.tier.to_string()
        }
    }

    /// The engine that makes the images, for reports: `js` for tier-0 (npm `qrcode`), else the
    /// Rust engine (the default one if none is given).
    pub fn engine_name(&self) -> &'static str {
        match (self.tier, self.engine) {
            (Tier::Tier0, _) => "js",
            (_, engine) => engine.unwrap_or_default().name(),
        }
    }

    /// The documented command for this server, run in the repository root, with
    /// `RUSTY_QR_CLI` pointing at `target/release/qr-cli`.
    pub fn command(&self) -> Command {
        let root = repo_root();
        let mut command;
        if self.tier.is_node() {
            command = Command::new("node");
            command.arg("node/server.js");
            command.args(["--tier", self.tier.name(), "--mode", self.mode.name()]);
            if let Some(workers) = self.workers {
                command.args(["--workers".to_owned(), workers.to_string()]);
            }
            command.args(["--port".to_owned(), self.port.to_string()]);
        } else {
            command = Command::new(root.join(QR_SERVER));
            command.args(["--addr".to_owned(), format!("127.0.0.1:{}", self.port)]);
        }
        if let Some(engine) = self.engine {
            command.args(["--engine", engine.name()]);
        }
        command.current_dir(root);
        command.env("RUSTY_QR_CLI", qr_cli());
        command
    }

    /// The build outputs this server needs, relative to the repository root.
    pub fn required_outputs(&self) -> Vec<&'static str> {
        let mut outputs = Vec::new();
        if self.tier.is_node() {
            outputs.extend(["node/server.js", "node/node_modules"]);
        }
        match self.tier {
            Tier::Tier0 => {}
            Tier::Tier1 => outputs.push(QR_CLI),
            Tier::Tier2 => outputs.push("node/build/qr_wasm.wasm"),
            Tier::Tier2Bindgen => outputs.extend([
                "node/build/bindgen/qr_wasm_bindgen.js",
                "node/build/bindgen/qr_wasm_bindgen_bg.wasm",
            ]),
            Tier::Tier3 => outputs.push("node/build/qr_napi.node"),
            Tier::Tier4 => outputs.push(QR_SERVER),
        }
        outputs
    }

    /// Fails with one clear line if the spec cannot work or a build output under `root` is missing.
    fn check(&self, root: &Path) -> Result<()> {
        if self.tier == Tier::Tier0 && self.engine.is_some() {
            bail!("tier-0 is pure JS and takes no --engine");
        }
        for output in self.required_outputs() {
            if !root.join(output).exists() {
                bail!("{output} is missing: run `cargo xtask build`");
            }
        }
        Ok(())
    }
}

const QR_CLI: &str = "target/release/qr-cli";
const QR_SERVER: &str = "target/release/qr-server";

/// The tier-1 binary every Node process is pointed at (`RUSTY_QR_CLI`).
pub fn qr_cli() -> PathBuf {
    repo_root().join(QR_CLI)
}

/// Percent-encodes every byte except the unreserved ones (`A-Z a-z 0-9 - . _ ~`), for a query
/// value that reaches the server as exactly these bytes.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A running server, in its own process group. Dropping it kills the group, so a failing
/// test never leaks a process; [`Server::stop`] shuts it down gracefully instead.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: SocketAddr,
    label: String,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_done: Arc<AtomicBool>,
    /// Set once the process is reaped; from then on its group is never signalled.
    reaped: Option<ExitStatus>,
}

impl Server {
    /// Spawns the server and waits (at most [`READY_TIMEOUT`]) for its ready line.
    pub fn start(spec: &ServerSpec) -> Result<Server> {
        spec.check(repo_root())?;
        Server::start_command(spec.command(), spec.label(), READY_TIMEOUT)
    }

    /// Spawns `command` in its own process group, forwards its stderr (and any stdout line but
    /// the ready line) to ours prefixed with `[label]`, and waits for `listening on http://ADDR`.
    fn start_command(mut command: Command, label: String, timeout: Duration) -> Result<Server> {
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {label}: {command:?}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut server = Server {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            label,
            stderr_tail: Arc::default(),
            stderr_done: Arc::default(),
            reaped: None,
        };

        let (prefix, tail, done) = (
            format!("[{}]", server.label),
            server.stderr_tail.clone(),
            server.stderr_done.clone(),
        );
        std::thread::spawn(move || {
            for_each_line(stderr, |line| {
                eprintln!("{prefix} {line}");
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line.to_owned());
            });
            done.store(true, Ordering::Release);
        });

        let (ready_tx, ready_rx) = mpsc::channel();
        let prefix = format!("[{}]", server.label);
        std::thread::spawn(move || {
            let mut ready = false;
            for_each_line(stdout, |line| {
                let addr = line.strip_prefix(READY_PREFIX).map(str::parse);
                match addr {
                    Some(Ok(addr)) if !ready => {
                        ready = true;
                        // The receiver may have given up already; nothing to do then.
                        let _ = ready_tx.send(addr);
                    }
                    _ => eprintln!("{prefix} (stdout) {line}"),
                }
            });
        });

        let deadline = Instant::now() + timeout;
        loop {
            match ready_rx.recv_timeout(Duration::from_millis(50)) {
                Ok(addr) => {
                    server.addr = addr;
                    return Ok(server);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Stdout closed without a ready line: the process is exiting (or closed it).
                    let status = match server.exits_within(Duration::from_secs(5))? {
                        true => Some(server.kill_rest_and_reap()?),
                        false => None,
                    };
                    return Err(server.exited_early(status));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if server.has_exited()? {
                        let status = server.kill_rest_and_reap()?;
                        return Err(server.exited_early(Some(status)));
                    }
                    if Instant::now() >= deadline {
                        bail!(
                            "{} printed no `{READY_PREFIX}ADDR` line within {timeout:?}; killed it{}",
                            server.label,
                            server.stderr_tail_text()
                        );
                    }
                }
            }
        }
    }

    /// The address the server listens on (from its ready line).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Blocks until the server exits on its own (e.g. after [`send_sigterm`] from a signal
    /// handler), then kills anything it left in its process group.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if self.reaped.is_none() {
            loop {
                let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
                match rustix::process::waitid(WaitId::Pid(self.pid_of()), options) {
                    Err(rustix::io::Errno::INTR) => continue,
                    result => {
                        result.with_context(|| format!("waiting for {}", self.label))?;
                        break;
                    }
                }
            }
        }
        self.kill_rest_and_reap()
    }

    /// Sends SIGTERM and waits (at most [`STOP_TIMEOUT`]) for the server to exit; kills it with
    /// SIGKILL and fails if it does not, if it had exited already, or if it leaves processes behind.
    pub fn stop(self) -> Result<ExitStatus> {
        self.stop_within(STOP_TIMEOUT)
    }

    fn stop_within(mut self, timeout: Duration) -> Result<ExitStatus> {
        let label = self.label.clone();
        if self.has_exited()? {
            let status = self.kill_rest_and_reap()?;
            bail!(
                "{label} had exited on its own ({status}) before it was stopped{}",
                self.stderr_tail_text()
            );
        }
        rustix::process::kill_process(self.pid_of(), Signal::TERM)
            .with_context(|| format!("sending SIGTERM to {label}"))?;
        if !self.exits_within(timeout)? {
            let status = self.kill_rest_and_reap()?;
            bail!("{label} did not exit within {timeout:?} of SIGTERM; killed it ({status})");
        }
        let left = lingering(self.pid_of(), self.child.id(), Duration::from_secs(2));
        let status = self.kill_rest_and_reap()?;
        if !left.is_empty() {
            bail!(
                "{label} exited ({status}) but left processes {left:?} in its group; killed them"
            );
        }
        Ok(status)
    }

    fn pid_of(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32).expect("a child's pid is positive")
    }

    /// Whether the server process has exited, without reaping it. Until it is reaped its pid
    /// (also its process group id) cannot be reused, so signalling the group stays safe.
    fn has_exited(&self) -> Result<bool> {
        if self.reaped.is_some() {
            return Ok(true);
        }
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        let status = rustix::process::waitid(WaitId::Pid(self.pid_of()), options)
            .with_context(|| format!("checking on {}", self.label))?;
        Ok(status.is_some())
    }

    /// Whether the server process exits within `timeout` (not reaping it).
    fn exits_within(&self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        while !self.has_exited()? {
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(true)
    }

    /// SIGKILL to the whole process group (the server, its workers, its spawned children), then
    /// reaps the server. The only place it is reaped, so the group is never signalled after its
    /// id could have been reused.
    fn kill_rest_and_reap(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.reaped {
            return Ok(status);
        }
        // ESRCH only means nothing is left.
        let _ = rustix::process::kill_process_group(self.pid_of(), Signal::KILL);
        let status = self
            .child
            .wait()
            .with_context(|| format!("reaping {}", self.label))?;
        self.reaped = Some(status);
        Ok(status)
    }

    fn exited_early(&self, status: Option<ExitStatus>) -> anyhow::Error {
        let status = match status {
            Some(status) => status.to_string(),
            None => "its stdout closed, still running".to_owned(),
        };
        anyhow::anyhow!(
            "{} exited before it was ready ({status}){}",
            self.label,
            self.stderr_tail_text()
        )
    }

    /// The last stderr lines, as a suffix for an error message.
    fn stderr_tail_text(&self) -> String {
        // Give the forwarding thread a moment to read what the process wrote last.
        let deadline = Instant::now() + Duration::from_secs(1);
        while !self.stderr_done.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.is_empty() {
            "; it wrote nothing to stderr".to_owned()
        } else {
            let lines: Vec<&str> = tail.iter().map(|line| line.as_str()).collect();
            format!("; last stderr lines:\n  {}", lines.join("\n  "))
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Nothing to do if it was stopped or waited for; errors cannot be reported here.
        let _ = self.kill_rest_and_reap();
    }
}

/// The live processes (zombies aside) of group `pgid` other than `leader` that are still
/// there after at most `grace` (workers a primary stopped may take a moment to go).
fn lingering(pgid: Pid, leader: u32, grace: Duration) -> Vec<u32> {
    let deadline = Instant::now() + grace;
    loop {
        let members = live_group_members(pgid, leader);
        if members.is_empty() || Instant::now() >= deadline {
            return members;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The live (not zombie) processes of group `pgid` other than `leader`, from Linux's /proc
/// (elsewhere: none found).
fn live_group_members(pgid: Pid, leader: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let pgid = pgid.as_raw_nonzero().get().to_string();
    let mut members: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != leader)
        .filter(|pid| {
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace()
                .collect();
            matches!(fields.as_slice(), [state, _ppid, pgrp, ..] if *state != "Z" && *pgrp == pgid)
        })
        .collect();
    members.sort_unstable();
    members
}

/// Sends SIGTERM to process `pid`: for a signal handler that forwards to a running [`Server`].
pub fn send_sigterm(pid: u32) -> std::io::Result<()> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| std::io::Error::other(format!("not a process id: {pid}")))?;
    rustix::process::kill_process(pid, Signal::TERM).map_err(std::io::Error::from)
}

/// Calls `f` with each line of `reader` (lossy UTF-8, without the line break) until EOF or error.
fn for_each_line(reader: impl Read, mut f: impl FnMut(&str)) {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                f(text.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    fn args(command: &Command) -> Vec<&str> {
        command.get_args().map(|a| a.to_str().unwrap()).collect()
    }

    #[test]
    fn tiers_and_modes_round_trip_through_their_names() {
        let names: Vec<String> = Tier::ALL.iter().map(Tier::to_string).collect();
        assert_eq!(
            names,
            [
                "tier-0",
                "tier-1",
                "tier-2",
                "tier-2-bindgen",
                "tier-3",
                "tier-4"
            ]
        );
        for &tier in Tier::ALL {
            assert_eq!(tier.name().parse::<Tier>(), Ok(tier));
        }
        for &mode in Mode::ALL {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
        }
        assert_eq!("cluster".parse::<Mode>(), Ok(Mode::Cluster));
    }

    #[test]
    fn unknown_names_are_rejected_with_the_choices() {
        let err = "tier-5".parse::<Tier>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown tier \"tier-5\" (expected one of: tier-0, tier-1, tier-2, tier-2-bindgen, tier-3, tier-4)"
        );
        assert!("Tier-0".parse::<Tier>().is_err());
        assert_eq!(
            "multi".parse::<Mode>().unwrap_err().to_string(),
            "unknown mode \"multi\" (expected one of: single, cluster)"
        );
    }

    #[test]
    fn tier_4_command_is_the_binary_with_addr_and_engine() {
        let mut spec = ServerSpec::new(Tier::Tier4, Mode::Cluster);
        spec.port = 8080;
        spec.workers = Some(3);
        let command = spec.command();
        assert_eq!(
            command.get_program(),
            repo_root().join("target/release/qr-server")
        );
        assert_eq!(args(&command), ["--addr", "127.0.0.1:8080"]);
        assert_eq!(command.get_current_dir(), Some(repo_root()));

        spec.engine = Some(Engine::Article);
        assert_eq!(
            args(&spec.command()),
            ["--addr", "127.0.0.1:8080", "--engine", "article"]
        );
        assert_eq!(spec.label(), "tier-4");
        assert_eq!(spec.engine_name(), "article");
        assert_eq!(
            ServerSpec::new(Tier::Tier0, Mode::Single).engine_name(),
            "js"
        );
        assert_eq!(
            ServerSpec::new(Tier::Tier1, Mode::Single).engine_name(),
            "fast",
            "the core's default engine"
        );
    }

    #[test]
    fn node_commands_name_tier_mode_workers_port_and_engine() {
        let spec = ServerSpec::new(Tier::Tier2Bindgen, Mode::Single);
        let command = spec.command();
        assert_eq!(command.get_program(), "node");
        assert_eq!(
            args(&command),
            [
                "node/server.js",
                "--tier",
                "tier-2-bindgen",
                "--mode",
                "single",
                "--port",
                "0"
            ]
        );
        assert_eq!(command.get_current_dir(), Some(repo_root()));
        let cli = qr_cli();
        let env: Vec<_> = command.get_envs().collect();
        assert_eq!(env, [(OsStr::new("RUSTY_QR_CLI"), Some(cli.as_os_str()))]);

        let spec = ServerSpec {
            workers: Some(2),
            port: 42069,
            engine: Some(Engine::Article),
            ..ServerSpec::new(Tier::Tier3, Mode::Cluster)
        };
        assert_eq!(
            args(&spec.command()),
            [
                "node/server.js",
                "--tier",
                "tier-3",
                "--mode",
                "cluster",
                "--workers",
                "2",
                "--port",
                "42069",
                "--engine",
                "article"
            ]
        );
        assert_eq!(spec.label(), "tier-3 cluster");
    }

    #[test]
    fn repo_root_holds_the_workspace() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("crates/qr-harness").is_dir());
    }

    #[test]
    fn a_missing_build_output_is_one_clear_line() {
        let nowhere = repo_root().join("target/qr-harness-no-such-dir");
        let err = ServerSpec::new(Tier::Tier4, Mode::Single)
            .check(&nowhere)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "target/release/qr-server is missing: run `cargo xtask build`"
        );
        let err = ServerSpec::new(Tier::Tier3, Mode::Single)
            .check(&nowhere)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "node/server.js is missing: run `cargo xtask build`"
        );
        assert!(
            ServerSpec::new(Tier::Tier3, Mode::Single)
                .required_outputs()
                .contains(&"node/build/qr_napi.node")
        );
        let spec = ServerSpec {
            engine: Some(Engine::Article),
            ..ServerSpec::new(Tier::Tier0, Mode::Single)
        };
        assert_eq!(
            Server::start(&spec).unwrap_err().to_string(),
            "tier-0 is pure JS and takes no --engine"
        );
    }

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn start_reads_the_ready_line_and_stop_sends_sigterm() {
        use std::os::unix::process::ExitStatusExt;
        let script = "echo starting; echo 'listening on http://127.0.0.1:4321'; exec sleep 60";
        let server = Server::start_command(sh(script), "fake".into(), READY_TIMEOUT).unwrap();
        assert_eq!(server.addr(), "127.0.0.1:4321".parse().unwrap());
        let status = server.stop().unwrap();
        assert_eq!(status.signal(), Some(15), "{status}");
    }

    #[test]
    fn a_process_exiting_before_ready_reports_status_and_stderr() {
        let script = "echo 'bad flag --tier' >&2; exit 3";
        let err = Server::start_command(sh(script), "fake".into(), READY_TIMEOUT).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("fake exited before it was ready"),
            "{message}"
        );
        assert!(message.contains("exit status: 3"), "{message}");
        assert!(
            message.ends_with("last stderr lines:\n  bad flag --tier"),
            "{message}"
        );
    }

    #[test]
    fn a_silent_process_times_out_and_is_killed() {
        let err = Server::start_command(
            sh("exec sleep 60"),
            "fake".into(),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("fake printed no `listening on http://ADDR` line within 300ms"),
            "{err}"
        );
    }

    #[test]
    fn a_server_ignoring_sigterm_is_killed_and_reported() {
        let script = "trap '' TERM; echo 'listening on http://127.0.0.1:1'; exec sleep 60";
        let server = Server::start_command(sh(script), "fake".into(), READY_TIMEOUT).unwrap();
        let err = server.stop_within(Duration::from_millis(300)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("fake did not exit within 300ms of SIGTERM; killed it (signal: 9"),
            "{err}"
        );
    }

    #[test]
    fn processes_left_in_the_group_are_an_error() {
        // The shell exits on SIGTERM, its background `sleep` would linger.
        let script = "sleep 60 & echo 'listening on http://127.0.0.1:1'; wait";
        let server = Server::start_command(sh(script), "fake".into(), READY_TIMEOUT).unwrap();
        let pgid = Pid::from_raw(server.pid() as i32).unwrap();
        let err = server.stop().unwrap_err();
        assert!(err.to_string().contains("but left processes ["), "{err}");
        assert!(lingering(pgid, 0, Duration::from_secs(2)).is_empty());
    }

    #[test]
    fn wait_returns_the_exit_status_and_kills_what_is_left() {
        let script = "sleep 60 & echo 'listening on http://127.0.0.1:1'; sleep 0.2; exit 7";
        let mut server = Server::start_command(sh(script), "fake".into(), READY_TIMEOUT).unwrap();
        let pgid = Pid::from_raw(server.pid() as i32).unwrap();
        assert_eq!(server.wait().unwrap().code(), Some(7));
        assert!(lingering(pgid, 0, Duration::from_secs(2)).is_empty());
    }

    #[test]
    fn dropping_a_server_kills_its_group() {
        let script = "sleep 60 & echo 'listening on http://127.0.0.1:1'; wait";
        let server = Server::start_command(sh(script), "fake".into(), READY_TIMEOUT).unwrap();
        let pgid = Pid::from_raw(server.pid() as i32).unwrap();
        assert_eq!(lingering(pgid, 0, Duration::ZERO).len(), 2, "sh and sleep");
        drop(server);
        assert!(lingering(pgid, 0, Duration::from_secs(2)).is_empty());
    }
}
