//! rusty-qr tier 1: writes the image (PNG or SVG) of the QR code of TEXT, or of all of stdin, to
//! stdout.
//!
//! Run with `qr-cli [--engine E] [IMAGE OPTIONS] [--] TEXT`, or `... -` to read the text from
//! stdin; `qr-cli --help` lists the options and their defaults. The image options are the HTTP
//! contract's (`--format`, `--size`, `--margin`, `--ec-level`, `--dark`, `--light`), each value
//! applied with `qr_core::Options::set`, so the same rules and messages. Exit status: 0 success,
//! 1 bad input (the text or an option breaks its rule, or `--size` is too small for the code: the
//! contract's one-line message on stderr), 2 usage error (clap's message and the usage on stderr),
//! 3 generation failure (one line on stderr).
//!
//! `qr-cli [--engine E] --serve` is the sidecar of tier-1-sidecar: one long-lived process that
//! answers length-prefixed request frames on stdin (each with its options record) with response
//! frames on stdout ([`qr_cli::sidecar`]; the protocol is in README.md). It exits 0 once stdin
//! closes and every request read is answered, 1 on a malformed frame, 3 on a failed read or write
//! (one line on stderr), 2 on a usage error.
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
use qr_cli::sidecar::{ServeError, serve};
use qr_core::{
    DEFAULT_MARGIN, EcLevel, Engine, Format, MAX_MARGIN, MAX_SIZE, MAX_TEXT_BYTES, MIN_DEFAULT_PX,
    MIN_SIZE, OptionName, Options, QrError, Rgba,
};

/// Exit status: the input breaks a rule (the contract's message on stderr).
const EXIT_BAD_INPUT: u8 = 1;
/// Exit status: generation, or reading or writing, failed.
const EXIT_FAILED: u8 = 3;

/// The command line. Two positionals because `-` means stdin before `--` and the text `-` after it.
#[derive(Debug, Parser)]
#[command(
    name = "qr-cli",
    version,
    about = "Writes the PNG (or SVG) of the QR code of TEXT (or of all of stdin) to stdout.",
    override_usage = "qr-cli [--engine ENGINE] [IMAGE OPTIONS] [--] TEXT\n       qr-cli [--engine ENGINE] [IMAGE OPTIONS] -\n       qr-cli [--engine ENGINE] --serve",
    after_help = after_help(),
)]
struct Cli {
    /// The engine that renders the image
    #[arg(long, value_name = "ENGINE", default_value_t = Engine::default())]
    engine: Engine,

    /// Serve length-prefixed requests on stdin until it closes (the tier-1-sidecar protocol; each
    /// request carries its own image options)
    #[arg(long, conflicts_with_all = ["text", "after_dashes", IMAGE_OPTIONS])]
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

    /// Last, so that only these flags are under their heading in `--help`.
    #[command(flatten)]
    image: ImageFlags,
}

/// The clap group of the image flags.
const IMAGE_OPTIONS: &str = "image_options";

/// The contract's image options as flags (`docs/api.md`, "Options"). Clap only collects the raw
/// values; [`ImageFlags::options`] applies each with `Options::set`, so a value that breaks its
/// rule is the contract's message and exit 1, as over HTTP.
#[derive(Debug, Default, clap::Args)]
#[group(id = IMAGE_OPTIONS, multiple = true)]
#[command(next_help_heading = "Image options")]
struct ImageFlags {
    #[arg(long, value_name = "FORMAT", help = flag_help(OptionName::Format))]
    format: Option<OsString>,
    #[arg(long, value_name = "PIXELS", help = flag_help(OptionName::Size))]
    size: Option<OsString>,
    #[arg(long, value_name = "MODULES", help = flag_help(OptionName::Margin))]
    margin: Option<OsString>,
    #[arg(long, value_name = "LEVEL", help = flag_help(OptionName::EcLevel))]
    ec_level: Option<OsString>,
    #[arg(long, value_name = "HEX", help = flag_help(OptionName::Dark))]
    dark: Option<OsString>,
    #[arg(long, value_name = "HEX", help = flag_help(OptionName::Light))]
    light: Option<OsString>,
}

impl ImageFlags {
    /// The value given for `option`'s flag (every option has one: this match is exhaustive).
    fn value(&self, option: OptionName) -> Option<&OsString> {
        match option {
            OptionName::Format => self.format.as_ref(),
            OptionName::Size => self.size.as_ref(),
            OptionName::Margin => self.margin.as_ref(),
            OptionName::EcLevel => self.ec_level.as_ref(),
            OptionName::Dark => self.dark.as_ref(),
            OptionName::Light => self.light.as_ref(),
        }
    }

    /// The options for `engine` with each flag given applied in the contract's order, so the
    /// first value that breaks its rule is the one reported.
    fn options(&self, engine: Engine) -> Result<Options, QrError> {
        let mut options = Options::with_engine(engine);
        for option in OptionName::ALL {
            if let Some(value) = self.value(option) {
                options.set(option, value.as_encoded_bytes())?;
            }
        }
        Ok(options)
    }
}

/// A flag's `--help` line: what it sets, what it accepts (the contract's bounds) and its default.
fn flag_help(option: OptionName) -> String {
    match option {
        OptionName::Format => format!(
            "The image format: {} or {}, any case [default: {}]",
            Format::Png.name(),
            Format::Svg.name(),
            Format::default().name()
        ),
        OptionName::Size => format!(
            "The image's exact width and height in pixels, {MIN_SIZE} to {MAX_SIZE} [default: the \
             smallest whole number of pixels per module giving at least {MIN_DEFAULT_PX} px]"
        ),
        OptionName::Margin => {
            format!("The quiet zone in modules, 0 to {MAX_MARGIN} [default: {DEFAULT_MARGIN}]")
        }
        OptionName::EcLevel => format!(
            "The error-correction level: L, M, Q or H, any case [default: {}]",
            EcLevel::default().name()
        ),
        OptionName::Dark => format!(
            "The colour of dark modules: RRGGBB or RRGGBBAA hex, with or without a leading # \
             [default: {}]",
            Rgba::BLACK
        ),
        OptionName::Light => format!(
            "The colour of light modules and the quiet zone, as --dark; ffffff00 is transparent \
             [default: {}]",
            Rgba::WHITE
        ),
    }
}

/// The end of `--help`: the text rule, the exit statuses and examples.
fn after_help() -> String {
    format!(
        "TEXT must be 1 to {MAX_TEXT_BYTES} bytes of UTF-8.

Exit status:
  0  the image was written to stdout
  1  bad input: TEXT or an option breaks its rule, or --size is too small for this
     text (the one-line message of the HTTP contract on stderr);
     with --serve: a malformed frame on stdin
  2  usage error
  3  generation failed, or a read or write failed (one line on stderr)

--serve answers frames until stdin closes, then exits 0 (the protocol: qr-cli's README.md).

Examples:
  qr-cli 'https://example.com' > example.png
  qr-cli --format svg --ec-level H --dark 0b3d91 --light ffffff00 'https://example.com' > brand.svg
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
    fn source(&self) -> Source {
        if self.serve {
            return Source::Serve;
        }
        match (&self.text, &self.after_dashes) {
            (_, Some(text)) => Source::Arg(text.clone()),
            (Some(text), None) if text == "-" => Source::Stdin,
            (Some(text), None) => Source::Arg(text.clone()),
            // clap requires one of the two.
            (None, None) => Source::Arg(OsString::new()),
        }
    }
}

/// Why the program stops with an error: the exit status and the one line for stderr.
#[derive(Debug, PartialEq, Eq)]
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn failed(message: String) -> Failure {
        Failure {
            status: EXIT_FAILED,
            message,
        }
    }
}

impl From<QrError> for Failure {
    fn from(err: QrError) -> Failure {
        let status = if err.is_bad_input() {
            EXIT_BAD_INPUT
        } else {
            EXIT_FAILED
        };
        Failure {
            status,
            message: err.to_string(),
        }
    }
}

impl From<ServeError> for Failure {
    fn from(err: ServeError) -> Failure {
        let status = match err {
            ServeError::Frame(_) | ServeError::Truncated { .. } => EXIT_BAD_INPUT,
            ServeError::Read(_) | ServeError::Write(_) => EXIT_FAILED,
        };
        Failure {
            status,
            message: err.to_string(),
        }
    }
}

/// Reads the text, checks it with the contract's rule, then the image options, renders it and
/// writes the image (or serves frames until stdin closes).
fn run(cli: Cli) -> Result<(), Failure> {
    let bytes = match cli.source() {
        Source::Arg(arg) => arg.into_encoded_bytes(),
        Source::Stdin => {
            let mut bytes = Vec::new();
            // One byte past the limit is enough to know the text is too long.
            io::stdin()
                .lock()
                .take(MAX_TEXT_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|err| Failure::failed(format!("failed to read stdin: {err}")))?;
            bytes
        }
        Source::Serve => {
            end_with_parent();
            let threads = thread::available_parallelism().map_or(1, usize::from);
            return Ok(serve(cli.engine, threads, io::stdin(), io::stdout())?);
        }
    };
    let text = qr_core::text(&bytes)?;
    let image = qr_core::generate(text, &cli.image.options(cli.engine)?)?;
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(&image)
        .and_then(|()| stdout.flush())
        .map_err(|err| Failure::failed(format!("failed to write the image to stdout: {err}")))
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { status, message }) => {
            report(&message);
            ExitCode::from(status)
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

    /// `--ec-level` for `ecLevel`: clap's kebab case of the query parameter's name.
    fn flag(option: OptionName) -> String {
        let mut flag = String::from("--");
        for c in option.name().chars() {
            if c.is_ascii_uppercase() {
                flag.push('-');
            }
            flag.push(c.to_ascii_lowercase());
        }
        flag
    }

    fn options(args: &[&str]) -> Result<Options, QrError> {
        let args = std::iter::once("qr-cli").chain(args.iter().copied());
        let cli = Cli::try_parse_from(args.chain(["x"])).expect("parses");
        cli.image.options(cli.engine)
    }

    #[test]
    fn every_option_has_a_flag_applied_by_the_contracts_rule() {
        let values = [
            (OptionName::Format, "SVG"),
            (OptionName::Size, "0300"),
            (OptionName::Margin, "0"),
            (OptionName::EcLevel, "h"),
            (OptionName::Dark, "#0B3D91"),
            (OptionName::Light, "ffffff00"),
        ];
        let mut expected = Options::with_engine(Engine::Article);
        let mut args = vec!["--engine", "article"];
        let flags: Vec<String> = values.iter().map(|&(option, _)| flag(option)).collect();
        for (&(option, value), flag) in values.iter().zip(&flags) {
            let mut one = Options::default();
            one.set(option, value.as_bytes()).unwrap();
            assert_eq!(options(&[flag, value]), Ok(one), "{flag}");
            assert_eq!(options(&[&format!("{flag}={value}")]), Ok(one), "{flag}=");
            expected.set(option, value.as_bytes()).unwrap();
            args.extend([flag.as_str(), value]);
        }
        assert_eq!(options(&args), Ok(expected));
        assert_eq!(
            options(&[]),
            Ok(Options::default()),
            "no flags, the defaults"
        );
    }

    #[test]
    fn a_value_that_breaks_its_rule_is_the_contracts_error_in_the_contracts_order() {
        for option in OptionName::ALL {
            assert_eq!(
                options(&[&flag(option), ""]),
                Err(QrError::BadOption(option)),
                "an empty value breaks every rule"
            );
        }
        assert_eq!(
            options(&["--light", "nope", "--size", "20", "--format", "gif"]),
            Err(QrError::BadOption(OptionName::Format))
        );
        assert_eq!(
            options(&["--light", "nope", "--size", "20"]),
            Err(QrError::BadOption(OptionName::Size))
        );
        let failure = Failure::from(QrError::BadOption(OptionName::Size));
        assert_eq!(failure.status, EXIT_BAD_INPUT);
        assert_eq!(failure.message, OptionName::Size.rule());
        let failure = Failure::from(QrError::SizeTooSmall { min: 29 });
        assert_eq!(failure.status, EXIT_BAD_INPUT);
        let failure = Failure::from(QrError::Generation("boom".into()));
        assert_eq!(failure.status, EXIT_FAILED);
        assert_eq!(failure.message, "failed to generate qr code");
    }

    #[test]
    fn image_flags_are_usage_errors_with_serve_or_given_twice() {
        for option in OptionName::ALL {
            let flag = flag(option);
            let err = parse(&["--serve", &flag, "1"]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{flag} with --serve");
            let err = parse(&[&flag, "1", &flag, "2", "x"]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{flag} twice");
            assert_eq!(parse(&[&flag]).unwrap_err().exit_code(), 2, "{flag} alone");
        }
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
