//! py-tier-3 of rusty-qr: `qr_core::generate` as a CPython extension module, `qr_py`, on PyO3 (abi3:
//! one wheel for every CPython >= 3.11). Run with `cargo xtask build` (maturin builds the wheel into
//! `target/wheels/` and installs it into the project's venv, `target/venv`).
//!
//! Exports `generate(text, engine=None, *, format=None, size=None, margin=None, ec_level=None,
//! dark=None, light=None) -> bytes`: the contract's options as keyword arguments, `None` meaning the
//! default. Strings go through `Options::set` (the contract's rule for a query value), numbers into
//! the fields and through `Options::check`, so the rules and messages are the core's. The core runs
//! with the GIL released (`Python::detach`), so the threads of one gunicorn `gthread` worker run it
//! on every core at once. Only conversions live here, as in qr-napi: the contract's bad-input errors
//! (and an unknown engine name) raise `ValueError` with the core's message, a generation failure
//! `RuntimeError`. A panic (the core is panic-free, so a bug) is caught here and raised as that
//! `RuntimeError`, not left to PyO3's `PanicException`, which derives from `BaseException` and so
//! escapes `except Exception`.
//!
//! Linking: PyO3's `extension-module` feature keeps every build of this crate (the cdylib and the
//! unit tests) from linking libpython, so the workspace builds and tests on a machine without
//! Python's development files. The unit tests therefore call no Python API: they test
//! [`Arguments::options`] and [`generate_impl`]; `python/tests/test_py_tier_3.py` tests the module
//! in a real interpreter.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyString};
use qr_core::{Engine, OptionName, Options, QrError};

/// Why no image was made, sorted by the Python exception it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The caller's input is at fault (the contract's 400s, an unknown engine): `ValueError`.
    BadInput(String),
    /// The generator failed, or panicked: `RuntimeError`.
    Generation(String),
}

impl From<QrError> for Failure {
    fn from(error: QrError) -> Self {
        if error.is_bad_input() {
            Failure::BadInput(error.to_string())
        } else {
            Failure::Generation(error.to_string())
        }
    }
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::BadInput(message) => PyValueError::new_err(message),
            Failure::Generation(message) => PyRuntimeError::new_err(message),
        }
    }
}

/// The arguments after `text`, as Python gave them (`None` is the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Arguments<'a> {
    /// A name `qr_core::Engine` knows.
    pub engine: Option<&'a str>,
    /// `png` or `svg`, any case.
    pub format: Option<&'a str>,
    /// Pixels.
    pub size: Option<u32>,
    /// Modules.
    pub margin: Option<u32>,
    /// `L`, `M`, `Q` or `H`, any case.
    pub ec_level: Option<&'a str>,
    /// `RRGGBB` or `RRGGBBAA`, with or without `#`.
    pub dark: Option<&'a str>,
    /// Likewise.
    pub light: Option<&'a str>,
}

impl Arguments<'_> {
    /// The core's options, judged in the contract's order (format, size, margin, ecLevel, dark,
    /// light) after the engine.
    pub fn options(&self) -> Result<Options, Failure> {
        let engine =
            Engine::from_name(self.engine).map_err(|error| Failure::BadInput(error.to_string()))?;
        let mut options = Options::with_engine(engine);
        if let Some(format) = self.format {
            options.set(OptionName::Format, format.as_bytes())?;
        }
        options.size = self.size;
        options.margin = self.margin.unwrap_or(options.margin);
        options.check()?;
        for (option, value) in [
            (OptionName::EcLevel, self.ec_level),
            (OptionName::Dark, self.dark),
            (OptionName::Light, self.light),
        ] {
            if let Some(value) = value {
                options.set(option, value.as_bytes())?;
            }
        }
        Ok(options)
    }
}

/// The whole binding, free of Python: the text rule first (the contract checks it before any
/// option), then the options, then the core. Runs without the GIL.
pub fn generate_impl(text: &str, arguments: &Arguments) -> Result<Vec<u8>, Failure> {
    catch_panic(|| {
        qr_core::validate(text)?;
        Ok(qr_core::generate(text, &arguments.options()?)?)
    })
}

/// Runs `f`, turning a panic into the core's generation error (the panic hook has already printed
/// the details to stderr).
fn catch_panic(f: impl FnOnce() -> Result<Vec<u8>, Failure>) -> Result<Vec<u8>, Failure> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(QrError::Generation("panic".to_owned()).into()))
}

/// A whole-number argument as a `u32`; any other int (negative, huge) breaks `option`'s rule.
fn whole_number(
    value: Option<&Bound<'_, PyInt>>,
    option: OptionName,
) -> Result<Option<u32>, Failure> {
    value
        .map(|n| {
            n.extract::<u32>()
                .map_err(|_| QrError::BadOption(option).into())
        })
        .transpose()
}

/// The image of the QR code of `text` (its UTF-8 bytes) as `bytes`: a PNG, or an SVG document
/// with `format="svg"`. `engine` is a name `qr_core::Engine::from_str` knows; `None`, here and for
/// every option, means the default. The GIL is released while the image is made. Raises
/// `ValueError` with the contract's message for bad input, `RuntimeError` if generation fails.
#[pyfunction]
#[pyo3(signature = (text, engine = None, *, format = None, size = None, margin = None, ec_level = None, dark = None, light = None))]
#[allow(clippy::too_many_arguments)] // the contract's options, one keyword argument each
fn generate<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyString>,
    engine: Option<&str>,
    format: Option<&str>,
    size: Option<&Bound<'py, PyInt>>,
    margin: Option<&Bound<'py, PyInt>>,
    ec_level: Option<&str>,
    dark: Option<&str>,
    light: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    // A `str` holding a lone surrogate has no UTF-8 form: the contract's "not UTF-8" bad input,
    // rather than the UnicodeEncodeError PyO3 would raise for a `&str` argument.
    let text = text.to_str().map_err(|_| Failure::from(QrError::NotUtf8))?;
    // The text's rule answers first, before an int that is no `u32` breaks `size`'s or `margin`'s.
    qr_core::validate(text).map_err(Failure::from)?;
    let arguments = Arguments {
        engine,
        format,
        size: whole_number(size, OptionName::Size)?,
        margin: whole_number(margin, OptionName::Margin)?,
        ec_level,
        dark,
        light,
    };
    // `text` borrows the str's UTF-8 buffer, which the caller's reference keeps alive and which no
    // thread can change (str is immutable), so the core may read it without the GIL; the other
    // borrowed strings likewise.
    let image = py.detach(|| generate_impl(text, &arguments))?;
    Ok(PyBytes::new(py, &image))
}

/// `import qr_py`: rusty-qr's core, `qr_py.generate(text, engine=None, *, format=None, ...)`.
#[pymodule]
mod qr_py {
    #[pymodule_export]
    use super::generate;
}

#[cfg(test)]
mod tests {
    use super::*;
    use qr_core::{EcLevel, Format, Rgba};

    const TEXT: &str = "https://tourofrust.com";

    fn engine(name: &str) -> Arguments<'_> {
        Arguments {
            engine: Some(name),
            ..Arguments::default()
        }
    }

    #[test]
    fn same_bytes_as_the_core_for_every_engine() {
        let default = qr_core::generate(TEXT, &Options::default()).unwrap();
        assert_eq!(generate_impl(TEXT, &Arguments::default()).unwrap(), default);
        for &each in Engine::ALL {
            assert_eq!(
                generate_impl("漢字 é 🦀", &engine(each.name())).unwrap(),
                qr_core::generate("漢字 é 🦀", &Options::with_engine(each)).unwrap(),
                "{each}"
            );
        }
    }

    #[test]
    fn every_option_reaches_the_core() {
        let arguments = Arguments {
            engine: Some("article"),
            format: Some("SVG"),
            size: Some(300),
            margin: Some(2),
            ec_level: Some("h"),
            dark: Some("#0B3D91"),
            light: Some("ffffff00"),
        };
        let options = arguments.options().unwrap();
        let mut expected = Options::with_engine(Engine::Article);
        expected.format = Format::Svg;
        expected.size = Some(300);
        expected.margin = 2;
        expected.ec_level = EcLevel::H;
        expected.dark = Rgba([0x0b, 0x3d, 0x91, 0xff]);
        expected.light = Rgba([0xff, 0xff, 0xff, 0]);
        assert_eq!(options, expected);
        assert_eq!(
            generate_impl(TEXT, &arguments).unwrap(),
            qr_core::generate(TEXT, &expected).unwrap()
        );
    }

    #[test]
    fn bad_input_and_unknown_engines_are_bad_input_with_the_contracts_words() {
        let bad = |message: &str| Err(Failure::BadInput(message.into()));
        assert_eq!(
            generate_impl("", &Arguments::default()),
            bad("missing \"text\" query param")
        );
        assert_eq!(
            generate_impl(&"a".repeat(513), &engine("article")),
            bad("text must be <= 512 bytes")
        );
        assert_eq!(
            generate_impl("a", &engine("nope")),
            bad("unknown engine \"nope\" (expected one of: article, fast)")
        );
        assert_eq!(
            generate_impl(
                "hello",
                &Arguments {
                    size: Some(28),
                    ..Arguments::default()
                }
            ),
            bad("\"size\" must be at least 29 pixels for this text, ecLevel and margin")
        );
        assert_eq!(
            Failure::from(QrError::NotUtf8),
            Failure::BadInput("\"text\" query param must be valid UTF-8".into())
        );
        assert_eq!(
            Failure::from(QrError::Generation("detail".into())),
            Failure::Generation("failed to generate qr code".into())
        );
    }

    #[test]
    fn checks_run_in_the_contracts_order() {
        let all_bad = Arguments {
            engine: None,
            format: Some("gif"),
            size: Some(20),
            margin: Some(21),
            ec_level: Some("X"),
            dark: Some("no"),
            light: Some("no"),
        };
        assert_eq!(
            generate_impl("", &all_bad),
            Err(Failure::BadInput("missing \"text\" query param".into()))
        );
        // Each option's rule answers once every option before it is right.
        let mut arguments = all_bad;
        let fixes: [&dyn Fn(&mut Arguments); 6] = [
            &|a| a.format = Some("png"),
            &|a| a.size = Some(300),
            &|a| a.margin = Some(0),
            &|a| a.ec_level = Some("q"),
            &|a| a.dark = Some("000000"),
            &|a| a.light = Some("ffffff"),
        ];
        for (option, fix) in OptionName::ALL.into_iter().zip(fixes) {
            assert_eq!(
                generate_impl("a", &arguments),
                Err(Failure::BadInput(option.rule().into())),
                "{option}"
            );
            fix(&mut arguments);
        }
        assert!(generate_impl("a", &arguments).is_ok());
    }

    #[test]
    fn a_panic_becomes_the_generation_error() {
        assert_eq!(
            catch_panic(|| panic!("boom")),
            Err(Failure::Generation("failed to generate qr code".into()))
        );
    }
}
