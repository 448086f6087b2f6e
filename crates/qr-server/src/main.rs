//! rusty-qr tier 4 server: prints `listening on http://ADDR` when ready, stops on SIGINT/SIGTERM.
//!
//! Run with `qr-server [--addr 127.0.0.1:42069] [--engine E] [--max-connections N] [--header-read-timeout-ms MS]
//! [--access-log] [--ceiling TEXT]`;
//! `qr-server --help` lists the options with their defaults (the library's constants) and the exit
//! statuses: 0 after a graceful shutdown, 1 when it cannot serve, 2 usage error. Arguments are
//! parsed by clap (derive).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use qr_core::{Engine, Options};
use qr_server::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_SHUTDOWN_GRACE, Ops, ServeConfig,
    app, ceiling_app, serve,
};

/// Where the server listens unless `--addr` says otherwise.
const DEFAULT_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 42069);

/// The most `--max-connections` takes.
const MAX_CONNECTIONS: usize = qr_server::MAX_CONNECTIONS;

/// The longest `--header-read-timeout-ms` (one day).
const MAX_HEADER_READ_TIMEOUT_MS: u64 = qr_server::MAX_HEADER_READ_TIMEOUT.as_millis() as u64;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "qr-server",
    version,
    about = "rusty-qr tier 4: serves GET /qrcode?text=... (a QR code, PNG or SVG) over HTTP/1.1.",
    long_about = None,
    after_help = after_help(),
)]
struct Cli {
    /// Address to listen on (port 0: any free port; the ready line shows the one taken)
    #[arg(long, value_name = "HOST:PORT", default_value_t = DEFAULT_ADDR)]
    addr: SocketAddr,

    /// The engine that renders the images
    #[arg(long, value_name = "ENGINE", default_value_t = Engine::default())]
    engine: Engine,

    /// Connections served at once; one more is answered 503 "server is busy" and closed
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = parse_max_connections
    )]
    max_connections: usize,

    /// Milliseconds a client has to send a request's head (also the keep-alive idle limit)
    #[arg(
        long,
        value_name = "MS",
        default_value_t = millis(DEFAULT_HEADER_READ_TIMEOUT),
        value_parser = parse_header_read_timeout_ms
    )]
    header_read_timeout_ms: u64,

    /// One line per request on stderr: method, target, status, body length, milliseconds
    #[arg(long)]
    access_log: bool,

    /// Benchmark ceiling, never for real use: answer every valid request with TEXT's PNG, made once
    #[arg(long, value_name = "TEXT")]
    ceiling: Option<String>,
}

/// The end of `--help`: what it prints, the exit statuses and an example.
fn after_help() -> String {
    format!(
        "When ready it prints one line to stdout, `listening on http://ADDR`. Besides /qrcode it answers \
/openapi.json (the API's description), /healthz (`ok`; 503 `draining` once shutting down) and \
/metrics (Prometheus). On SIGINT or SIGTERM it stops accepting and gives the connections in \
flight {grace} s to finish; a second signal exits at once with status 1.

Exit status:
  0  stopped gracefully after SIGINT or SIGTERM
  1  cannot serve (e.g. the address is in use), or connections were still open after the grace period
  2  usage error

Example:
  qr-server --addr 0.0.0.0:8080 --engine article &
  curl 'http://127.0.0.1:8080/qrcode?text=hello' -o hello.png
  curl 'http://127.0.0.1:8080/qrcode?text=hello&format=svg&ecLevel=H&dark=0b3d91' -o hello.svg",
        grace = DEFAULT_SHUTDOWN_GRACE.as_secs()
    )
}

/// `duration` in whole milliseconds, saturating (the defaults are a few seconds).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A whole number in `min..=max`, with a message that says which bound was crossed.
fn parse_in_range<T>(value: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr<Err = std::num::ParseIntError> + PartialOrd + std::fmt::Display,
{
    let number: T = value
        .parse()
        .map_err(|err: std::num::ParseIntError| match err.kind() {
            std::num::IntErrorKind::PosOverflow => format!("must be at most {max}"),
            _ => format!("must be a whole number from {min} to {max}"),
        })?;
    if number < min {
        Err(format!("must be at least {min}"))
    } else if number > max {
        Err(format!("must be at most {max}"))
    } else {
        Ok(number)
    }
}

fn parse_max_connections(value: &str) -> Result<usize, String> {
    parse_in_range(value, 1, MAX_CONNECTIONS)
}

fn parse_header_read_timeout_ms(value: &str) -> Result<u64, String> {
    parse_in_range(value, 1, MAX_HEADER_READ_TIMEOUT_MS)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(cli.addr)
        .await
        .with_context(|| format!("cannot listen on {}", cli.addr))?;
    let shutdown = shutdown_signal()?;
    // Everything that can fail comes before the ready line: once printed, the server serves.
    let config = ServeConfig {
        max_connections: connection_bound(cli.max_connections, raise_open_file_limit()),
        header_read_timeout: Duration::from_millis(cli.header_read_timeout_ms),
        ..ServeConfig::default()
    };
    let ops = Ops::new(cli.access_log);
    let router = match &cli.ceiling {
        Some(text) => ceiling_app(
            qr_core::generate(text, &Options::with_engine(cli.engine))
                .with_context(|| format!("--ceiling {text:?}"))?,
            &ops,
        ),
        None => app(cli.engine, &ops),
    };
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    let served = serve(listener, router, &ops, config, shutdown).await?;
    if served.turned_away > 0 {
        eprintln!(
            "qr-server: turned away {} connection(s) past the bound of {}",
            served.turned_away, config.max_connections
        );
    }
    Ok(())
}

/// File descriptors kept for what is not a served connection: the listener, the runtime, and the
/// connections being turned away.
const RESERVED_FDS: u64 = 64 + qr_server::MAX_TURNING_AWAY as u64;

/// Raises the soft limit on open files to the hard limit, as Node does at start (the common soft
/// limit, 1,024, is the default connection bound itself), and returns the new soft limit.
#[cfg(unix)]
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return u64::MAX;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                ..limit
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    #[allow(
        clippy::unnecessary_cast,
        reason = "rlim_t is u64 on Linux, not everywhere"
    )]
    let soft = limit.rlim_cur as u64;
    soft
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> u64 {
    u64::MAX
}

/// `wanted`, lowered (with one line on stderr) so that every connection it allows can get a
/// file descriptor under `open_files`.
fn connection_bound(wanted: usize, open_files: u64) -> usize {
    let fits = usize::try_from(open_files.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
    if wanted <= fits {
        return wanted;
    }
    let bound = fits.max(1);
    eprintln!(
        "qr-server: --max-connections {wanted} needs more open files than the limit ({open_files}) \
         allows: serving at most {bound} connections"
    );
    bound
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
    let cli: Cli = match qr_contract::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("qr-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_bound_fits_the_open_file_limit() {
        assert_eq!(connection_bound(1024, 1_048_576), 1024);
        assert_eq!(connection_bound(1024, 1024), 1024 - RESERVED_FDS as usize);
        assert_eq!(connection_bound(10, 3), 1, "at least one connection");
        assert_eq!(
            connection_bound(1_000_000, u64::MAX),
            1_000_000,
            "RLIM_INFINITY"
        );
        // The limit is raised where it can be, and never lowered.
        let raised = raise_open_file_limit();
        assert_eq!(raise_open_file_limit(), raised);
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("qr-server").chain(args.iter().copied()))
    }

    #[test]
    fn command_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_library_s() {
        let cli = parse(&[]).unwrap();
        let defaults = ServeConfig::default();
        assert_eq!(cli.addr, DEFAULT_ADDR);
        assert_eq!(cli.engine, Engine::default());
        assert_eq!(cli.max_connections, defaults.max_connections);
        assert_eq!(
            Duration::from_millis(cli.header_read_timeout_ms),
            defaults.header_read_timeout
        );
    }

    #[test]
    fn numbers_out_of_range_are_usage_errors() {
        for (args, message) in [
            (&["--max-connections", "0"][..], "must be at least 1"),
            (&["--max-connections=-1"], "must be a whole number"),
            (&["--max-connections", "1e3"], "must be a whole number"),
            (
                &["--max-connections", "99999999999999999999999"],
                "must be at most",
            ),
            (&["--header-read-timeout-ms", "0"], "must be at least 1"),
            (
                &["--header-read-timeout-ms", "18446744073709551615"],
                "must be at most 86400000",
            ),
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(message), "{args:?}: {err}");
        }
        let max = MAX_CONNECTIONS.to_string();
        assert_eq!(
            parse(&["--max-connections", &max]).unwrap().max_connections,
            MAX_CONNECTIONS
        );
        let past = (MAX_CONNECTIONS as u128 + 1).to_string();
        assert!(parse(&["--max-connections", &past]).is_err());
    }
}
