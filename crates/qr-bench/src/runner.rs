//! The HTTP benchmark: for each configuration start the server through the launcher, warm
//! up, measure with oha while the monitor watches the process tree, stop the server.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use qr_core::Engine;
use qr_harness::{Mode, Server, ServerSpec, Tier};
use serde::Serialize;

use crate::cli::Args;
use crate::machine::{Machine, cpu_count};
use crate::monitor::{Monitor, own_children_cpu_ticks, ticks_to_secs};
use crate::oha::{self, LoadResult, LoadSpec};
use crate::report::{FixedRate, Measured, Row, RowKey, RunSample, aggregate, failed_row};

/// One server configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub tier: Tier,
    pub mode: Mode,
    pub engine: Option<Engine>,
    pub workers: Option<usize>,
}

impl Job {
    pub fn spec(&self) -> ServerSpec {
        ServerSpec {
            tier: self.tier,
            mode: self.mode,
            workers: self.workers,
            port: 0,
            engine: self.engine,
        }
    }

    pub fn key(&self) -> RowKey {
        RowKey {
            tier: self.tier.to_string(),
            mode: self.mode.to_string(),
            engine: self
                .engine
                .map_or_else(|| "js".to_owned(), |e| e.to_string()),
            workers: self.workers,
        }
    }

    pub fn label(&self) -> String {
        let k = self.key();
        format!("{} {} {}", k.tier, k.mode, k.engine)
    }
}

/// Expands tiers x modes x engines. Tier-0 runs once per mode with no engine ("js"); tier-4
/// is one multi-threaded process, so it runs once per engine (reported as mode "single").
pub fn jobs(tiers: &[Tier], modes: &[Mode], engines: &[Engine], workers: usize) -> Vec<Job> {
    let mut out: Vec<Job> = Vec::new();
    for &tier in tiers {
        let tier_modes: Vec<Mode> = if tier.is_node() {
            modes.to_vec()
        } else {
            vec![Mode::Single]
        };
        let tier_engines: Vec<Option<Engine>> = if tier == Tier::Tier0 {
            vec![None]
        } else {
            engines.iter().copied().map(Some).collect()
        };
        for &mode in &tier_modes {
            for &engine in &tier_engines {
                let job = Job {
                    tier,
                    mode,
                    engine,
                    workers: (tier.is_node() && mode == Mode::Cluster).then_some(workers),
                };
                if !out.contains(&job) {
                    out.push(job);
                }
            }
        }
    }
    out
}

/// The run's settings, as written to results.json.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub tiers: Vec<String>,
    pub modes: Vec<String>,
    pub engines: Vec<String>,
    pub workers: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub connections: usize,
    pub repeat: u32,
    pub quick: bool,
    /// Open-loop rate of the measured runs (`--rate`).
    pub rate: Option<f64>,
    /// Share of the peak for the extra fixed-rate runs (`--latency`).
    pub latency_share: Option<f64>,
    pub targets: Vec<String>,
    pub started_utc: String,
    /// How qr-bench was invoked.
    pub command_line: String,
    pub monitor_interval_ms: u64,
    pub load_generator: String,
}

/// Everything a run produces.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub config: Config,
    pub rows: Vec<Row>,
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time (UTC, proleptic Gregorian).
pub fn utc_stamp(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn now_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_stamp(secs)
}

/// A duration in the bar's unit, tenths of a second.
fn bar_ticks(d: Duration) -> u64 {
    (d.as_secs_f64() * 10.0).round() as u64
}

/// The progress bar over the whole run, in tenths of a second of planned load.
struct Progress {
    bar: ProgressBar,
    done_ticks: u64,
    /// "[i/n] tier mode engine" of the configuration running now.
    current: String,
    /// The last finished configuration's throughput.
    last: String,
}

impl Progress {
    fn new(total: Duration, hidden: bool) -> Progress {
        let bar = ProgressBar::new(bar_ticks(total));
        if hidden {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:20.cyan/blue} {percent:>3}% eta {eta:>3} {wide_msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Progress {
            bar,
            done_ticks: 0,
            current: String::new(),
            last: String::new(),
        }
    }

    fn log(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

/// Runs one oha load while updating the bar; returns the parsed report and oha's CPU ticks.
fn run_oha(
    oha: &Path,
    urls: &Path,
    load: &LoadSpec,
    raw: &Path,
    progress: &mut Progress,
    phase: &str,
    monitor: Option<&Monitor>,
) -> Result<(LoadResult, u64)> {
    let stderr_path = raw.with_extension("stderr");
    let mut cmd = oha::command(oha, urls, load);
    cmd.arg("-o")
        .arg(raw)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&stderr_path)?);
    let cpu_before = own_children_cpu_ticks()?;
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    let planned = bar_ticks(load.duration);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if crate::interrupted() {
            child.kill().ok();
            child.wait().ok();
            bail!("interrupted");
        }
        std::thread::sleep(Duration::from_millis(100));
        let elapsed = started.elapsed().as_secs_f64();
        progress
            .bar
            .set_position(progress.done_ticks + ((elapsed * 10.0) as u64).min(planned));
        let live = monitor.map_or(String::new(), |m| {
            format!(", server {:.2} CPUs", m.cpu_seconds_so_far() / elapsed)
        });
        progress
            .bar
            .set_message(format!("{phase}{live}{}", progress.last));
    };
    let cpu = own_children_cpu_ticks()?.saturating_sub(cpu_before);
    progress.done_ticks += planned;
    progress.bar.set_position(progress.done_ticks);
    if !status.success() {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        bail!("oha failed ({status}): {}", err.trim());
    }
    let json =
        std::fs::read_to_string(raw).with_context(|| format!("reading {}", raw.display()))?;
    Ok((oha::parse(&json)?, cpu))
}

/// What a run needs besides its job.
struct Ctx<'a> {
    args: &'a Args,
    oha: PathBuf,
    targets: Vec<String>,
    raw_dir: PathBuf,
}

/// One repeat: a fresh server, warm-up, measured load (and a fixed-rate load with --latency).
fn run_once(ctx: &Ctx, job: &Job, rep: u32, progress: &mut Progress) -> Result<RunSample> {
    let args = ctx.args;
    let label = job.label();
    let slug = format!("{}-r{rep}", label.replace(' ', "-"));
    // Everything this process reaps from here to the server's exit: the server tree's whole
    // life (a cross-check of the window's CPU) plus the oha runs, whose ticks are known.
    let life_start = own_children_cpu_ticks()?;
    let mut oha_ticks = 0;
    let server = Server::start(&job.spec()).with_context(|| format!("starting {label}"))?;
    let urls = ctx.raw_dir.join(format!("{slug}.urls.txt"));
    std::fs::write(
        &urls,
        oha::target_urls(server.addr(), &ctx.targets).join("\n") + "\n",
    )?;
    let closed = |duration| LoadSpec {
        duration,
        connections: args.connections,
        rate: None,
    };
    let phase = |what: &str| format!("{} {what}", progress.current);
    let (warm_up, measuring) = (phase("warm-up"), phase("measuring"));
    if !args.warmup().is_zero() {
        oha_ticks += run_oha(
            &ctx.oha,
            &urls,
            &closed(args.warmup()),
            &ctx.raw_dir.join(format!("{slug}.warmup.json")),
            progress,
            &warm_up,
            None,
        )?
        .1;
    }
    let measured = LoadSpec {
        rate: args.rate,
        ..closed(args.duration())
    };
    let monitor = Monitor::start(server.pid())?;
    let (load, loadgen_ticks) = run_oha(
        &ctx.oha,
        &urls,
        &measured,
        &ctx.raw_dir.join(format!("{slug}.json")),
        progress,
        &measuring,
        Some(&monitor),
    )?;
    let tree = monitor.finish()?;
    let fixed_rate = if let Some(rate) = args.rate {
        Some(fixed(rate, &load))
    } else if args.latency {
        let rate = (load.requests_per_sec * args.latency_share).max(1.0);
        let fixed_phase = format!("{} at {rate:.0} req/s", progress.current);
        let (fr, fixed_ticks) = run_oha(
            &ctx.oha,
            &urls,
            &LoadSpec {
                rate: Some(rate),
                ..closed(args.duration())
            },
            &ctx.raw_dir.join(format!("{slug}.latency.json")),
            progress,
            &fixed_phase,
            None,
        )?;
        oha_ticks += fixed_ticks;
        Some(fixed(rate, &fr))
    } else {
        None
    };
    oha_ticks += loadgen_ticks;
    let exit = server.stop();
    let server_life_ticks = own_children_cpu_ticks()?
        .saturating_sub(life_start)
        .saturating_sub(oha_ticks);
    let server_exit_ok = matches!(&exit, Ok(s) if s.success());
    if !server_exit_ok {
        progress.log(&format!("warning: {label} did not exit cleanly: {exit:?}"));
    }
    const MB: f64 = 1024.0 * 1024.0;
    Ok(RunSample {
        m: Measured {
            requests_per_sec: load.requests_per_sec,
            latency_mean_ms: load.latency_mean_ms,
            latency_p99_ms: load.latency_p99_ms,
            response_bytes_mean: load.response_bytes_mean,
            memory_rss_max_mb: tree.rss_max_bytes as f64 / MB,
            memory_pss_max_mb: tree.pss_max_bytes as f64 / MB,
            cpu_seconds: tree.cpu_seconds,
            loadgen_cpu_seconds: ticks_to_secs(loadgen_ticks),
            server_life_cpu_seconds: if server_exit_ok {
                ticks_to_secs(server_life_ticks)
            } else {
                f64::NAN
            },
            requests_ok: load.requests_ok,
            requests_failed: load.requests_failed,
        },
        processes_max: tree.max_processes,
        server_exit_ok,
        fixed_rate,
    })
}

fn fixed(target: f64, r: &LoadResult) -> FixedRate {
    FixedRate {
        target_rps: target,
        achieved_rps: r.requests_per_sec,
        latency_p50_ms: r.latency_p50_ms,
        latency_p90_ms: r.latency_p90_ms,
        latency_p99_ms: r.latency_p99_ms,
        latency_p99_9_ms: r.latency_p99_9_ms,
        requests_ok: r.requests_ok,
        requests_failed: r.requests_failed,
    }
}

/// Runs the whole HTTP benchmark and writes results.json, report.md and chart.svg to `out`.
pub fn run_http(args: &Args, out: &Path) -> Result<Results> {
    let oha = qr_harness::tools::oha()?;
    let targets_path = args
        .targets
        .clone()
        .unwrap_or_else(|| qr_harness::repo_root().join("bench/targets.txt"));
    let targets = oha::read_targets(&targets_path)?;
    let workers = args.workers.unwrap_or_else(cpu_count);
    let tiers = args.tiers();
    let engines = args.engines();
    let jobs = jobs(&tiers, &args.modes, &engines, workers);
    let raw_dir = out.join("raw");
    std::fs::create_dir_all(&raw_dir).with_context(|| format!("creating {}", raw_dir.display()))?;

    let per_run = args.warmup()
        + args.duration()
        + if args.latency {
            args.duration()
        } else {
            Duration::ZERO
        };
    let total = per_run * (jobs.len() as u32 * args.repeat);
    let mut progress = Progress::new(total, args.no_progress);
    progress.log(&format!(
        "qr-bench: {} configurations x {} repeat(s), about {:.0} s of load; out: {}",
        jobs.len(),
        args.repeat,
        total.as_secs_f64(),
        out.display()
    ));
    let config = Config {
        tiers: tiers.iter().map(ToString::to_string).collect(),
        modes: args.modes.iter().map(ToString::to_string).collect(),
        engines: engines.iter().map(ToString::to_string).collect(),
        workers,
        duration_s: args.duration().as_secs_f64(),
        warmup_s: args.warmup().as_secs_f64(),
        connections: args.connections,
        repeat: args.repeat,
        quick: args.quick,
        rate: args.rate,
        latency_share: args.latency.then_some(args.latency_share),
        targets: targets.clone(),
        started_utc: now_stamp(),
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        monitor_interval_ms: crate::monitor::SAMPLE_INTERVAL.as_millis() as u64,
        load_generator: format!("oha {} (closed loop unless --rate)", oha::OHA_VERSION),
    };
    let ctx = Ctx {
        args,
        oha: oha.clone(),
        targets,
        raw_dir,
    };
    let mut rows = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        progress.current = format!("[{}/{}] {}", i + 1, jobs.len(), job.label());
        let mut runs = Vec::new();
        let mut error = None;
        for rep in 0..args.repeat {
            match run_once(&ctx, job, rep, &mut progress) {
                Ok(sample) => runs.push(sample),
                Err(e) if crate::interrupted() => {
                    progress.bar.abandon();
                    return Err(e.context("stopped by a signal; nothing written"));
                }
                Err(e) => {
                    error = Some(format!("{e:#}"));
                    break;
                }
            }
        }
        // Keep the bar honest when a configuration failed before all its phases ran.
        progress.done_ticks = bar_ticks(per_run * ((i as u32 + 1) * args.repeat));
        progress.bar.set_position(progress.done_ticks);
        let row = match error {
            Some(e) => failed_row(&job.key(), e),
            None => aggregate(&job.key(), &runs),
        };
        let summary = match &row.error {
            Some(e) => format!("ERROR {e}"),
            None => format!(
                "{:.0} req/s, p99 {:.1} ms, PSS {:.1} MB, CPU {:.2} s{}",
                row.m.requests_per_sec,
                row.m.latency_p99_ms,
                row.m.memory_pss_max_mb,
                row.m.cpu_seconds,
                if row.valid { "" } else { " INVALID" }
            ),
        };
        progress.log(&format!(
            "[{}/{}] {}: {summary}",
            i + 1,
            jobs.len(),
            job.label()
        ));
        progress.last = format!(" (last {:.0} req/s)", row.m.requests_per_sec);
        rows.push(row);
    }
    progress.bar.finish_and_clear();
    let results = Results {
        machine: Machine::detect(Some(&oha)),
        config,
        rows,
    };
    crate::write_outputs(&results, out)?;
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_expand_like_the_article() {
        let js = jobs(Tier::ALL, &[Mode::Cluster], &[Engine::Article], 2);
        let labels: Vec<String> = js.iter().map(Job::label).collect();
        assert_eq!(
            labels,
            [
                "tier-0 cluster js",
                "tier-1 cluster article",
                "tier-2 cluster article",
                "tier-2-bindgen cluster article",
                "tier-3 cluster article",
                "tier-4 single article",
            ]
        );
        assert_eq!(js[0].workers, Some(2));
        assert_eq!(js[5].workers, None);
        assert_eq!(js[0].spec().engine, None);
        // Tier-4 runs once whatever the modes.
        let both = jobs(
            &[Tier::Tier4],
            &[Mode::Single, Mode::Cluster],
            &[Engine::Article],
            2,
        );
        assert_eq!(both.len(), 1);
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_stamp(1_795_635_187), "20261125T193307Z");
    }
}
