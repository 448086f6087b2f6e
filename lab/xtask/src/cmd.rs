//! Running commands and showing progress: every command is printed before it runs,
//! and a failure names the command and its exit status.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// A long step: announced when it starts, timed when it ends.
pub struct Step {
    name: &'static str,
    started: Instant,
}

impl Step {
    pub fn start(name: &'static str) -> Step {
        eprintln!("==> {name}");
        Step {
            name,
            started: Instant::now(),
        }
    }

    pub fn done(self) {
        eprintln!(
            "    {} done in {:.1} s",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// `cargo` (the one running xtask) in `root`.
pub fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

/// Runs `command` with inherited stdio; an error unless it exits 0.
pub fn run(command: &mut Command) -> Result<()> {
    eprintln!("    $ {}", show(command));
    let status = command
        .status()
        .with_context(|| format!("could not run `{}`", show(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", show(command));
    }
    Ok(())
}

/// Runs `command` quietly and returns its stdout; an error (with its stderr) unless it exits 0.
pub fn output(command: &mut Command) -> Result<String> {
    let output = command
        .output()
        .with_context(|| format!("could not run `{}`", show(command)))?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            show(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// A command as it would be typed: its program's file name and its arguments.
pub fn show(command: &Command) -> String {
    let program = Path::new(command.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str());
    std::iter::once(name)
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}
