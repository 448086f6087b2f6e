//! The fast engine: our own QR encoder (bit-packed matrix, bit-parallel mask scoring) and a
//! direct 1-bit PNG writer with a DEFLATE encoder that knows scanlines repeat.
//!
//! Public so benches and differential tests can reach each stage; [`crate::png`] is the API.

pub mod deflate;
pub mod layout;
mod penalty;
pub mod png;
mod rs;
pub mod symbol;

use std::cell::RefCell;

pub use png::PngWriter;
pub use symbol::{Symbol, encode};

use crate::QrError;

thread_local! {
    static WRITER: RefCell<PngWriter> = RefCell::new(PngWriter::default());
}

/// The PNG of `data`'s QR code (byte mode, EC level L, smallest version, best mask).
pub fn png(data: &[u8]) -> Result<Vec<u8>, QrError> {
    let symbol = encode(data, None)
        .ok_or_else(|| QrError::Generation(format!("{} bytes do not fit a QR code", data.len())))?;
    let from_cache = WRITER
        .try_with(|writer| writer.try_borrow_mut().ok().map(|mut w| w.png(&symbol)))
        .ok()
        .flatten();
    Ok(from_cache.unwrap_or_else(|| PngWriter::default().png(&symbol)))
}
