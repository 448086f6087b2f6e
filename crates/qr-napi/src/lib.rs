//! Tier 3 of rusty-qr: `qr_core::generate` as a Node.js native addon on napi-rs v3.
//!
//! Run with `cargo xtask build` (copies the addon to `node/build/qr_napi.node` for
//! `node/tiers/tier-3.js`). Exports `generate(text, engine?, options?) -> Buffer` (sync) and
//! `generateAsync(text, engine?, options?) -> Promise<Buffer>` (computed on the libuv thread pool);
//! `options` is a plain object, the `QrOptions` interface of `index.d.ts`, which napi-rs converts
//! field by field (`#[napi(object)]`).
//! Only conversions live here: all logic is in qr-core. Errors are JS `Error`s with the core's
//! message and a `code`: `InvalidArg` (Node-API's status for a bad argument) when the input is at
//! fault (a text or an option that breaks its rule, a size too small for the symbol: the
//! contract's 400 body), `GenericFailure` otherwise (an unknown engine, the engine failing). A panic
//! becomes a `GenericFailure`, never an abort.

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Error, Status, Task};
use napi_derive::napi;
use qr_core::{Engine, OptionName, Options, QrError};

/// The image options of docs/api.md ("Options"), each optional: absent means its default.
#[napi(object)]
#[derive(Debug, Default, Clone)]
pub struct QrOptions {
    /// `png` (the default) or `svg`, any case.
    pub format: Option<String>,
    /// The image's exact width and height in pixels, 21 to 1000.
    pub size: Option<u32>,
    /// The quiet zone in modules, 0 to 20 (default 4).
    pub margin: Option<u32>,
    /// `L` (the default), `M`, `Q` or `H`, any case.
    pub ec_level: Option<String>,
    /// The dark modules' colour: RRGGBB or RRGGBBAA hex, with or without a leading #.
    pub dark: Option<String>,
    /// The light modules' and quiet zone's colour, as `dark`.
    pub light: Option<String>,
}

impl QrOptions {
    /// The options for `engine`, each field given applied in the contract's order (so the first
    /// that breaks its rule is the one reported): `Options::set` for the strings, `Options::check`
    /// for the numbers.
    fn to_options(&self, engine: Engine) -> Result<Options, QrError> {
        let mut options = Options::with_engine(engine);
        if let Some(format) = &self.format {
            options.set(OptionName::Format, format.as_bytes())?;
        }
        if let Some(size) = self.size {
            options.size = Some(size);
        }
        if let Some(margin) = self.margin {
            options.margin = margin;
        }
        options.check()?;
        let strings = [
            (OptionName::EcLevel, &self.ec_level),
            (OptionName::Dark, &self.dark),
            (OptionName::Light, &self.light),
        ];
        for (option, value) in strings {
            if let Some(value) = value {
                options.set(option, value.as_bytes())?;
            }
        }
        Ok(options)
    }
}

/// The one body both exports share: the engine by name, the options, the core call. A panic (the
/// core is panic-free, so a bug) is caught and reported as a generation failure.
pub fn generate_impl(
    text: &str,
    engine: Option<&str>,
    options: Option<&QrOptions>,
) -> napi::Result<Vec<u8>> {
    catch_panic(|| {
        let engine = Engine::from_name(engine).map_err(|e| Error::from_reason(e.to_string()))?;
        let options = match options {
            None => Ok(Options::with_engine(engine)),
            Some(options) => options.to_options(engine),
        };
        options
            .and_then(|options| qr_core::generate(text, &options))
            .map_err(core_error)
    })
}

/// A core error as a JS error: `InvalidArg` when the input is at fault, with the core's message.
fn core_error(err: QrError) -> Error {
    let status = if err.is_bad_input() {
        Status::InvalidArg
    } else {
        Status::GenericFailure
    };
    Error::new(status, err.to_string())
}

/// Runs `f`, turning a panic into the core's generation error (the panic hook has already printed
/// the details to stderr).
fn catch_panic(f: impl FnOnce() -> napi::Result<Vec<u8>>) -> napi::Result<Vec<u8>> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(core_error(QrError::Generation("panic".to_owned()))))
}

/// The image of `text`, as a `Buffer` (one copy-free hand-over of the Rust allocation): a PNG, or
/// an SVG document with `format: 'svg'`. `engine` is parsed by `qr_core::Engine::from_str`;
/// `undefined` means the core's default, as does an absent option. Throws an `Error` with the
/// core's message, whose `code` is `InvalidArg` for bad input.
#[napi]
pub fn generate(
    text: String,
    engine: Option<String>,
    options: Option<QrOptions>,
) -> napi::Result<Buffer> {
    generate_impl(&text, engine.as_deref(), options.as_ref()).map(Buffer::from)
}

/// The work of `generateAsync`, run on a libuv worker thread.
pub struct GenerateTask {
    text: String,
    engine: Option<String>,
    options: Option<QrOptions>,
}

#[napi]
impl Task for GenerateTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        generate_impl(&self.text, self.engine.as_deref(), self.options.as_ref())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(Buffer::from(output))
    }
}

/// Like `generate`, but computed on the libuv thread pool: returns `Promise<Buffer>`, rejected with
/// the same errors.
#[napi]
pub fn generate_async(
    text: String,
    engine: Option<String>,
    options: Option<QrOptions>,
) -> AsyncTask<GenerateTask> {
    AsyncTask::new(GenerateTask {
        text,
        engine,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error's JS `code` and message.
    fn error(result: napi::Result<Vec<u8>>) -> (Status, String) {
        let err = result.unwrap_err();
        (err.status, err.reason.clone())
    }

    #[test]
    fn same_bytes_as_the_core_and_errors_as_messages() {
        let core = qr_core::generate("https://tourofrust.com", &Options::default()).unwrap();
        assert_eq!(
            generate_impl("https://tourofrust.com", None, None).unwrap(),
            core
        );
        for &engine in Engine::ALL {
            assert_eq!(
                generate_impl("https://tourofrust.com", Some(engine.name()), None).unwrap(),
                qr_core::generate("https://tourofrust.com", &Options::with_engine(engine)).unwrap()
            );
        }
        assert_eq!(
            error(generate_impl("a", Some("nope"), None)),
            (
                Status::GenericFailure,
                "nope".parse::<Engine>().unwrap_err().to_string()
            )
        );
        assert_eq!(
            error(generate_impl(&"a".repeat(513), None, None)),
            (Status::InvalidArg, "text must be <= 512 bytes".to_owned())
        );
    }

    #[test]
    fn options_give_the_cores_bytes_svg_too() {
        let given = QrOptions {
            format: Some("SVG".into()),
            size: Some(300),
            margin: Some(2),
            ec_level: Some("h".into()),
            dark: Some("#0b3d91".into()),
            light: Some("ffffff00".into()),
        };
        for &engine in Engine::ALL {
            let mut expected = Options::with_engine(engine);
            for (option, value) in [
                (OptionName::Format, "svg"),
                (OptionName::Size, "300"),
                (OptionName::Margin, "2"),
                (OptionName::EcLevel, "H"),
                (OptionName::Dark, "0b3d91"),
                (OptionName::Light, "ffffff00"),
            ] {
                expected.set(option, value.as_bytes()).unwrap();
            }
            let svg = generate_impl("hello", Some(engine.name()), Some(&given)).unwrap();
            assert!(svg.starts_with(b"<svg"));
            assert_eq!(svg, qr_core::generate("hello", &expected).unwrap());
            // No field given: the bytes of no options.
            assert_eq!(
                generate_impl("hello", Some(engine.name()), Some(&QrOptions::default())).unwrap(),
                generate_impl("hello", Some(engine.name()), None).unwrap()
            );
        }
    }

    #[test]
    fn bad_options_are_invalid_arg_with_the_contracts_message_in_its_order() {
        let bad = |options: QrOptions| error(generate_impl("hello", None, Some(&options)));
        let too_small = QrOptions {
            size: Some(28),
            ..QrOptions::default()
        };
        assert_eq!(
            bad(too_small),
            (
                Status::InvalidArg,
                "\"size\" must be at least 29 pixels for this text, ecLevel and margin".to_owned()
            )
        );
        let rule = |option: OptionName| (Status::InvalidArg, option.rule().to_owned());
        let mut options = QrOptions {
            light: Some("nope".into()),
            ec_level: Some("X".into()),
            margin: Some(21),
            size: Some(1001),
            format: Some("gif".into()),
            ..QrOptions::default()
        };
        assert_eq!(bad(options.clone()), rule(OptionName::Format));
        options.format = None;
        assert_eq!(bad(options.clone()), rule(OptionName::Size));
        options.size = None;
        assert_eq!(bad(options.clone()), rule(OptionName::Margin));
        options.margin = None;
        assert_eq!(bad(options.clone()), rule(OptionName::EcLevel));
        options.ec_level = None;
        assert_eq!(bad(options), rule(OptionName::Light));
    }

    #[test]
    fn a_panic_becomes_the_generation_error() {
        let result = catch_panic(|| panic!("boom"));
        assert_eq!(
            error(result),
            (
                Status::GenericFailure,
                "failed to generate qr code".to_owned()
            )
        );
    }
}
