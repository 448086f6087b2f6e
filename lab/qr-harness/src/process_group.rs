//! A child process leading a process group of its own, the handle every launcher here shares
//! ([`crate::Server`], qr-nginx's `Nginx`): started with a parent-death signal, its exit seen
//! without reaping it, the whole group killed and the leader reaped exactly once, the members it
//! leaves behind found, and the group killed when the handle is dropped.
//!
//! Until the leader is reaped its pid, which is also the group's id, cannot be reused: signalling
//! the group stays safe, so reaping happens in one place only, right after the group's SIGKILL.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, WaitIdStatus};

/// How often a waiting loop looks again.
const POLL: Duration = Duration::from_millis(20);

/// Makes the process `command` starts get `signal` when the thread that starts it exits (Linux's
/// parent-death signal): start and stop it on one thread. A launcher that dies before the signal
/// is set makes the spawn fail instead (the child's parent is no longer the launcher).
pub fn end_with_launcher(command: &mut Command, signal: Signal) {
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

/// A child process and the process group it leads. Dropping it kills the group and reaps the
/// child, so a failing test or launcher never leaks a process.
#[derive(Debug)]
pub struct ProcessGroup {
    child: Child,
    /// What errors call it.
    label: String,
    /// Set once the leader is reaped; from then on its group is never signalled.
    reaped: Option<ExitStatus>,
}

impl ProcessGroup {
    /// Spawns `command` as the leader of a new process group (so a terminal's Ctrl-C reaches only
    /// the launcher), which gets `on_launcher_death` when the calling thread exits (see
    /// [`end_with_launcher`]). `label` names it in errors.
    pub fn spawn(
        command: &mut Command,
        label: impl Into<String>,
        on_launcher_death: Signal,
    ) -> io::Result<ProcessGroup> {
        command.process_group(0);
        end_with_launcher(command, on_launcher_death);
        Ok(ProcessGroup {
            child: command.spawn()?,
            label: label.into(),
            reaped: None,
        })
    }

    /// The leader's pid (also the group's id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What errors call the process.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The leader's stdout, if it was piped and not taken yet.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// The leader's stderr, if it was piped and not taken yet.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Sends `signal` to the leader alone (its group is left to it).
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        Ok(rustix::process::kill_process(self.pid_of(), signal)?)
    }

    /// The leader's exit status if it has exited, without reaping it.
    pub fn exited(&self) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.reaped {
            return Ok(Some(status));
        }
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        let status = rustix::process::waitid(WaitId::Pid(self.pid_of()), options)
            .with_context(|| format!("checking on {}", self.label))?;
        Ok(status.map(|status| ExitStatus::from_raw(wait_status(&status))))
    }

    /// The leader's exit status once it exits, waiting at most `timeout` (without reaping it);
    /// `None` if it still runs then.
    pub fn exited_within(&self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.exited()?;
            if status.is_some() || Instant::now() >= deadline {
                return Ok(status);
            }
            std::thread::sleep(POLL);
        }
    }

    /// SIGKILL to the whole group (the leader, its workers, what they spawned), then reaps the
    /// leader, once: later calls return the same status.
    pub fn kill_and_reap(&mut self) -> Result<ExitStatus> {
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

    /// The live members of the group other than the leader that are still there after at most
    /// `grace` (workers a stopping leader signalled may take a moment to go). Read before the
    /// leader is reaped.
    pub fn lingering(&self, grace: Duration) -> Vec<u32> {
        lingering(self.pid(), self.pid(), grace)
    }

    fn pid_of(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32).expect("a child's pid is positive")
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // Nothing to do if it was reaped already; errors cannot be reported here.
        let _ = self.kill_and_reap();
    }
}

/// The `wait(2)` encoding that `ExitStatus` holds, so it prints as std prints it: the code in the
/// second byte for an exit; the signal, with 0x80 if it dumped core, for a kill.
fn wait_status(status: &WaitIdStatus) -> i32 {
    match status.exit_status() {
        Some(code) => (code & 0xff) << 8,
        None => {
            let core = if status.dumped() { 0x80 } else { 0 };
            status.terminating_signal().unwrap_or(0) | core
        }
    }
}

/// The live processes (zombies aside) of group `pgid` other than `leader` that are still there
/// after at most `grace`.
pub(crate) fn lingering(pgid: u32, leader: u32, grace: Duration) -> Vec<u32> {
    let deadline = Instant::now() + grace;
    loop {
        let members = live_group_members(pgid, leader);
        if members.is_empty() || Instant::now() >= deadline {
            return members;
        }
        std::thread::sleep(POLL);
    }
}

/// The live (not zombie) processes of group `pgid` other than `leader`, from Linux's /proc
/// (elsewhere: none found).
fn live_group_members(pgid: u32, leader: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let pgid = pgid.to_string();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> ProcessGroup {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        ProcessGroup::spawn(&mut command, "sh", Signal::TERM).unwrap()
    }

    /// Runs `script`, waits for [`ProcessGroup::exited`] to see its end, and checks it matches
    /// what reaping says.
    fn status_of(script: &str) -> String {
        let mut group = sh(script);
        let seen = group
            .exited_within(Duration::from_secs(30))
            .unwrap()
            .unwrap_or_else(|| panic!("{script} did not exit"));
        assert_eq!(group.exited().unwrap(), Some(seen), "not reaped");
        assert_eq!(group.kill_and_reap().unwrap(), seen);
        assert_eq!(group.exited().unwrap(), Some(seen), "once reaped");
        seen.to_string()
    }

    #[test]
    fn exits_and_kills_read_as_std_prints_them() {
        assert_eq!(status_of("exit 0"), "exit status: 0");
        assert_eq!(status_of("exit 3"), "exit status: 3");
        assert_eq!(status_of("kill -9 $$"), "signal: 9 (SIGKILL)");
    }

    #[test]
    fn a_running_child_has_not_exited_until_killed() {
        let mut group = sh("exec sleep 60");
        assert_eq!(group.exited().unwrap(), None);
        assert_eq!(
            group.exited_within(Duration::from_millis(100)).unwrap(),
            None
        );
        let status = group.kill_and_reap().unwrap();
        assert_eq!(status.signal(), Some(9), "{status}");
    }

    #[test]
    fn members_the_leader_leaves_behind_are_found() {
        let group = sh("sleep 60 & sleep 60 & wait");
        let deadline = Instant::now() + Duration::from_secs(10);
        while group.lingering(Duration::ZERO).len() < 2 {
            assert!(Instant::now() < deadline, "the two sleeps never started");
            std::thread::sleep(POLL);
        }
        assert_eq!(lingering(group.pid(), 0, Duration::ZERO).len(), 3);
    }

    #[test]
    fn dropping_the_handle_kills_its_group() {
        let group = sh("sleep 60 & wait");
        let pgid = group.pid();
        let deadline = Instant::now() + Duration::from_secs(10);
        while lingering(pgid, 0, Duration::ZERO).len() < 2 {
            assert!(Instant::now() < deadline, "sh and sleep never both ran");
            std::thread::sleep(POLL);
        }
        drop(group);
        assert!(lingering(pgid, 0, Duration::from_secs(2)).is_empty());
    }
}
