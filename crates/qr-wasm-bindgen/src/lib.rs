//! Tier 2 of rusty-qr, wasm-bindgen flavour: `qr_core::generate` exported to JS through generated glue.
//!
//! Run with `cargo xtask build` (wasm-bindgen --target nodejs writes `node/build/bindgen/`, loaded by
//! `node/tiers/tier-2-bindgen.js`). Only conversions live here: all logic is in qr-core.

use qr_core::{Engine, Options};
use wasm_bindgen::prelude::*;

/// The PNG of `text` (a `Uint8Array` copied out of Wasm memory by the glue). `engine` is an engine
/// name parsed by `qr_core::Engine::from_str` (`undefined` = the core's default). Errors throw a JS
/// `Error` whose message is the core's one-line message. Tested through the real glue by
/// node/tests/tier-2-bindgen.test.js.
#[wasm_bindgen]
pub fn generate(text: &str, engine: Option<String>) -> Result<Vec<u8>, JsError> {
    // `?` turns the core's errors into `JsError`s carrying their `Display` message.
    let engine = Engine::from_name(engine.as_deref())?;
    Ok(qr_core::generate(text, &Options::with_engine(engine))?)
}
