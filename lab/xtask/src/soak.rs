//! `cargo xtask soak`: every tier under a long, steady, mixed load (the contract's cases, valid
//! and invalid, from a few keep-alive clients), its process tree's memory sampled from /proc at
//! the start, every minute and at the end, every answer checked. Not a CI test: run it for
//! minutes per tier and read the table.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_harness::contract::Contract;
use qr_harness::load::{Load, Tally};
use qr_harness::procs::{self, TreeSample};
use qr_harness::{Mode, Server, ServerSpec, Tier};

/// Keep-alive clients per tier: enough to keep every core busy, few enough to be a soak and not
/// an overload.
const CLIENTS: usize = 8;
/// Load before the first memory sample, so that warm-up (JIT, allocator pools, caches) is not
/// counted as growth.
const WARM_UP: Duration = Duration::from_secs(30);
/// How often memory is sampled and a progress line printed.
const SAMPLE_EVERY: Duration = Duration::from_secs(60);
/// Growth that counts as growth, not noise (both must be exceeded): from the highest of the first
/// [`ENDS`] samples to the lowest of the last ones, so that a moment's extra process (a tier-1
/// child) or garbage not yet collected is not taken for a leak, and a leak, which only grows, is.
/// RSS and PSS must both grow: a process's PSS also rises when other processes that share its
/// pages (another Node, say) exit, with no byte more in use.
const GROWTH_FRACTION: f64 = 0.10;
const GROWTH_BYTES: u64 = 8 << 20;
const ENDS: usize = 3;

/// What one tier's soak found.
struct Soaked {
    label: String,
    tally: Tally,
    samples: Vec<TreeSample>,
    exit: String,
    clean_exit: bool,
}

impl Soaked {
    fn first(&self) -> TreeSample {
        self.samples.first().copied().unwrap_or_default()
    }

    fn last(&self) -> TreeSample {
        self.samples.last().copied().unwrap_or_default()
    }

    /// RSS and PSS both grew past noise from the start to the end (see [`GROWTH_FRACTION`]).
    fn grew(&self) -> bool {
        self.grew_in(|s| s.rss_bytes) && self.grew_in(|s| s.pss_bytes)
    }

    fn grew_in(&self, bytes: fn(&TreeSample) -> u64) -> bool {
        // A short soak has fewer samples: the two ends never overlap.
        let ends = ENDS.min(self.samples.len() / 2).max(1);
        let start = self.samples[..ends].iter().map(bytes).max().unwrap_or(0);
        let end = self.samples[self.samples.len() - ends..]
            .iter()
            .map(bytes)
            .min()
            .unwrap_or(0);
        let noise = ((start as f64 * GROWTH_FRACTION) as u64).max(GROWTH_BYTES);
        end > start + noise
    }

    /// Every answer right, none lost, and a clean stop.
    fn errors(&self) -> u64 {
        let t = &self.tally;
        // No shutdown happens during the load: a `draining` answer is wrong here.
        t.busy + t.draining + t.refused + t.dropped + t.truncated + t.wrong + t.stalled
    }

    fn passed(&self) -> bool {
        self.errors() == 0 && !self.grew() && self.clean_exit && self.tally.ok > 0
    }
}

/// The configurations soaked by default: every tier that serves QR codes, Node and Python tiers in
/// `mode`.
pub fn configurations(tiers: &[Tier], mode: Mode) -> Vec<ServerSpec> {
    let all: Vec<Tier> = Tier::ALL
        .iter()
        .copied()
        .filter(|t| !t.is_ceiling())
        .collect();
    let chosen = if tiers.is_empty() { &all[..] } else { tiers };
    chosen
        .iter()
        .map(|&tier| ServerSpec::new(tier, mode))
        .collect()
}

/// Soaks each of `specs` for `duration`, prints the table; fails if any tier had an error, grew
/// or did not stop cleanly.
pub fn soak(specs: &[ServerSpec], duration: Duration) -> Result<()> {
    let contract = Contract::load()?;
    let mut results = Vec::new();
    for spec in specs {
        let label = spec.label();
        eprintln!(
            "==> soak {label} for {duration:?} ({CLIENTS} clients, {} contract cases, after {WARM_UP:?} of warm-up)",
            contract.cases(spec.stack).len()
        );
        let server = Server::start(spec)?;
        let root = i32::try_from(server.pid()).context("pid out of range")?;
        let load = Load::start(
            server.addr(),
            CLIENTS,
            contract.cases(spec.stack),
            &contract,
        )?;
        std::thread::sleep(WARM_UP);
        let started = Instant::now();
        let mut samples = vec![procs::sample_tree(root)?];
        let warm = load.tally();
        progress(&label, Duration::ZERO, &warm, samples[0]);
        while started.elapsed() < duration {
            let left = duration.saturating_sub(started.elapsed());
            std::thread::sleep(left.min(SAMPLE_EVERY));
            let sample = procs::sample_tree(root)?;
            samples.push(sample);
            progress(&label, started.elapsed(), &load.tally(), sample);
        }
        let tally = load.finish().since(&warm);
        let (exit, clean_exit) = match server.stop() {
            Ok(status) => (status.to_string(), status.code() == Some(0)),
            Err(error) => (format!("{error:#}"), false),
        };
        results.push(Soaked {
            label,
            tally,
            samples,
            exit,
            clean_exit,
        });
    }
    report(&results, duration);
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.label.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("soak failed for {}", failed.join(", "));
    }
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1 << 20) as f64)
}

fn progress(label: &str, elapsed: Duration, tally: &Tally, sample: TreeSample) {
    eprintln!(
        "    {label} {:>4} s: {} answers right, {} not; RSS {} MiB, PSS {} MiB, {} processes",
        elapsed.as_secs(),
        tally.ok,
        tally.busy + tally.refused + tally.lost() + tally.wrong + tally.stalled,
        mib(sample.rss_bytes),
        mib(sample.pss_bytes),
        sample.processes
    );
}

/// The table: per tier, the answers counted after warm-up, memory at the first and last samples
/// (and the most seen), the exit.
fn report(results: &[Soaked], duration: Duration) {
    println!(
        "\nsoak: {duration:?} per tier after {WARM_UP:?} of warm-up, {CLIENTS} keep-alive clients, the contract's cases in turn"
    );
    println!(
        "| configuration | answers right | errors | req/s | RSS MiB first -> last (max) | PSS MiB first -> last (max) | exit | verdict |"
    );
    println!("| --- | ---: | ---: | ---: | --- | --- | --- | --- |");
    for r in results {
        let max_rss = r.samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0);
        let max_pss = r.samples.iter().map(|s| s.pss_bytes).max().unwrap_or(0);
        let verdict = match (r.errors(), r.grew(), r.clean_exit) {
            (0, false, true) => "pass",
            (0, true, _) => "memory grew",
            (_, _, false) => "bad exit",
            _ => "errors",
        };
        println!(
            "| {} | {} | {} | {:.0} | {} -> {} ({}) | {} -> {} ({}) | {} | {} |",
            r.label,
            r.tally.ok,
            r.errors(),
            r.tally.ok as f64 / duration.as_secs_f64(),
            mib(r.first().rss_bytes),
            mib(r.last().rss_bytes),
            mib(max_rss),
            mib(r.first().pss_bytes),
            mib(r.last().pss_bytes),
            mib(max_pss),
            r.exit,
            verdict
        );
    }
    for r in results.iter().filter(|r| r.errors() > 0) {
        println!("\n{}: {}", r.label, r.tally);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A soak whose RSS and PSS were both `mib` at each sample.
    fn soaked(mib: &[u64]) -> Soaked {
        with_rss(mib, mib)
    }

    fn with_rss(rss_mib: &[u64], pss_mib: &[u64]) -> Soaked {
        Soaked {
            label: "t".into(),
            tally: Tally::default(),
            samples: rss_mib
                .iter()
                .zip(pss_mib)
                .map(|(&rss, &pss)| TreeSample {
                    rss_bytes: rss << 20,
                    pss_bytes: pss << 20,
                    ..TreeSample::default()
                })
                .collect(),
            exit: String::new(),
            clean_exit: true,
        }
    }

    #[test]
    fn growth_is_a_rise_from_start_to_end_not_a_moment_s_peak() {
        // A moment's extra process, then back: noise.
        assert!(!soaked(&[80, 98, 81, 90, 85, 99, 82, 97, 83]).grew());
        // Steady or shrinking: no growth.
        assert!(!soaked(&[115, 117, 110, 113, 112, 111]).grew());
        // A leak: every sample higher than the last, 100 -> 130 MiB.
        assert!(soaked(&[100, 103, 106, 109, 112, 115, 118, 121, 124, 127, 130]).grew());
        // Too small to tell from noise: under 8 MiB.
        assert!(!soaked(&[10, 11, 12, 13, 14, 15, 16, 17]).grew());
        // A short soak (`--duration 2m`: three samples) still sees a rise.
        assert!(soaked(&[100, 110, 130]).grew());
        assert!(!soaked(&[100, 130, 101]).grew());
        // PSS up, RSS flat: the pages it shares with a process that exited count more (as seen
        // with tier-1-sidecar while a CI run's Node processes ended): not growth.
        let flat = [117, 119, 118, 118, 120, 118, 118, 119, 118, 119];
        let shared_less = [81, 84, 83, 95, 82, 97, 81, 85, 114, 113];
        assert!(!with_rss(&flat, &shared_less).grew());
    }
}
