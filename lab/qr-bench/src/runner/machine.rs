//! What the benchmark runs on: CPU, memory, kernel and tool versions, looked up for the
//! model's [`Machine`].

use std::path::Path;
use std::process::Command;

use procfs::{CpuInfo, Current, Meminfo};

use crate::model::Machine;

/// The first line of `program args`'s stdout, run in the repository root (so rustup picks
/// the pinned toolchain), or "unknown".
fn tool_version(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(qr_harness::repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Looks everything up; fields that cannot be read say "unknown". `oha` is the load
/// generator's binary, if the run used one.
pub fn detect(oha: Option<&Path>) -> Machine {
    let cpu_model = CpuInfo::current()
        .ok()
        .and_then(|c| c.model_name(0).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let memory_mb = Meminfo::current().map_or(0, |m| m.mem_total / (1024 * 1024));
    let kernel = procfs::sys::kernel::Version::current().map_or_else(
        |_| "unknown".into(),
        |v| format!("{}.{}.{}", v.major, v.minor, v.patch),
    );
    Machine {
        cpu_model,
        cores: qr_harness::cpus(),
        memory_mb,
        kernel,
        rustc: tool_version("rustc", &["--version"]),
        node: tool_version("node", &["--version"]),
        oha: oha.map_or_else(|| "not used".into(), |p| tool_version(p, &["--version"])),
        qr_bench_release: !cfg!(debug_assertions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_this_machine() {
        let m = detect(None);
        assert!(m.cores >= 1 && m.memory_mb > 0, "{m:?}");
        assert_ne!(m.kernel, "unknown");
        assert!(m.rustc.starts_with("rustc "), "{m:?}");
        assert_eq!(tool_version("/nonexistent/tool", &[]), "unknown");
    }
}
