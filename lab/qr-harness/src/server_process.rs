//! A server as a real process: started in its own process group, ready when it prints its
//! `listening on http://ADDR` line, stopped with SIGTERM (and checked to leave nothing behind),
//! killed with its whole group if dropped, sent SIGTERM if its launcher dies.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

use crate::ServerSpec;

/// How long a server may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The prefix of the one line a server prints on stdout once it serves.
const READY_PREFIX: &str = "listening on http://";
/// How many of a server's last stderr lines an error quotes.
const STDERR_TAIL_LINES: usize = 20;

/// Makes the process `command` starts get `signal` when the thread that starts it exits (Linux's
/// parent-death signal): start and stop it on one thread. A launcher that dies before the signal
/// is set makes the spawn fail instead (the child's parent is no longer the launcher).
pub fn end_with_launcher(command: &mut Command, signal: Signal) {
    use std::os::unix::process::CommandExt;
    let launcher = rustix::process::getpid();
    // SAFETY: the closure runs in the forked child before exec, makes async-signal-safe system
    // calls (prctl, getppid) and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(signal))?;
            if rustix::process::getppid() != Some(launcher) {
                // The launcher has exited (an errno, not a message: no allocation here).
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
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
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // Its own group keeps a terminal's Ctrl-C from reaching it; so that it still ends when
        // the launcher dies without stopping it (SIGKILLed, say), it gets SIGTERM then.
        end_with_launcher(&mut command, Signal::TERM);
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

    /// Sends SIGTERM and waits (at most 30 s) for the server to exit; kills it with
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
    fn dropping_a_server_kills_its_group() {
        let script = "sleep 60 & echo 'listening on http://127.0.0.1:1'; wait";
        let server = Server::start_command(sh(script), "fake".into(), READY_TIMEOUT).unwrap();
        let pgid = Pid::from_raw(server.pid() as i32).unwrap();
        assert_eq!(lingering(pgid, 0, Duration::ZERO).len(), 2, "sh and sleep");
        drop(server);
        assert!(lingering(pgid, 0, Duration::from_secs(2)).is_empty());
    }
}
