//! rusty-qr's hot function: `text -> PNG or SVG bytes` of a QR code, the one core every tier binds.
//!
//! `qr_core::generate("hello", &Options::default())`. Host-free: no napi, wasm-bindgen or async runtime.
//! The contract's words (engine names, the text rule, its messages) come from `qr-contract` and are
//! re-exported here, so every Rust caller names them `qr_core::...`.

mod article;
mod fast;
mod geometry;
mod svg;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub use fast::internals;

pub use qr_contract::{
    DEFAULT_MARGIN, EcLevel, Engine, Format, MAX_MARGIN, MAX_SIZE, MAX_TEXT_BYTES, MIN_DEFAULT_PX,
    MIN_SIZE, OptionName, Options, QrError, Rgba, UnknownEngine, record, text, validate,
};

/// Checks `text` against the contract's rule ([`validate`]: a `&str` is UTF-8 already) and the
/// options against theirs ([`Options::check`]), and returns the image of its QR code (exactly its
/// UTF-8 bytes): a PNG, or an SVG document with `Format::Svg`.
pub fn generate(text: &str, options: &Options) -> Result<Vec<u8>, QrError> {
    validate(text)?;
    options.check()?;
    match options.engine {
        Engine::Article => article::generate(text.as_bytes(), options),
        Engine::Fast => fast::generate(text.as_bytes(), options),
    }
}
