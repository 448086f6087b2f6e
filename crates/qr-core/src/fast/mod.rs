//! The fast engine: our own QR encoder (bit-packed matrix, bit-parallel mask scoring) and a
//! direct 1-bit PNG writer with a DEFLATE encoder that knows scanlines repeat.
//!
//! Private to qr-core: [`crate::png`] is the API. The stage tests are unit tests next to each
//! stage; the stage benches reach the stages through [`internals`] (feature `internals`).

mod deflate;
mod layout;
mod penalty;
mod png;
mod rs;
mod symbol;
#[cfg(test)]
mod testkit;

use std::cell::RefCell;

use png::PngWriter;
use symbol::encode;

use crate::QrError;

/// The stages, for `benches/engines.rs` only: not qr-core's API, and only with the
/// `internals` feature (`cargo bench -p qr-core --features internals`).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use super::png::PngWriter;
    pub use super::symbol::{Symbol, encode};
}

thread_local! {
    static WRITER: RefCell<PngWriter> = RefCell::new(PngWriter::default());
}

/// The PNG of `data`'s QR code (byte mode, EC level L, smallest version, best mask).
pub(crate) fn png(data: &[u8]) -> Result<Vec<u8>, QrError> {
    let symbol = encode(data, None)
        .ok_or_else(|| QrError::Generation(format!("{} bytes do not fit a QR code", data.len())))?;
    let from_cache = WRITER
        .try_with(|writer| writer.try_borrow_mut().ok().map(|mut w| w.png(&symbol)))
        .ok()
        .flatten();
    Ok(from_cache.unwrap_or_else(|| PngWriter::default().png(&symbol)))
}
