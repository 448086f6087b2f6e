//! The fast engine: our own QR encoder (bit-packed matrix, bit-parallel mask scoring) and a
//! direct 1-bit PNG writer with a DEFLATE encoder that knows scanlines repeat.
//!
//! Private to qr-core: [`crate::png`] is the API. The stage tests are unit tests next to each
//! stage (`testkit.rs` holds what they share: the seeded generator and the reference oracle,
//! qrcodegen); the stage benches reach the stages through `internals` (feature `internals`).
//!
//! # Map
//!
//! [`png()`] runs these stages in this order. Clauses are those of ISO/IEC 18004:2015 (QR Code),
//! RFC 1950 (zlib), RFC 1951 (DEFLATE) and the PNG specification (W3C, Second Edition).
//!
//! | stage | where | implements |
//! | --- | --- | --- |
//! | smallest version; per-version tables | `layout.rs`: `version_for`, `Layout` | capacities (ISO 18004 Table 1; §7.5.1 Table 9, EC level L) |
//! | data codewords in byte mode | `symbol.rs`: `byte_segment` | §7.4: mode indicator, character count, data, terminator (§7.4.9), pad codewords (§7.4.10) |
//! | error correction | `rs.rs`; `symbol.rs`: `interleave` | §7.5: Reed-Solomon over GF(2^8), generator polynomials of Annex A; §7.6: interleaved final sequence |
//! | function patterns | `layout.rs`: `Grid::function_patterns` | §6.3: finder patterns and separators, timing patterns, alignment patterns (Annex E, Table E.1) |
//! | format and version information | `layout.rs`: `Grid::format_bits`, `Grid::version_bits` | §7.9 with Annex C (BCH (15, 5), mask 0x5412); §7.10 with Annex D (BCH (18, 6)) |
//! | codeword placement | `layout.rs`: `Grid::placement_order`; `symbol.rs`: `encode` | §7.7 |
//! | masking | `layout.rs`: `mask_bit`, `Layout::planes`; `symbol.rs`: `best_mask`, `apply` | §7.8; mask patterns §7.8.2 |
//! | penalty scoring | `penalty.rs` | §7.8.3: features N1 to N4 (Table 11), as qrcodegen scores them |
//! | scanlines | `png.rs`: `PngWriter::scanlines` | PNG §7.2 (scanlines), §9.2 (filter type 0, None); 4-module quiet zone (ISO 18004 §6.3) |
//! | DEFLATE | `deflate.rs` | RFC 1951: §3.2.5 (length and distance codes), §3.2.7 (one block with dynamic Huffman codes), §3.2.2 (canonical codes) |
//! | zlib stream | `png.rs`: `PngWriter::png`, `PngWriter::adler32` | RFC 1950 §2.2: CMF and FLG header, Adler-32 |
//! | PNG datastream | `png.rs`: `PngWriter::png`, `chunk`, `crc32` | PNG §5.2 (signature), §5.3 (chunks), §5.5 (CRC-32), §11.2.2 (IHDR), §11.2.4 (IDAT), §11.2.5 (IEND) |

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
