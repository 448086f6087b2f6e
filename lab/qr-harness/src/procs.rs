//! A server's process tree from /proc: memory (RSS, PSS) and CPU time of it and all its
//! descendants, in one sample or as peaks over a window (the bench, the fault tests, the soak).
//!
//! Everything comes from procfs (`/proc/<pid>/stat` and `/proc/<pid>/smaps_rollup`) through
//! the `procfs` crate. The tree is re-scanned on every sample, so tier-1's spawned CLI
//! processes and cluster workers that are replaced mid-run are seen.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use procfs::process::Process;

/// How often the monitor thread samples the tree.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(150);

/// One process as the CPU and memory arithmetic needs it (times in clock ticks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcEntry {
    pub pid: i32,
    pub ppid: i32,
    /// utime + stime of the whole thread group (its exited threads included).
    pub own_ticks: u64,
    /// cutime + cstime: the CPU of every child this process has waited for, recursively
    /// (the kernel adds a reaped child's own cutime to its parent's).
    pub reaped_ticks: u64,
    /// Resident pages * page size.
    pub rss_bytes: u64,
}

/// The pids of `root` and all its descendants in `procs` (root first, parents before children).
/// Returns an empty list when `root` is not among `procs`.
pub fn tree_pids(root: i32, procs: &[ProcEntry]) -> Vec<i32> {
    if !procs.iter().any(|p| p.pid == root) {
        return Vec::new();
    }
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i]) {
            out.extend(kids.iter().copied().filter(|&k| k != root));
        }
        i += 1;
    }
    out
}

/// The CPU ticks the tree rooted at `root` has used so far, as seen in one snapshot.
///
/// `C = Σ over live tree members p of (own(p) + reaped(p))`, where own = utime + stime and
/// reaped = cutime + cstime. Every tick any member of the tree ever used is in exactly one
/// term: a live process's own ticks are in `own(p)`; a process that exited and was waited
/// for by its parent `q` moved its own and reaped ticks into `reaped(q)`, and `q` is either
/// live (counted) or itself reaped further up, until the live root catches it. A process
/// that exited but is not yet reaped (a zombie) still shows its times in its own stat, so
/// it is counted as a live member. The CPU used during a window is then
/// `C(end) - C(start)`: a child spawned and reaped inside the window (a tier-1 CLI call)
/// appears in its parent's cutime at the end and nowhere at the start; a live child's
/// growth appears in its own ticks; nothing is counted twice because a process is either
/// live (own) or reaped (in exactly one parent's cutime), never both.
///
/// Not seen: the CPU of processes that leave the tree without being reaped by a member
/// (orphans re-parented to init), which none of our servers do. The root's own cutime
/// counts the children the server reaped; the server's parent (the bench) never appears.
pub fn tree_cpu_ticks(root: i32, procs: &[ProcEntry]) -> u64 {
    let by_pid: HashMap<i32, &ProcEntry> = procs.iter().map(|p| (p.pid, p)).collect();
    tree_pids(root, procs)
        .iter()
        .filter_map(|pid| by_pid.get(pid))
        .map(|p| p.own_ticks + p.reaped_ticks)
        .sum()
}

/// One look at the whole tree.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TreeSample {
    /// Number of live processes in the tree.
    pub processes: usize,
    /// Summed RSS (shared pages counted once per process that maps them).
    pub rss_bytes: u64,
    /// Summed PSS (shared pages split between the processes that map them).
    pub pss_bytes: u64,
    /// The anonymous part of `pss_bytes` (heaps, stacks); the rest is mostly file-backed
    /// (executables and libraries).
    pub pss_anon_bytes: u64,
    /// [`tree_cpu_ticks`] at this moment.
    pub cpu_ticks: u64,
}

fn ticks(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Reads every process's stat (processes that vanish mid-scan are skipped).
pub fn scan_all() -> Result<Vec<ProcEntry>> {
    let page = procfs::page_size();
    let mut out = Vec::with_capacity(512);
    for proc in procfs::process::all_processes().context("listing /proc")? {
        let Ok(proc) = proc else { continue };
        let Ok(stat) = proc.stat() else { continue };
        out.push(ProcEntry {
            pid: stat.pid,
            ppid: stat.ppid,
            own_ticks: stat.utime + stat.stime,
            reaped_ticks: ticks(stat.cutime) + ticks(stat.cstime),
            rss_bytes: stat.rss * page,
        });
    }
    Ok(out)
}

/// PSS of one process and its anonymous part, from `/proc/<pid>/smaps_rollup` (0 if it
/// vanished or is a zombie).
fn pss_and_anon_bytes(pid: i32) -> (u64, u64) {
    let Ok(rollup) = Process::new(pid).and_then(|p| p.smaps_rollup()) else {
        return (0, 0);
    };
    let field = |name: &str| -> u64 {
        (rollup.memory_map_rollup.iter())
            .map(|m| m.extension.map.get(name).copied().unwrap_or(0))
            .sum()
    };
    (field("Pss"), field("Pss_Anon"))
}

/// Samples the tree rooted at `root` now, PSS included (from smaps_rollup).
pub fn sample_tree(root: i32) -> Result<TreeSample> {
    let procs = scan_all()?;
    let pids = tree_pids(root, &procs);
    anyhow::ensure!(!pids.is_empty(), "process {root} is gone");
    let by_pid: HashMap<i32, &ProcEntry> = procs.iter().map(|p| (p.pid, p)).collect();
    let rss_bytes = pids
        .iter()
        .filter_map(|p| by_pid.get(p))
        .map(|p| p.rss_bytes)
        .sum();
    let (pss_bytes, pss_anon_bytes) = pids
        .iter()
        .map(|&p| pss_and_anon_bytes(p))
        .fold((0, 0), |(a, b), (p, anon)| (a + p, b + anon));
    Ok(TreeSample {
        processes: pids.len(),
        rss_bytes,
        pss_bytes,
        pss_anon_bytes,
        cpu_ticks: tree_cpu_ticks(root, &procs),
    })
}

/// Converts clock ticks to seconds with this kernel's USER_HZ.
pub fn ticks_to_secs(ticks: u64) -> f64 {
    ticks as f64 / procfs::ticks_per_second() as f64
}

/// What the monitor saw over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MonitorReport {
    pub rss_max_bytes: u64,
    pub pss_max_bytes: u64,
    /// The anonymous part of the PSS in the sample with the most PSS.
    pub pss_anon_at_max_bytes: u64,
    /// Most processes seen in the tree at once.
    pub max_processes: usize,
    /// CPU seconds the tree used between [`Monitor::start`] and [`Monitor::finish`].
    pub cpu_seconds: f64,
}

/// A background thread sampling the tree every [`SAMPLE_INTERVAL`].
pub struct Monitor {
    root: i32,
    start: TreeSample,
    stop: Arc<AtomicBool>,
    /// Ticks of the last sample (for a live CPU-use readout).
    last_ticks: Arc<AtomicU64>,
    thread: JoinHandle<(TreeSample, usize)>,
}

impl Monitor {
    /// Takes the start snapshot and starts sampling.
    pub fn start(root: u32) -> Result<Monitor> {
        let root = i32::try_from(root).context("pid out of range")?;
        let start = sample_tree(root)?;
        let stop = Arc::new(AtomicBool::new(false));
        let last_ticks = Arc::new(AtomicU64::new(start.cpu_ticks));
        let thread = {
            let stop = stop.clone();
            let last_ticks = last_ticks.clone();
            std::thread::Builder::new()
                .name("tree-monitor".into())
                .spawn(move || {
                    let mut max = start;
                    let mut max_procs = start.processes;
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(SAMPLE_INTERVAL);
                        let Ok(s) = sample_tree(root) else {
                            break;
                        };
                        max.rss_bytes = max.rss_bytes.max(s.rss_bytes);
                        if s.pss_bytes > max.pss_bytes {
                            max.pss_bytes = s.pss_bytes;
                            max.pss_anon_bytes = s.pss_anon_bytes;
                        }
                        max_procs = max_procs.max(s.processes);
                        last_ticks.store(s.cpu_ticks, Ordering::Relaxed);
                    }
                    (max, max_procs)
                })
                .context("spawning the monitor thread")?
        };
        Ok(Monitor {
            root,
            start,
            stop,
            last_ticks,
            thread,
        })
    }

    /// CPU seconds the tree used from the start snapshot to the latest sample.
    pub fn cpu_seconds_so_far(&self) -> f64 {
        let now = self.last_ticks.load(Ordering::Relaxed);
        ticks_to_secs(now.saturating_sub(self.start.cpu_ticks))
    }

    /// Stops sampling, takes the end snapshot and reports the window.
    pub fn finish(self) -> Result<MonitorReport> {
        self.stop.store(true, Ordering::Relaxed);
        let (max, max_processes) = self
            .thread
            .join()
            .map_err(|_| anyhow::anyhow!("monitor thread panicked"))?;
        let end = sample_tree(self.root)?;
        let pss_max = if end.pss_bytes > max.pss_bytes {
            end
        } else {
            max
        };
        Ok(MonitorReport {
            rss_max_bytes: max.rss_bytes.max(end.rss_bytes),
            pss_max_bytes: pss_max.pss_bytes,
            pss_anon_at_max_bytes: pss_max.pss_anon_bytes,
            max_processes: max_processes.max(end.processes),
            cpu_seconds: ticks_to_secs(end.cpu_ticks.saturating_sub(self.start.cpu_ticks)),
        })
    }
}

/// CPU ticks (user + system) this process's waited-for children have used so far.
/// The delta around a child's whole life (spawn to wait) is that child's CPU, provided no
/// other child is reaped meanwhile.
pub fn own_children_cpu_ticks() -> Result<u64> {
    let stat = Process::myself()?.stat()?;
    Ok(ticks(stat.cutime) + ticks(stat.cstime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, ppid: i32, own: u64, reaped: u64) -> ProcEntry {
        ProcEntry {
            pid,
            ppid,
            own_ticks: own,
            reaped_ticks: reaped,
            rss_bytes: 1000 * pid as u64,
        }
    }

    #[test]
    fn tree_finds_grandchildren_and_skips_strangers() {
        let procs = [
            p(1, 0, 0, 0),
            p(10, 1, 0, 0),
            p(11, 10, 0, 0),
            p(12, 11, 0, 0),
            p(20, 1, 0, 0),
            p(13, 10, 0, 0),
        ];
        let mut got = tree_pids(10, &procs);
        assert_eq!(got[0], 10);
        got.sort();
        assert_eq!(got, vec![10, 11, 12, 13]);
        assert!(tree_pids(99, &procs).is_empty());
    }

    #[test]
    fn cpu_of_a_window_counts_reaped_children_once() {
        // Start: server 10 (own 100, reaped 5 from before), worker 11 (own 50).
        let start = [p(1, 0, 999, 999), p(10, 1, 100, 5), p(11, 10, 50, 0)];
        // End: worker 11 used 30 more and spawned+reaped CLI children worth 40 (tier-1),
        // a CLI child 12 is still running with 3 ticks; the server used 10 more;
        // an unrelated process 20 burned 500 ticks.
        let end = [
            p(1, 0, 2000, 999),
            p(10, 1, 110, 5),
            p(11, 10, 80, 40),
            p(12, 11, 3, 0),
            p(20, 1, 500, 0),
        ];
        let used = tree_cpu_ticks(10, &end) - tree_cpu_ticks(10, &start);
        assert_eq!(used, 10 + 30 + 40 + 3);
    }

    #[test]
    fn cpu_of_a_replaced_worker_moves_into_its_parent() {
        // Worker 11 had used 50 ticks at the start, then used 20 more, died and was reaped by
        // the primary 10 (its 70 ticks land in 10's cutime); its replacement 12 used 15.
        let start = [p(10, 1, 100, 0), p(11, 10, 50, 0)];
        let end = [p(10, 1, 100, 70), p(12, 10, 15, 0)];
        let used = tree_cpu_ticks(10, &end) - tree_cpu_ticks(10, &start);
        assert_eq!(used, 20 + 15);
    }

    #[test]
    fn reaped_grandchildren_reach_the_root_through_their_parent() {
        // 11 reaped its child (30 ticks) and was then reaped by 10: the kernel adds 11's
        // own (8) and cutime (30) to 10's cutime.
        let start = [p(10, 1, 0, 0), p(11, 10, 0, 0)];
        let middle = [p(10, 1, 0, 0), p(11, 10, 8, 30)];
        let end = [p(10, 1, 0, 38)];
        assert_eq!(tree_cpu_ticks(10, &middle) - tree_cpu_ticks(10, &start), 38);
        assert_eq!(tree_cpu_ticks(10, &end) - tree_cpu_ticks(10, &start), 38);
    }

    #[test]
    fn sampling_this_process_sees_itself_and_a_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let me = std::process::id() as i32;
        let s = sample_tree(me).expect("sample");
        child.kill().ok();
        child.wait().ok();
        assert!(s.processes >= 2, "{s:?}");
        assert!(s.rss_bytes > 0 && s.pss_bytes > 0, "{s:?}");
        assert!(
            s.pss_bytes <= s.rss_bytes + 4096 * s.processes as u64,
            "{s:?}"
        );
        // This test binary's code is file-backed, its heap anonymous.
        assert!(
            s.pss_anon_bytes > 0 && s.pss_anon_bytes < s.pss_bytes,
            "{s:?}"
        );
    }

    #[test]
    fn a_heap_that_grows_is_counted_as_anonymous_pss() {
        let me = std::process::id() as i32;
        let before = sample_tree(me).expect("sample");
        let heap = vec![1u8; 64 << 20]; // every page written
        let after = sample_tree(me).expect("sample");
        assert!(
            std::hint::black_box(&heap)
                .iter()
                .step_by(4096)
                .all(|&b| b == 1)
        );
        let grew = after.pss_anon_bytes.saturating_sub(before.pss_anon_bytes);
        assert!(
            grew >= 60 << 20,
            "anonymous PSS grew by {grew} bytes: {before:?} {after:?}"
        );
    }

    #[test]
    fn monitor_measures_cpu_burned_by_a_reaped_child() {
        let me = std::process::id();
        let mon = Monitor::start(me).expect("monitor");
        // A child that burns a fixed amount of work (about 0.2 s of CPU here) and is reaped
        // before the window ends.
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
            .status()
            .expect("spawn sh");
        assert!(status.success());
        let r = mon.finish().expect("finish");
        assert!(r.cpu_seconds >= 0.1, "{r:?}");
        assert!(r.max_processes >= 1 && r.rss_max_bytes > 0, "{r:?}");
    }
}
