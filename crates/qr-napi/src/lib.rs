//! Tier 3 of rusty-qr: `qr_core::generate` as a Node.js native addon on napi-rs v3.
//!
//! Run with `cargo xtask build` (copies the addon to `node/build/qr_napi.node` for
//! `node/tiers/tier-3.js`). Exports `generate(text, engine?) -> Buffer` (sync) and
//! `generateAsync(text, engine?) -> Promise<Buffer>` (computed on the libuv thread pool).
//! Only conversions live here: all logic is in qr-core. A panic becomes a JS error, never an abort.

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Error, Task};
use napi_derive::napi;
use qr_core::{Engine, Options, QrError};

/// The one body both exports share: the engine by name, the core call; errors as their message.
/// A panic (the core is panic-free, so a bug) is caught and reported as a generation failure.
pub fn generate_impl(text: &str, engine: Option<&str>) -> Result<Vec<u8>, String> {
    catch_panic(|| {
        let engine = Engine::from_name(engine).map_err(|e| e.to_string())?;
        qr_core::generate(text, &Options::with_engine(engine)).map_err(|e| e.to_string())
    })
}

/// Runs `f`, turning a panic into the core's generation error message (the panic hook has already
/// printed the details to stderr).
fn catch_panic(f: impl FnOnce() -> Result<Vec<u8>, String>) -> Result<Vec<u8>, String> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(QrError::Generation("panic".to_owned()).to_string()))
}

/// The PNG of `text`, as a `Buffer` (one copy-free hand-over of the Rust allocation). `engine` is
/// parsed by `qr_core::Engine::from_str`; `undefined` means the core's default. Throws an `Error`
/// with the core's message.
#[napi]
pub fn generate(text: String, engine: Option<String>) -> napi::Result<Buffer> {
    generate_impl(&text, engine.as_deref())
        .map(Buffer::from)
        .map_err(Error::from_reason)
}

/// The work of `generateAsync`, run on a libuv worker thread.
pub struct GenerateTask {
    text: String,
    engine: Option<String>,
}

#[napi]
impl Task for GenerateTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        generate_impl(&self.text, self.engine.as_deref()).map_err(Error::from_reason)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(Buffer::from(output))
    }
}

/// Like `generate`, but computed on the libuv thread pool: returns `Promise<Buffer>`, rejected with
/// the core's message.
#[napi]
pub fn generate_async(text: String, engine: Option<String>) -> AsyncTask<GenerateTask> {
    AsyncTask::new(GenerateTask { text, engine })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_as_the_core_and_errors_as_messages() {
        let core = qr_core::generate("https://tourofrust.com", &Options::default()).unwrap();
        assert_eq!(generate_impl("https://tourofrust.com", None).unwrap(), core);
        for &engine in Engine::ALL {
            assert_eq!(
                generate_impl("https://tourofrust.com", Some(engine.name())).unwrap(),
                qr_core::generate("https://tourofrust.com", &Options::with_engine(engine)).unwrap()
            );
        }
        assert_eq!(
            generate_impl("a", Some("nope")).unwrap_err(),
            "nope".parse::<Engine>().unwrap_err().to_string()
        );
        assert_eq!(
            generate_impl(&"a".repeat(513), None).unwrap_err(),
            "text must be <= 512 bytes"
        );
    }

    #[test]
    fn a_panic_becomes_the_generation_error() {
        let result = catch_panic(|| panic!("boom"));
        assert_eq!(result.unwrap_err(), "failed to generate qr code");
    }
}
