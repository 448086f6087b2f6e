//! rusty-qr tier 1: writes the PNG of the QR code of TEXT (or of all of stdin) to stdout.
//!
//! Run with `qr-cli [--engine E] [--] TEXT`, or `qr-cli [--engine E] -` to read the text from stdin.
//! Exit status: 0 success, 1 invalid text or generation failure, 2 usage error.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::str::FromStr;

use qr_core::{Engine, MAX_TEXT_BYTES, Options};

const USAGE: &str = "usage: qr-cli [--engine ENGINE] [--] TEXT | qr-cli [--engine ENGINE] -";

/// Where the text comes from.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    Arg(OsString),
    Stdin,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Run { engine: Engine, source: Source },
}

/// Parses the arguments after the program name; `Err` is a usage error.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut engine = Engine::default();
    let mut source = None;
    let mut options_done = false;
    while let Some(arg) = args.next() {
        if source.is_some() {
            return Err("too many arguments".to_owned());
        }
        if !options_done {
            match arg.to_str() {
                Some("--") => {
                    options_done = true;
                    continue;
                }
                Some("-") => {
                    source = Some(Source::Stdin);
                    continue;
                }
                Some("-h" | "--help") => return Ok(Command::Help),
                Some("--engine") => {
                    let value = args.next().ok_or("--engine needs a value")?;
                    engine = parse_engine(&value.to_string_lossy())?;
                    continue;
                }
                _ => {}
            }
            if let Some(name) = arg.to_str().and_then(|a| a.strip_prefix("--engine=")) {
                engine = parse_engine(name)?;
                continue;
            }
            let lossy = arg.to_string_lossy();
            if lossy.starts_with('-') {
                return Err(format!(
                    "unknown option {lossy:?} (put text that starts with '-' after --)"
                ));
            }
        }
        source = Some(Source::Arg(arg));
    }
    match source {
        Some(source) => Ok(Command::Run { engine, source }),
        None => Err("missing TEXT".to_owned()),
    }
}

fn parse_engine(name: &str) -> Result<Engine, String> {
    Engine::from_str(name).map_err(|err| err.to_string())
}

/// Reads the text, checks it with the contract's rule, renders it and writes the PNG; `Err` is the
/// one-line message for stderr.
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
    };
    let text = qr_core::text(&bytes).map_err(|err| err.to_string())?;
    let png = qr_core::png(text, &Options::with_engine(engine)).map_err(|err| err.to_string())?;
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

fn main() -> ExitCode {
    match parse_args(std::env::args_os().skip(1)) {
        Err(message) => {
            report(&format!("qr-cli: {message}\n{USAGE}"));
            ExitCode::from(2)
        }
        Ok(Command::Help) => {
            let _ = writeln!(io::stdout().lock(), "{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Run { engine, source }) => match run(engine, source) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                report(&message);
                ExitCode::from(1)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(OsString::from))
    }

    fn text(arg: &str) -> Result<Command, String> {
        Ok(Command::Run {
            engine: Engine::default(),
            source: Source::Arg(arg.into()),
        })
    }

    #[test]
    fn text_and_stdin() {
        assert_eq!(parse(&["hi"]), text("hi"));
        assert_eq!(parse(&["--", "hi"]), text("hi"));
        assert_eq!(parse(&["--", "--help"]), text("--help"));
        assert_eq!(parse(&["--", "-"]), text("-"));
        assert_eq!(parse(&["--", "--"]), text("--"));
        assert_eq!(parse(&[""]), text(""));
        assert_eq!(
            parse(&["-"]),
            Ok(Command::Run {
                engine: Engine::default(),
                source: Source::Stdin
            })
        );
    }

    #[test]
    fn engine_flag() {
        for &engine in Engine::ALL {
            let expected = Ok(Command::Run {
                engine,
                source: Source::Stdin,
            });
            assert_eq!(parse(&["--engine", engine.name(), "-"]), expected);
            assert_eq!(parse(&[&format!("--engine={engine}"), "-"]), expected);
        }
        assert!(
            parse(&["--engine", "nope", "x"])
                .unwrap_err()
                .contains("nope")
        );
        assert!(parse(&["--engine"]).is_err());
    }

    #[test]
    fn usage_errors() {
        assert_eq!(parse(&["-h"]), Ok(Command::Help));
        for args in [
            &[][..],
            &["--"],
            &["--bogus"],
            &["-x"],
            &["a", "b"],
            &["-", "a"],
            &["--", "a", "b"],
            &["a", "--engine", "article"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
