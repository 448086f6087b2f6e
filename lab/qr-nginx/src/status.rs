//! A child's exit, seen without reaping it: until it is reaped its pid (and the process group it
//! leads) cannot be reused, so signalling what it left behind stays safe.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use anyhow::{Context, Result};
use rustix::process::{Pid, WaitId, WaitIdOptions, WaitIdStatus};

/// The exit status of child `pid` if it has exited, leaving it to be reaped.
pub fn exited(pid: u32) -> Result<Option<ExitStatus>> {
    let id = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .with_context(|| format!("{pid} is not a pid"))?;
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    let status = rustix::process::waitid(WaitId::Pid(id), options)
        .with_context(|| format!("checking on process {pid}"))?;
    Ok(status.map(|status| ExitStatus::from_raw(wait_status(&status))))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    /// Runs `script`, waits for [`exited`] to see its end, and checks it matches what reaping says.
    fn status_of(script: &str) -> String {
        let mut child = Command::new("sh").args(["-c", script]).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let seen = loop {
            if let Some(status) = exited(child.id()).unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{script} did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(exited(child.id()).unwrap(), Some(seen), "not reaped");
        assert_eq!(child.wait().unwrap(), seen);
        seen.to_string()
    }

    #[test]
    fn exits_and_kills_read_as_std_prints_them() {
        assert_eq!(status_of("exit 0"), "exit status: 0");
        assert_eq!(status_of("exit 3"), "exit status: 3");
        assert_eq!(status_of("kill -9 $$"), "signal: 9 (SIGKILL)");
    }

    #[test]
    fn a_running_child_has_not_exited() {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert_eq!(exited(child.id()).unwrap(), None);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
