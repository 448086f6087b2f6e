//! The words of rusty-qr's contract that every tier shares: the engine names, the text rule, the
//! image options and their rules (`options.rs`), and the messages they fail with. No dependencies, so tools (xtask, the launcher) know them without building
//! an encoder; `qr-core` re-exports all of it, and every Rust caller reaches it as `qr_core::...`.
//! The `clap` feature makes `Engine` a clap argument for the binaries (`--engine`).
//!
//! Run its tests with `cargo test -p qr-contract`. The HTTP cases are data: `contract/cases.json`.

mod options;
pub mod record;

use std::fmt;
use std::str::FromStr;

pub use options::{
    DEFAULT_MARGIN, EcLevel, Format, MAX_MARGIN, MAX_SIZE, MIN_DEFAULT_PX, MIN_SIZE, OptionName,
    Options, Rgba,
};

/// The most UTF-8 bytes a `text` may have (the HTTP contract's limit, in every tier).
pub const MAX_TEXT_BYTES: usize = 512;

/// The contract's text rule, checked in this order: non-empty, at most [`MAX_TEXT_BYTES`] bytes,
/// valid UTF-8. Hosts call it on the decoded query value; bindings on what they were handed.
pub fn text(bytes: &[u8]) -> Result<&str, QrError> {
    check_size(bytes)?;
    std::str::from_utf8(bytes).map_err(|_| QrError::NotUtf8)
}

/// The same rule for a `&str`, which is UTF-8 already: non-empty, at most [`MAX_TEXT_BYTES`] bytes.
pub fn validate(text: &str) -> Result<(), QrError> {
    check_size(text.as_bytes())
}

fn check_size(bytes: &[u8]) -> Result<(), QrError> {
    if bytes.is_empty() {
        Err(QrError::Missing)
    } else if bytes.len() > MAX_TEXT_BYTES {
        Err(QrError::TooLong)
    } else {
        Ok(())
    }
}

/// Why no image was made. `Display` is the exact one-line message of the HTTP contract.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QrError {
    /// The text is empty (HTTP 400).
    Missing,
    /// The text has more than [`MAX_TEXT_BYTES`] UTF-8 bytes (HTTP 400).
    TooLong,
    /// The text is not valid UTF-8 (HTTP 400).
    NotUtf8,
    /// An option's value breaks its rule (HTTP 400).
    BadOption(OptionName),
    /// `size` cannot give every module a pixel: `min` is the least it can be (HTTP 400).
    SizeTooSmall {
        /// The symbol's width in modules plus twice the margin.
        min: u32,
    },
    /// The engine failed; the detail is for logs, never for clients (HTTP 500).
    Generation(String),
}

impl QrError {
    /// True when the caller's input is at fault (a 400), false when the generator is (a 500).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, QrError::Generation(_))
    }
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QrError::Missing => f.write_str("missing \"text\" query param"),
            QrError::TooLong => f.write_str("text must be <= 512 bytes"),
            QrError::NotUtf8 => f.write_str("\"text\" query param must be valid UTF-8"),
            QrError::BadOption(name) => f.write_str(name.rule()),
            QrError::SizeTooSmall { min } => write!(
                f,
                "\"size\" must be at least {min} pixels for this text, ecLevel and margin"
            ),
            QrError::Generation(_) => f.write_str("failed to generate qr code"),
        }
    }
}

impl std::error::Error for QrError {}

/// Which implementation turns text into an image. Every engine keeps the same contract
/// (`docs/api.md`: the options, their defaults and how modules map to pixels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// The article's pipeline: the `qrcode` crate and the `image` crate's 8-bit PNG encoder.
    Article,
    /// Our own encoder and 1-bit PNG writer: same contract, about 50x faster, half the bytes.
    /// The default, so every server uses it unless told otherwise.
    #[default]
    Fast,
}

impl Engine {
    /// Every engine, in a stable order.
    pub const ALL: &'static [Engine] = &[Engine::Article, Engine::Fast];

    /// The engine's name, as accepted by `FromStr` and printed by `Display`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Article => "article",
            Engine::Fast => "fast",
        }
    }

    /// The engine a binding was handed by name; no name means the default engine.
    pub fn from_name(name: Option<&str>) -> Result<Engine, UnknownEngine> {
        name.map_or(Ok(Engine::default()), str::parse)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::ALL
            .iter()
            .copied()
            .find(|engine| engine.name() == s)
            .ok_or_else(|| UnknownEngine(s.to_owned()))
    }
}

/// An engine name that [`Engine::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEngine(pub String);

impl fmt::Display for UnknownEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Engine::ALL.iter().map(|e| e.name()).collect();
        write!(
            f,
            "unknown engine {:?} (expected one of: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownEngine {}

/// The binaries' command lines (the `clap` feature): `Engine` as a clap argument, parsed by
/// [`Engine::from_str`] (so a wrong name gets its message, which lists the engines) with
/// [`Engine::ALL`] as the possible values in `--help`; and [`cli::parse`], one way to fail.
#[cfg(feature = "clap")]
pub mod cli {
    use std::ffi::OsStr;
    use std::process::ExitCode;

    use clap::builder::{PossibleValue, TypedValueParser, ValueParserFactory};
    use clap::error::{ContextKind, ContextValue};

    use super::Engine;

    /// Parses the command line into `C`, or prints `--help`/`--version` (stdout, exit 0) or a
    /// usage error with the usage (stderr, exit 2) and returns the exit code.
    pub fn parse<C: clap::Parser>() -> Result<C, ExitCode> {
        C::try_parse().map_err(|mut err| {
            // clap leaves the usage out of some errors (a bad value, say): every one shows it.
            if err.use_stderr() && err.get(ContextKind::Usage).is_none() {
                let usage = C::command().render_usage();
                err.insert(ContextKind::Usage, ContextValue::StyledStr(usage));
            }
            // A closed stream is no reason to panic.
            let _ = err.print();
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
        })
    }

    /// `--engine ENGINE`.
    #[derive(Clone, Copy, Debug)]
    pub struct EngineParser;

    impl TypedValueParser for EngineParser {
        type Value = Engine;

        fn parse_ref(
            &self,
            cmd: &clap::Command,
            arg: Option<&clap::Arg>,
            value: &OsStr,
        ) -> Result<Engine, clap::Error> {
            str::parse::<Engine>.parse_ref(cmd, arg, value)
        }

        fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
            Some(Box::new(
                Engine::ALL
                    .iter()
                    .map(|engine| PossibleValue::new(engine.name())),
            ))
        }
    }

    impl ValueParserFactory for Engine {
        type Parser = EngineParser;

        fn value_parser() -> EngineParser {
            EngineParser
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_rule_checks_empty_then_length_then_utf8() {
        assert_eq!(text(b"hello"), Ok("hello"));
        assert_eq!(text(b""), Err(QrError::Missing));
        assert_eq!(text(&[b'a'; 512]).map(str::len), Ok(512));
        assert_eq!(text(&[b'a'; 513]), Err(QrError::TooLong));
        // Length is counted in bytes and judged before UTF-8.
        assert_eq!(text("漢".repeat(170).as_bytes()).map(str::len), Ok(510));
        assert_eq!(text("漢".repeat(171).as_bytes()), Err(QrError::TooLong));
        assert_eq!(text(&[0xff; 513]), Err(QrError::TooLong));
        for bad in [&b"\xff"[..], b"a\xc3", b"\xed\xa0\x80", b"\xc0\xaf"] {
            assert_eq!(text(bad), Err(QrError::NotUtf8), "{bad:?}");
        }
        assert_eq!(text(b"a\0b"), Ok("a\0b"));
        assert_eq!(validate(""), Err(QrError::Missing));
        assert_eq!(validate(&"é".repeat(257)), Err(QrError::TooLong));
        assert_eq!(validate(&"é".repeat(256)), Ok(()));
    }

    #[test]
    fn messages_are_the_contracts() {
        assert_eq!(
            QrError::TooLong.to_string(),
            format!("text must be <= {MAX_TEXT_BYTES} bytes")
        );
        assert_eq!(QrError::Missing.to_string(), "missing \"text\" query param");
        assert_eq!(QrError::TooLong.to_string(), "text must be <= 512 bytes");
        assert_eq!(
            QrError::NotUtf8.to_string(),
            "\"text\" query param must be valid UTF-8"
        );
        let failed = QrError::Generation("detail for logs".into());
        assert_eq!(failed.to_string(), "failed to generate qr code");
        assert!(!failed.is_bad_input());
        assert!(QrError::NotUtf8.is_bad_input());
    }

    #[test]
    fn engines_by_name() {
        for &engine in Engine::ALL {
            assert_eq!(engine.name().parse::<Engine>(), Ok(engine));
            assert_eq!(Engine::from_name(Some(engine.name())), Ok(engine));
        }
        assert_eq!(Engine::from_name(None), Ok(Engine::Fast));
        assert_eq!(
            Engine::from_name(Some("Fast")).unwrap_err().to_string(),
            "unknown engine \"Fast\" (expected one of: article, fast)"
        );
    }
}
