//! rusty-qr tier 4 server: prints `listening on http://ADDR` when ready, stops on SIGINT/SIGTERM.
//!
//! Run with `qr-server [--addr 127.0.0.1:42069] [--engine E] [--max-connections N] [--header-read-timeout-ms MS]`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use qr_core::Engine;
use qr_server::{ServeConfig, app, serve};

const USAGE: &str = "usage: qr-server [--addr HOST:PORT] [--engine ENGINE] [--max-connections N] \
                     [--header-read-timeout-ms MS]";

#[derive(Debug)]
struct Args {
    addr: SocketAddr,
    engine: Engine,
    config: ServeConfig,
}

/// Parses `--flag VALUE` and `--flag=VALUE` arguments; `Err` is a usage error.
fn parse_args(mut argv: impl Iterator<Item = std::ffi::OsString>) -> anyhow::Result<Args> {
    let mut args = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 42069)),
        engine: Engine::default(),
        config: ServeConfig::default(),
    };
    while let Some(arg) = argv.next() {
        let Some(arg) = arg.to_str() else {
            bail!("unexpected argument {arg:?}");
        };
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg, None),
        };
        let mut value = || -> anyhow::Result<String> {
            match inline_value.clone() {
                Some(value) => Ok(value),
                None => argv
                    .next()
                    .and_then(|value| value.into_string().ok())
                    .with_context(|| format!("{flag} needs a value")),
            }
        };
        match flag {
            "--addr" => args.addr = value()?.parse().context("--addr must be HOST:PORT")?,
            "--engine" => args.engine = Engine::from_str(&value()?)?,
            "--max-connections" => {
                args.config.max_connections = value()?
                    .parse()
                    .context("--max-connections must be a number")?;
                if args.config.max_connections == 0 {
                    bail!("--max-connections must be at least 1");
                }
            }
            "--header-read-timeout-ms" => {
                let ms = value()?
                    .parse()
                    .context("--header-read-timeout-ms must be a number")?;
                args.config.header_read_timeout = Duration::from_millis(ms);
            }
            _ => bail!("unexpected argument {arg:?}"),
        }
    }
    Ok(args)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let shutdown = shutdown_signal()?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    let router = app(args.engine);
    serve(listener, router, args.config, shutdown).await?;
    Ok(())
}

/// Resolves on the first SIGINT or SIGTERM (the handlers are installed before this returns); a
/// second one exits at once with status 1, as the Node host does.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            eprintln!("qr-server: second signal: exiting without waiting");
            std::process::exit(1);
        });
    })
}

/// Resolves on the first Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("qr-server: {err:#}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
        .and_then(|runtime| runtime.block_on(run(args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("qr-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}
