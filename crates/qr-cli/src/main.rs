//! rusty-qr tier 1: writes the PNG of the QR code of TEXT (or of all of stdin) to stdout.
//!
//! Run with `qr-cli [--engine E] [--] TEXT`, or `qr-cli [--engine E] -` to read the text from stdin;
//! `qr-cli --help` lists the options and their defaults. Exit status: 0 success, 1 invalid text or
//! generation failure (the core's one-line message on stderr), 2 usage error (clap's message and
//! the usage on stderr).
//!
//! `qr-cli [--engine E] --serve` is the sidecar of tier-1-sidecar: one long-lived process that
//! answers length-prefixed request frames on stdin with response frames on stdout ([`qr_cli::sidecar`];
//! the protocol is in README.md). It exits 0 once stdin closes and every request read is answered,
//! 1 on a malformed frame or a failed read or write (one line on stderr), 2 on a usage error.
//!
//! The arguments are parsed by clap (derive). The Node host spawns this binary once per request, so
//! its start-up is on the hot path: measured against the hand-written parser it replaced and
//! against lexopt, clap adds about 35 µs (3%) to each spawn, about 1% of a tier-1 request, which is
//! within the benchmark's noise. The method and figures are in this crate's README.md.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::thread;

use clap::Parser;
use qr_cli::sidecar::serve;
use qr_core::{Engine, MAX_TEXT_BYTES, Options};

/// The command line. Two positionals because `-` means stdin before `--` and the text `-` after it.
#[derive(Debug, Parser)]
#[command(
    name = "qr-cli",
    version,
    about = "Writes the PNG of the QR code of TEXT (or of all of stdin) to stdout.",
    override_usage = "qr-cli [--engine ENGINE] [--] TEXT\n       qr-cli [--engine ENGINE] -\n       qr-cli [--engine ENGINE] --serve",
    after_help = after_help(),
)]
struct Cli {
    /// The engine that renders the PNG
    #[arg(long, value_name = "ENGINE", default_value_t = Engine::default())]
    engine: Engine,

    /// Serve length-prefixed requests on stdin until it closes (the tier-1-sidecar protocol)
    #[arg(long, conflicts_with_all = ["text", "after_dashes"])]
    serve: bool,

    /// The text to encode, or - to read it from stdin; text that starts with '-' goes after --
    #[arg(
        value_name = "TEXT",
        value_parser = clap::value_parser!(OsString),
        required_unless_present_any = ["after_dashes", "serve"],
        conflicts_with = "after_dashes"
    )]
    text: Option<OsString>,

    /// TEXT given after `--`: always the text itself, even `-` or `--help`.
    #[arg(
        value_name = "TEXT",
        value_parser = clap::value_parser!(OsString),
        last = true,
        hide = true
    )]
    after_dashes: Option<OsString>,
}

/// The end of `--help`: the text rule, the exit statuses and examples.
fn after_help() -> String {
    format!(
        "TEXT must be 1 to {MAX_TEXT_BYTES} bytes of UTF-8.

Exit status:
  0  the PNG was written to stdout
  1  invalid text or generation failure (one line on stderr);
     with --serve: a malformed frame on stdin, or a failed read or write
  2  usage error

--serve answers frames until stdin closes, then exits 0 (the protocol: qr-cli's README.md).

Examples:
  qr-cli 'https://example.com' > example.png
  printf '%s' \"$TEXT\" | qr-cli --engine article - > text.png"
    )
}

/// What to do: one text (from an argument or stdin), or serve frames.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    Arg(OsString),
    Stdin,
    Serve,
}

impl Cli {
    /// The source of the text: `-` is stdin unless it came after `--`.
    fn source(self) -> Source {
        if self.serve {
            return Source::Serve;
        }
        match (self.text, self.after_dashes) {
            (_, Some(text)) => Source::Arg(text),
            (Some(text), None) if text == "-" => Source::Stdin,
            (Some(text), None) => Source::Arg(text),
            // clap requires one of the two.
            (None, None) => Source::Arg(OsString::new()),
        }
    }
}

/// Reads the text, checks it with the contract's rule, renders it and writes the PNG (or serves
/// frames until stdin closes); `Err` is the one-line message for stderr.
fn run(engine: Engine, source: Source) -> Result<(), String> {
    let bytes = match source {
        Source::Arg(arg) => arg.into_encoded_bytes(),
        Source::Stdin => {
            let mut bytes = Vec::new();
            // One byte past the limit is enough to know the text is too long.
            io::stdin()
                .lock()
                .take(MAX_TEXT_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|err| format!("failed to read stdin: {err}"))?;
            bytes
        }
        Source::Serve => {
            end_with_parent();
            let threads = thread::available_parallelism().map_or(1, usize::from);
            return serve(engine, threads, io::stdin(), io::stdout())
                .map_err(|err| err.to_string());
        }
    };
    let text = qr_core::text(&bytes).map_err(|err| err.to_string())?;
    let png =
        qr_core::generate(text, &Options::with_engine(engine)).map_err(|err| err.to_string())?;
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(&png)
        .and_then(|()| stdout.flush())
        .map_err(|err| format!("failed to write the PNG to stdout: {err}"))
}

/// Writes to stderr without panicking if stderr is gone.
fn report(message: &str) {
    let _ = writeln!(io::stderr().lock(), "{message}");
}

/// The sidecar never outlives the process that started it: Node runs it in its own process group
/// (so a terminal's Ctrl-C does not reach it), and stdin's end stops it only between calls, so
/// Linux kills it when its parent exits. Had the parent exited already, stdin is closed.
#[cfg(target_os = "linux")]
fn end_with_parent() {
    use rustix::process::{Signal, set_parent_process_death_signal};
    if let Err(err) = set_parent_process_death_signal(Some(Signal::KILL)) {
        eprintln!("qr-cli: cannot ask to end with the parent process: {err}");
    }
}

#[cfg(not(target_os = "linux"))]
fn end_with_parent() {}

fn main() -> ExitCode {
    let cli: Cli = match qr_contract::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run(cli.engine, cli.source()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            report(&message);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(Engine, Source), clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("qr-cli").chain(args.iter().copied()))?;
        Ok((cli.engine, cli.source()))
    }

    fn text(arg: &str) -> (Engine, Source) {
        (Engine::default(), Source::Arg(arg.into()))
    }

    #[test]
    fn command_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn text_and_stdin() {
        assert_eq!(parse(&["hi"]).unwrap(), text("hi"));
        assert_eq!(parse(&["--", "hi"]).unwrap(), text("hi"));
        assert_eq!(parse(&["--", "--help"]).unwrap(), text("--help"));
        assert_eq!(parse(&["--", "-"]).unwrap(), text("-"));
        assert_eq!(parse(&["--", "--"]).unwrap(), text("--"));
        assert_eq!(parse(&[""]).unwrap(), text(""));
        assert_eq!(parse(&["-"]).unwrap(), (Engine::default(), Source::Stdin));
    }

    #[test]
    fn serve_flag() {
        assert_eq!(
            parse(&["--serve"]).unwrap(),
            (Engine::default(), Source::Serve)
        );
        assert_eq!(
            parse(&["--engine", "fast", "--serve"]).unwrap(),
            (Engine::Fast, Source::Serve)
        );
        for args in [
            &["--serve", "x"][..],
            &["--serve", "-"],
            &["--serve", "--", "x"],
        ] {
            assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn engine_flag() {
        for &engine in Engine::ALL {
            let expected = (engine, Source::Stdin);
            assert_eq!(parse(&["--engine", engine.name(), "-"]).unwrap(), expected);
            assert_eq!(
                parse(&[&format!("--engine={engine}"), "-"]).unwrap(),
                expected
            );
        }
        let unknown = parse(&["--engine", "nope", "x"]).unwrap_err().to_string();
        assert!(
            unknown.contains(&"nope".parse::<Engine>().unwrap_err().to_string()),
            "{unknown}"
        );
        assert!(parse(&["--engine"]).is_err());
    }

    #[test]
    fn usage_errors() {
        for args in [
            &[][..],
            &["--"],
            &["--bogus"],
            &["-x"],
            &["a", "b"],
            &["-", "a"],
            &["a", "--", "b"],
            &["--", "a", "b"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
        for args in [&["-h"][..], &["--help"], &["-V"], &["--version"]] {
            assert_eq!(parse(args).unwrap_err().exit_code(), 0, "{args:?}");
        }
    }
}
