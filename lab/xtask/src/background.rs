//! Work the pipeline needs later, done meanwhile in the CPU its foreground steps leave idle: a
//! list of commands run one after another on a thread of their own at the lowest CPU priority
//! (nice 19, which the children inherit), their output in a log file. A test that waits on a
//! socket or a timer leaves a core idle for much of its time; a build started beside it at
//! nice 19 takes only that, as the scheduler gives a nice-0 task about 68 times its share.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::cmd::show;

/// The lowest priority a process can ask for.
const NICEST: i32 = 19;
/// How many of the log's last lines a failure quotes.
const TAIL_LINES: usize = 30;

/// Commands running in the background; [`Background::finish`] waits for them.
pub struct Background {
    name: &'static str,
    log: PathBuf,
    started: Instant,
    thread: JoinHandle<Result<()>>,
}

impl Background {
    /// Starts running `commands` in order, each with its output appended to `log`; the first that
    /// fails ends the job.
    pub fn start(name: &'static str, log: PathBuf, commands: Vec<Command>) -> Result<Background> {
        if let Some(folder) = log.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let file = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        eprintln!(
            "==> in the background, at low priority: {name} (log: {})",
            log.display()
        );
        let thread = std::thread::spawn(move || -> Result<()> {
            // This thread's nice value, which every child it starts inherits (Linux keeps it per
            // thread): the foreground's own threads keep theirs.
            rustix::process::setpriority_process(None, NICEST)
                .context("lowering the background thread's priority")?;
            for mut command in commands {
                let shown = show(&command);
                let status = command
                    .stdout(Stdio::from(file.try_clone()?))
                    .stderr(Stdio::from(file.try_clone()?))
                    .status()
                    .with_context(|| format!("could not run `{shown}`"))?;
                if !status.success() {
                    bail!("`{shown}` failed ({status})");
                }
            }
            Ok(())
        });
        Ok(Background {
            name,
            log,
            started: Instant::now(),
            thread,
        })
    }

    /// Waits for the job; its error quotes the end of its log.
    pub fn finish(self) -> Result<()> {
        let waited = Instant::now();
        let result = self
            .thread
            .join()
            .map_err(|_| anyhow!("{}: its thread panicked", self.name))?;
        eprintln!(
            "    {} (background) done {:.1} s after it started; waited {:.1} s for it",
            self.name,
            self.started.elapsed().as_secs_f64(),
            waited.elapsed().as_secs_f64()
        );
        result.map_err(|error| {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
            anyhow!(
                "{}: {error:#}\n{tail}\n(full log: {})",
                self.name,
                self.log.display()
            )
        })
    }
}
