//! The fast engine: our own QR encoder (bit-packed matrix, bit-parallel mask scoring) and a
//! direct 1-bit PNG writer with a DEFLATE encoder that knows scanlines repeat.
//!
//! Private to qr-core: [`crate::generate`] is the API. The stage tests are unit tests next to each
//! stage (`testkit.rs` holds what they share: the seeded generator and the reference oracle,
//! qrcodegen); the stage benches reach the stages through `internals` (feature `internals`).
//!
//! # Map
//!
//! [`generate()`] runs these stages in this order (an SVG leaves after masking, for `crate::svg`).
//! Clauses are those of ISO/IEC 18004:2015 (QR Code), RFC 1950 (zlib), RFC 1951 (DEFLATE) and the
//! PNG specification (W3C, Second Edition).
//!
//! | stage | where | implements |
//! | --- | --- | --- |
//! | smallest version; per-(version, level) tables | `tables.rs`: `version_for`, `BYTE_CAPACITY`; `layout.rs`: `Layout` | capacities (ISO 18004 Table 1; §7.5.1 Table 9, EC levels L, M, Q, H; Table 7) |
//! | data codewords in byte mode | `symbol.rs`: `byte_segment` | §7.4: mode indicator, character count, data, terminator (§7.4.9), pad codewords (§7.4.10) |
//! | error correction | `rs.rs`; `symbol.rs`: `interleave` | §7.5: Reed-Solomon over GF(2^8), generator polynomials of Annex A; §7.6: interleaved final sequence |
//! | function patterns | `layout.rs`: `Grid::function_patterns`; `tables.rs`: `ALIGNMENT_CENTRES` | §6.3: finder patterns and separators, timing patterns, alignment patterns (Annex E, Table E.1) |
//! | format and version information | `layout.rs`: `Grid::format_bits`, `Grid::version_bits` | §7.9 with Annex C (BCH (15, 5), mask 0x5412); §7.10 with Annex D (BCH (18, 6)) |
//! | codeword placement | `layout.rs`: `Grid::placement_order`; `symbol.rs`: `encode` | §7.7 |
//! | masking | `layout.rs`: `mask_bit`, `Layout::planes`; `symbol.rs`: `best_mask`, `apply` | §7.8; mask patterns §7.8.2 |
//! | penalty scoring | `penalty.rs` | §7.8.3: features N1 to N4 (Table 11), as qrcodegen scores them |
//! | scanlines | `png.rs`: `PngWriter::scanlines`, with `crate::geometry` | PNG §7.2 (scanlines), §9.2 (filter type 0, None); quiet zone (ISO 18004 §6.3), 4 modules unless asked |
//! | DEFLATE | `deflate.rs` | RFC 1951: §3.2.5 (length and distance codes), §3.2.7 (one block with dynamic Huffman codes), §3.2.2 (canonical codes) |
//! | zlib stream | `png.rs`: `PngWriter::png`, `PngWriter::adler32` | RFC 1950 §2.2: CMF and FLG header, Adler-32 |
//! | PNG datastream | `png.rs`: `PngWriter::png`, `chunk`, `crc32` | PNG §5.2 (signature), §5.3 (chunks), §5.5 (CRC-32), §11.2.2 (IHDR), §11.2.3 (PLTE), §11.3.2.1 (tRNS), §11.2.4 (IDAT), §11.2.5 (IEND) |
//! | SVG | `crate::svg` (shared with the article engine) | one `<path>` of dark runs in a `viewBox` of modules |

mod deflate;
mod layout;
mod penalty;
mod png;
mod rs;
mod symbol;
mod tables;
#[cfg(test)]
mod testkit;

use std::cell::RefCell;

use png::PngWriter;
use symbol::encode;

use crate::geometry::Geometry;
use crate::{Format, Options, QrError, svg};

/// The stages, for `benches/engines.rs` only: not qr-core's API, and only with the
/// `internals` feature (`cargo bench -p qr-core --features internals`).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use super::png::PngWriter;
    pub use super::symbol::{Symbol, encode};
    pub use crate::geometry::Geometry;
}

thread_local! {
    static WRITER: RefCell<PngWriter> = RefCell::new(PngWriter::default());
}

/// The image of `data`'s QR code (byte mode, smallest version, best mask) as `options` ask.
pub(crate) fn generate(data: &[u8], options: &Options) -> Result<Vec<u8>, QrError> {
    let symbol = encode(data, options.ec_level, None)
        .ok_or_else(|| QrError::Generation(format!("{} bytes do not fit a QR code", data.len())))?;
    let geometry = Geometry::new(symbol.size(), options)?;
    if options.format == Format::Svg {
        return Ok(svg::svg(&geometry, options, |x, y| {
            symbol.rows()[y] >> x & 1 == 1
        }));
    }
    let from_cache = WRITER
        .try_with(|writer| {
            let mut writer = writer.try_borrow_mut().ok()?;
            Some(writer.png(&symbol, &geometry, options))
        })
        .ok()
        .flatten();
    Ok(from_cache.unwrap_or_else(|| PngWriter::default().png(&symbol, &geometry, options)))
}
