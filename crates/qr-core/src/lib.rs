//! rusty-qr's hot function: `text -> PNG bytes` of a QR code, the one core every tier binds.
//!
//! `qr_core::png("hello", &Options::default())`. Host-free: no napi, wasm-bindgen or async runtime.
//! The contract's words (engine names, the text rule, its messages) come from `qr-contract` and are
//! re-exported here, so every Rust caller names them `qr_core::...`.

mod article;
mod fast;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub use fast::internals;

pub use qr_contract::{Engine, MAX_TEXT_BYTES, QrError, UnknownEngine, text, validate};

/// The smallest width and height of the image, in pixels, quiet zone included.
pub const MIN_IMAGE_PX: u32 = 200;

/// How to make the image. Grows without breaking callers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The implementation to use.
    pub engine: Engine,
}

impl Options {
    /// Options using `engine`.
    pub fn with_engine(engine: Engine) -> Self {
        Options { engine }
    }
}

/// Checks `text` against the contract's rule ([`validate`]: a `&str` is UTF-8 already) and
/// returns the PNG of its QR code (exactly its UTF-8 bytes, EC level L).
pub fn png(text: &str, options: &Options) -> Result<Vec<u8>, QrError> {
    validate(text)?;
    match options.engine {
        Engine::Article => article::png(text.as_bytes()),
        Engine::Fast => fast::png(text.as_bytes()),
    }
}
