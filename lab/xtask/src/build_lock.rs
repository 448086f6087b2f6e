//! One build at a time in a clone: the builds write shared outputs outside cargo's own locking
//! (the wheel maturin makes in `<target dir>/wheels/`, the glue in `node/build/`, npm's
//! `node_modules/`), so two commands started at once (`cargo xtask serve py-tier-3` twice) take
//! turns instead of corrupting each other's files. A file under cargo's target directory, locked
//! with flock: released when dropped, or when the process dies, however it dies.

use std::fs::{File, OpenOptions};

use anyhow::{Context, Result};
use qr_harness::paths;
use rustix::fs::{FlockOperation, flock};
use rustix::io::Errno;

/// Held while a build runs.
pub struct BuildLock {
    _file: File,
}

impl BuildLock {
    /// Takes the lock named `name`, waiting (and saying so) while another process holds it.
    pub fn acquire(name: &str) -> Result<BuildLock> {
        let folder = paths::target_dir();
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let path = folder.join(format!("{name}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Err(Errno::WOULDBLOCK) => {
                eprintln!(
                    "    waiting for another build in this clone ({})",
                    paths::shown(&path)
                );
                flock(&file, FlockOperation::LockExclusive)
            }
            taken => taken,
        }
        .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(BuildLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_second_holder_waits_until_the_first_lets_go() {
        let first = BuildLock::acquire("test-build-lock").unwrap();
        let (taken, took) = mpsc::channel();
        let second = std::thread::spawn(move || {
            let lock = BuildLock::acquire("test-build-lock").unwrap();
            taken.send(()).unwrap();
            drop(lock);
        });
        assert!(
            took.recv_timeout(Duration::from_millis(300)).is_err(),
            "taken while held"
        );
        drop(first);
        took.recv_timeout(Duration::from_secs(10))
            .expect("taken once let go");
        second.join().unwrap();
    }
}
