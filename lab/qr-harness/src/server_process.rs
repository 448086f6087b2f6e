//! A server as a real process: started in its own process group ([`ProcessGroup`]), ready when it
//! prints its `listening on http://ADDR` line, stopped with SIGTERM (and checked to leave nothing
//! behind), killed with its whole group if dropped, sent SIGTERM if its launcher dies.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rustix::process::Signal;

use crate::{ProcessGroup, ServerSpec};

/// How long a server may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The prefix of the one line a server prints on stdout once it serves.
const READY_PREFIX: &str = "listening on http://";
/// How many of a server's last stderr lines an error quotes.
const STDERR_TAIL_LINES: usize = 20;

/// A running server, in its own process group. Dropping it kills the group, so a failing
/// test never leaks a process; [`Server::stop`] shuts it down gracefully instead.
#[derive(Debug)]
pub struct Server {
    group: ProcessGroup,
    addr: SocketAddr,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_done: Arc<AtomicBool>,
}

impl Server {
    /// Spawns the server and waits (at most a minute) for its ready line. The server gets SIGTERM
    /// when the calling thread exits: start and stop it on one thread.
    pub fn start(spec: &ServerSpec) -> Result<Server> {
        spec.check()?;
        Server::start_command(spec.command(), spec.label(), READY_TIMEOUT)
    }

    /// [`Server::start`] with `prefix` in front of the spec's command: the prefix's program runs,
    /// with its own arguments, then the server's program and arguments (directory and environment
    /// stay the spec's). For a prefix that execs the server in its place, such as `ip netns exec
    /// NAME` (which enters a network namespace first), the process started is the server itself:
    /// same pid and process group, ready line, SIGTERM and exit status.
    pub fn start_with_prefix(spec: &ServerSpec, prefix: &[&str], label: String) -> Result<Server> {
        spec.check()?;
        let server = spec.command();
        let (program, args) = prefix.split_first().context("an empty prefix")?;
        let mut command = Command::new(program);
        command
            .args(args)
            .arg(server.get_program())
            .args(server.get_args());
        if let Some(dir) = server.get_current_dir() {
            command.current_dir(dir);
        }
        for (key, value) in server.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        Server::start_command(command, label, READY_TIMEOUT)
    }

    /// Spawns `command` in its own process group, forwards its stderr (and any stdout line but
    /// the ready line) to ours prefixed with `[label]`, and waits for `listening on http://ADDR`.
    fn start_command(mut command: Command, label: String, timeout: Duration) -> Result<Server> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own group keeps a terminal's Ctrl-C from reaching it; so that it still ends when
        // the launcher dies without stopping it (SIGKILLed, say), it gets SIGTERM then.
        let mut group = ProcessGroup::spawn(&mut command, label.clone(), Signal::TERM)
            .with_context(|| format!("cannot start {label}: {command:?}"))?;
        let stdout = group.take_stdout().expect("stdout is piped");
        let stderr = group.take_stderr().expect("stderr is piped");
        let mut server = Server {
            group,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            stderr_tail: Arc::default(),
            stderr_done: Arc::default(),
        };

        let (prefix, tail, done) = (
            format!("[{label}]"),
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
        let prefix = format!("[{label}]");
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
                    let status = match server.group.exited_within(Duration::from_secs(5))? {
                        Some(_) => Some(server.group.kill_and_reap()?),
                        None => None,
                    };
                    return Err(server.exited_early(status));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if server.group.exited()?.is_some() {
                        let status = server.group.kill_and_reap()?;
                        return Err(server.exited_early(Some(status)));
                    }
                    if Instant::now() >= deadline {
                        bail!(
                            "{label} printed no `{READY_PREFIX}ADDR` line within {timeout:?}; killed it{}",
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
        self.group.pid()
    }

    /// The server's exit status if it has exited on its own, without reaping it (dropping the
    /// `Server` does, and kills what it left in its group).
    pub fn exited(&self) -> Result<Option<ExitStatus>> {
        self.group.exited()
    }

    /// SIGKILL to the server's whole group; its exit status once reaped.
    pub fn kill(mut self) -> Result<ExitStatus> {
        self.group.kill_and_reap()
    }

    /// Sends SIGTERM and waits (at most 30 s) for the server to exit; kills it with
    /// SIGKILL and fails if it does not, if it had exited already, or if it leaves processes behind.
    pub fn stop(self) -> Result<ExitStatus> {
        self.stop_within(STOP_TIMEOUT)
    }

    fn stop_within(mut self, timeout: Duration) -> Result<ExitStatus> {
        let label = self.group.label().to_owned();
        if self.group.exited()?.is_some() {
            let status = self.group.kill_and_reap()?;
            bail!(
                "{label} had exited on its own ({status}) before it was stopped{}",
                self.stderr_tail_text()
            );
        }
        self.group
            .signal(Signal::TERM)
            .with_context(|| format!("sending SIGTERM to {label}"))?;
        if self.group.exited_within(timeout)?.is_none() {
            let status = self.group.kill_and_reap()?;
            bail!("{label} did not exit within {timeout:?} of SIGTERM; killed it ({status})");
        }
        let left = self.group.lingering(Duration::from_secs(2));
        let status = self.group.kill_and_reap()?;
        if !left.is_empty() {
            bail!(
                "{label} exited ({status}) but left processes {left:?} in its group; killed them"
            );
        }
        Ok(status)
    }

    fn exited_early(&self, status: Option<ExitStatus>) -> anyhow::Error {
        let status = match status {
            Some(status) => status.to_string(),
            None => "its stdout closed, still running".to_owned(),
        };
        anyhow::anyhow!(
            "{} exited before it was ready ({status}){}",
            self.group.label(),
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
    use crate::process_group::lingering;

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
        let pgid = server.pid();
        let err = server.stop().unwrap_err();
        assert!(err.to_string().contains("but left processes ["), "{err}");
        assert!(lingering(pgid, 0, Duration::from_secs(2)).is_empty());
    }
}
