//! py-tier-3 of rusty-qr: `qr_core::generate` as a CPython extension module, `qr_py`, on PyO3 (abi3:
//! one wheel for every CPython >= 3.11). Run with `cargo xtask build` (maturin builds the wheel into
//! `target/wheels/` and installs it into the project's venv, `target/venv`).
//!
//! Exports `png(text: str, engine: str | None = None) -> bytes`. The core runs with the GIL released
//! (`Python::detach`), so the threads of one gunicorn `gthread` worker run it on every core at once.
//! Only conversions live here, as in qr-napi: the contract's bad-input errors (and an unknown engine
//! name) raise `ValueError` with the core's message, a generation failure `RuntimeError`. A panic
//! (the core is panic-free, so a bug) is caught here and raised as that `RuntimeError`, not left to
//! PyO3's `PanicException`, which derives from `BaseException` and so escapes `except Exception`.
//!
//! Linking: PyO3's `extension-module` feature keeps every build of this crate (the cdylib and the
//! unit tests) from linking libpython, so the workspace builds and tests on a machine without
//! Python's development files. The unit tests therefore call no Python API: they test
//! [`generate_impl`]; `python/tests/test_py_tier_3.py` tests the module in a real interpreter.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use qr_core::{Engine, Options, QrError};

/// Why [`generate_impl`] made no PNG, sorted by the Python exception it becomes.
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

/// The whole binding, free of Python: the engine by name, then the core. Runs without the GIL.
pub fn generate_impl(text: &str, engine: Option<&str>) -> Result<Vec<u8>, Failure> {
    catch_panic(|| {
        let engine =
            Engine::from_name(engine).map_err(|error| Failure::BadInput(error.to_string()))?;
        Ok(qr_core::generate(text, &Options::with_engine(engine))?)
    })
}

/// Runs `f`, turning a panic into the core's generation error (the panic hook has already printed
/// the details to stderr).
fn catch_panic(f: impl FnOnce() -> Result<Vec<u8>, Failure>) -> Result<Vec<u8>, Failure> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(QrError::Generation("panic".to_owned()).into()))
}

/// The PNG of the QR code of `text` (its UTF-8 bytes, EC level L) as `bytes`. `engine` is a name
/// `qr_core::Engine::from_str` knows; `None` means the core's default. The GIL is released while the
/// image is made. Raises `ValueError` for bad input, `RuntimeError` if generation fails.
#[pyfunction]
#[pyo3(signature = (text, engine = None))]
fn png<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyString>,
    engine: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    // A `str` holding a lone surrogate has no UTF-8 form: the contract's "not UTF-8" bad input,
    // rather than the UnicodeEncodeError PyO3 would raise for a `&str` argument.
    let text = text.to_str().map_err(|_| Failure::from(QrError::NotUtf8))?;
    // `text` borrows the str's UTF-8 buffer, which the caller's reference keeps alive and which no
    // thread can change (str is immutable), so the core may read it without the GIL.
    let png = py.detach(|| generate_impl(text, engine))?;
    Ok(PyBytes::new(py, &png))
}

/// `import qr_py`: rusty-qr's core, `qr_py.png(text, engine=None) -> bytes`.
#[pymodule]
mod qr_py {
    #[pymodule_export]
    use super::png;
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "https://tourofrust.com";

    #[test]
    fn same_bytes_as_the_core_for_every_engine() {
        let default = qr_core::generate(TEXT, &Options::default()).unwrap();
        assert_eq!(generate_impl(TEXT, None).unwrap(), default);
        for &engine in Engine::ALL {
            assert_eq!(
                generate_impl("漢字 é 🦀", Some(engine.name())).unwrap(),
                qr_core::generate("漢字 é 🦀", &Options::with_engine(engine)).unwrap(),
                "{engine}"
            );
        }
    }

    #[test]
    fn bad_input_and_unknown_engines_are_bad_input_with_the_contracts_words() {
        assert_eq!(
            generate_impl("", None),
            Err(Failure::BadInput("missing \"text\" query param".into()))
        );
        assert_eq!(
            generate_impl(&"a".repeat(513), Some("article")),
            Err(Failure::BadInput("text must be <= 512 bytes".into()))
        );
        assert_eq!(
            generate_impl("a", Some("nope")),
            Err(Failure::BadInput(
                "unknown engine \"nope\" (expected one of: article, fast)".into()
            ))
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
    fn a_panic_becomes_the_generation_error() {
        assert_eq!(
            catch_panic(|| panic!("boom")),
            Err(Failure::Generation("failed to generate qr code".into()))
        );
    }
}
