//! Running things, and nothing that prints results: the HTTP benchmark (for each
//! configuration start the server through `qr_harness::Server`, warm up, measure with oha
//! while the monitor watches the process tree, stop the server) and `--calls`. Produces the
//! model's values; writes only oha's raw output.

mod call_timers;
mod machine;
mod oha;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use qr_harness::Server;

pub use self::call_timers::run_calls;

/// Rounds over the workload's requests when an HTTP run times the core per call (capped at a few
/// seconds).
const CORE_ROUNDS: u32 = 200;
use self::oha::{LoadResult, LoadSpec};
use crate::cli::Args;
use crate::model::{
    Config, Configuration, FixedRate, Measured, Results, Row, RunSample, configurations, utc_stamp,
};
use qr_harness::procs::{self, Monitor, own_children_cpu_ticks, ticks_to_secs};

static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Makes SIGINT and SIGTERM set a flag the run polls, so the running oha and server are
/// stopped (the server's process group is killed on drop) instead of left behind; a second
/// signal exits at once. For the binary; tests do not call it.
pub fn install_interrupt_handler() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = INTERRUPTED.get_or_init(Arc::default).clone();
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone())?;
        signal_hook::flag::register(signal, flag.clone())?;
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM arrived (after [`install_interrupt_handler`]).
fn interrupted() -> bool {
    INTERRUPTED.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Reads the target texts: one a line, blank lines skipped.
pub fn read_targets(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let targets: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(!targets.is_empty(), "{} has no targets", path.display());
    Ok(targets)
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
        if interrupted() {
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

/// What a run needs besides its configuration.
struct Ctx<'a> {
    args: &'a Args,
    oha: PathBuf,
    /// The workload's queries, one per URL oha cycles through.
    queries: Vec<String>,
    raw_dir: PathBuf,
}

/// One repeat: a fresh server, warm-up, measured load (and a fixed-rate load with --latency).
fn run_once(
    ctx: &Ctx,
    configuration: &Configuration,
    rep: u32,
    progress: &mut Progress,
) -> Result<RunSample> {
    let args = ctx.args;
    let label = configuration.to_string();
    let slug = format!("{}-r{rep}", configuration.slug());
    // Everything this process reaps from here to the server's exit: the server tree's whole
    // life (a cross-check of the window's CPU) plus the oha runs, whose ticks are known.
    let life_start = own_children_cpu_ticks()?;
    let mut oha_ticks = 0;
    let server = Server::start(configuration).with_context(|| format!("starting {label}"))?;
    let urls = ctx.raw_dir.join(format!("{slug}.urls.txt"));
    std::fs::write(
        &urls,
        oha::target_urls(server.addr(), &ctx.queries).join("\n") + "\n",
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
            memory_pss_anon_mb: tree.pss_anon_at_max_bytes as f64 / MB,
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

/// Runs the whole HTTP benchmark over `targets` with `args`' workload, oha's raw output going
/// to `out/raw/`.
pub fn run_http(args: &Args, targets: Vec<String>, out: &Path) -> Result<Results> {
    let oha = qr_harness::tools::oha()?;
    let workers = args.workers.unwrap_or_else(qr_harness::cpus);
    let tiers = args.tiers();
    let engines = args.engines();
    let planned = configurations(&tiers, &args.stacks, &args.modes, &engines, workers);
    let raw_dir = out.join("raw");
    std::fs::create_dir_all(&raw_dir).with_context(|| format!("creating {}", raw_dir.display()))?;

    let per_run = args.warmup()
        + args.duration()
        + if args.latency {
            args.duration()
        } else {
            Duration::ZERO
        };
    let total = per_run * (planned.len() as u32 * args.repeat);
    let mut progress = Progress::new(total, args.no_progress);
    progress.log(&format!(
        "qr-bench: {} configurations x {} repeat(s), {} workload, about {:.0} s of load; out: {}",
        planned.len(),
        args.repeat,
        args.workload,
        total.as_secs_f64(),
        out.display()
    ));
    let config = Config {
        tiers: tiers.iter().map(ToString::to_string).collect(),
        stacks: args.stacks.iter().map(ToString::to_string).collect(),
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
        workload: args.workload,
        option_sets: args.workload.option_set_labels(),
        started_utc: utc_stamp(SystemTime::now()),
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        monitor_interval_ms: procs::SAMPLE_INTERVAL.as_millis() as u64,
        load_generator: format!("oha {} (closed loop unless --rate)", oha::OHA_VERSION),
    };
    let ctx = Ctx {
        args,
        oha: oha.clone(),
        queries: args.workload.queries(&targets),
        raw_dir,
    };
    let mut rows = Vec::new();
    for (i, &configuration) in planned.iter().enumerate() {
        progress.current = format!("[{}/{}] {configuration}", i + 1, planned.len());
        let mut runs = Vec::new();
        let mut error = None;
        for rep in 0..args.repeat {
            match run_once(&ctx, &configuration, rep, &mut progress) {
                Ok(sample) => runs.push(sample),
                Err(e) if interrupted() => {
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
            Some(e) => Row::failed(configuration, e),
            None => Row::aggregate(configuration, &runs),
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
        progress.log(&format!("{}: {summary}", progress.current));
        progress.last = format!(" (last {:.0} req/s)", row.m.requests_per_sec);
        rows.push(row);
    }
    progress.bar.finish_and_clear();
    progress.log("timing the core per call, in-process, for the ceiling table");
    let core = call_timers::core_calls(&engines, &[args.workload], &targets, CORE_ROUNDS);
    Ok(Results {
        machine: machine::detect(Some(&oha)),
        config,
        rows,
        core,
    })
}
