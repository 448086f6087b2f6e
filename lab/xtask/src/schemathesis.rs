//! `cargo xtask test`'s Schemathesis step: every tier held to the OpenAPI description it serves
//! (`GET /openapi.json`, `contract/openapi.json` byte for byte). Schemathesis (pinned in
//! `requirements.lock`, run from the project's venv) reads that document, generates requests from
//! its parameters' schemas, valid and invalid, and checks each answer against it.

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qr_contract::Engine;
use qr_harness::{Mode, ProcessGroup, Server, ServerSpec, Tier, paths};
use rustix::process::Signal;

use crate::cmd::show;

/// What every answer is checked for: no 5xx, and the status codes, content types and headers the
/// document gives for the operation.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance";

/// Generated requests per operation and phase: Schemathesis's boundary values (`size=20`,
/// `size=1001`, `margin=21`, an empty `text`, ...) come on top, from its coverage phase.
const MAX_EXAMPLES: &str = "8";

/// A bound on any one request, in seconds (the slowest image allowed takes milliseconds).
const REQUEST_TIMEOUT: &str = "10";

/// The seed of every run: the same requests each time, so that a failure is seen again by
/// running the printed command.
const SEED: &str = "21";

/// The tiers held to the document: every tier but the ceilings (one fixed PNG for every request,
/// so not this API) on every stack of its host, each in single mode with the fast engine: a mode
/// or an engine changes how an image is made, not what the HTTP layer answers, which the
/// conformance suite checks for all.
fn tiers() -> impl Iterator<Item = ServerSpec> {
    (Tier::ALL.iter())
        .filter(|tier| !tier.is_ceiling())
        .flat_map(|&tier| {
            let spec = ServerSpec {
                engine: tier.uses_rust_core().then_some(Engine::Fast),
                ..ServerSpec::new(tier, Mode::Single)
            };
            tier.host()
                .stacks()
                .iter()
                .map(move |&stack| spec.on(stack))
        })
}

/// How long one tier's run may take, its server's start and stop aside: far more than it needs
/// (seconds), so that only a stuck run or a server that stops answering hits it.
const TIER_BUDGET: Duration = Duration::from_secs(90);

/// Runs Schemathesis against every tier of [`tiers`] in turn, each started as the conformance
/// suite starts it and stopped after, within [`TIER_BUDGET`]; fails naming every tier that
/// failed, with Schemathesis's report. Each report is kept in `<target dir>/schemathesis/`, where
/// Schemathesis runs. The builds and the venv must be there.
pub fn every_tier() -> Result<()> {
    let venv = qr_harness::python::venv()?;
    let reports = paths::target_dir().join("schemathesis");
    std::fs::create_dir_all(&reports)
        .with_context(|| format!("cannot create {}", reports.display()))?;
    let mut failed = Vec::new();
    for spec in tiers() {
        let started = Instant::now();
        let report = reports.join(format!("{}.log", spec.tier));
        let server = Server::start(&spec).with_context(|| format!("starting {}", spec.label()))?;
        let mut command = venv.module("schemathesis.cli");
        command
            .args(arguments(&format!("http://{}/openapi.json", server.addr())))
            // Its cache of failures to replay (`.schemathesis/`) lands beside the reports.
            .current_dir(&reports);
        let ran = run_within(&mut command, &report, TIER_BUDGET);
        let stopped = server.stop();
        let output = std::fs::read_to_string(&report).unwrap_or_default();
        let summary = match (ran, stopped) {
            (Ok(()), Ok(status)) if status.success() => summary_line(&output),
            (ran, stopped) => {
                eprintln!("    $ {}\n{output}", show(&command));
                if let Err(error) = ran {
                    eprintln!("    {error:#}");
                }
                match stopped {
                    Ok(status) if status.success() => {}
                    Ok(status) => eprintln!("    the server's graceful stop: exit status {status}"),
                    Err(error) => eprintln!("    the server's graceful stop: {error:#}"),
                }
                failed.push(spec.label());
                "failed".to_owned()
            }
        };
        eprintln!(
            "    {}: {summary} ({:.1} s)",
            spec.label(),
            started.elapsed().as_secs_f64()
        );
    }
    if !failed.is_empty() {
        bail!("Schemathesis failed for {}", failed.join(", "));
    }
    Ok(())
}

/// Runs `command` with its output in `log`; an error unless it exits 0 within `budget` (past it,
/// it is killed).
fn run_within(command: &mut Command, log: &Path, budget: Duration) -> Result<()> {
    let file = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    command.stdout(file.try_clone()?).stderr(file);
    let mut run = ProcessGroup::spawn(command, "schemathesis", Signal::KILL)
        .with_context(|| format!("could not run `{}`", show(command)))?;
    let exited = run.exited_within(budget)?;
    let status = run.kill_and_reap()?;
    match exited {
        None => bail!("Schemathesis did not finish within {} s", budget.as_secs()),
        Some(_) if !status.success() => bail!("Schemathesis exited with {status}"),
        Some(_) => Ok(()),
    }
}

/// `schemathesis run`'s arguments for the document at `url`: [`CHECKS`], bounded by
/// [`MAX_EXAMPLES`] and [`REQUEST_TIMEOUT`], the same requests every run ([`SEED`]), and nothing
/// written in the working tree (no example database).
fn arguments(url: &str) -> Vec<String> {
    [
        "run",
        url,
        "--checks",
        CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        "--request-timeout",
        REQUEST_TIMEOUT,
        "--seed",
        SEED,
        "--generation-database",
        "none",
        "--no-color",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Schemathesis's count of test cases (`285 generated, 285 passed`), or its last line.
fn summary_line(stdout: &str) -> String {
    let lines = stdout
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let mut last = "";
    for line in lines {
        if line.contains(" generated, ") {
            return line.to_owned();
        }
        last = line;
    }
    last.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qr_harness::Stack;

    #[test]
    fn every_tier_but_the_ceilings_once_on_each_stack() {
        let specs: Vec<ServerSpec> = tiers().collect();
        let stacks = |tier: &Tier| tier.host().stacks().len();
        assert_eq!(
            specs.len(),
            (Tier::ALL.iter().filter(|tier| !tier.is_ceiling()))
                .map(stacks)
                .sum::<usize>()
        );
        for spec in &specs {
            assert!(!spec.tier.is_ceiling() && spec.mode == Mode::Single);
            assert_eq!(
                spec.engine.is_some(),
                spec.tier.uses_rust_core(),
                "{}",
                spec.label()
            );
        }
        assert!(specs.iter().any(|spec| spec.tier == Tier::PyTier3));
        let granian = ServerSpec {
            engine: Some(Engine::Fast),
            ..ServerSpec::new(Tier::PyTier3, Mode::Single).on(Stack::Granian)
        };
        assert!(specs.contains(&granian));
        assert!(specs.iter().any(|spec| spec.tier == Tier::Tier4Nginx));
    }

    #[test]
    fn the_run_is_bounded_and_checks_what_the_issue_asks() {
        let arguments = arguments("http://127.0.0.1:1/openapi.json");
        let after = |flag: &str| {
            let at = arguments.iter().position(|a| a == flag).unwrap();
            arguments[at + 1].clone()
        };
        for check in [
            "not_a_server_error",
            "status_code_conformance",
            "content_type_conformance",
            "response_headers_conformance",
        ] {
            assert!(after("--checks").split(',').any(|c| c == check), "{check}");
        }
        assert!(after("--max-examples").parse::<u32>().unwrap() <= 10);
        assert!(after("--request-timeout").parse::<u32>().unwrap() <= 10);
        assert_eq!(arguments[..2], ["run", "http://127.0.0.1:1/openapi.json"]);
    }

    #[test]
    fn the_summary_is_the_count_of_cases() {
        let stdout = "Test cases:\n  285 generated, 285 passed\n\nSeed: 21\n\n=== No issues found in 21.89s ===\n";
        assert_eq!(summary_line(stdout), "285 generated, 285 passed");
        assert_eq!(summary_line("a\n\nlast one\n"), "last one");
    }
}
