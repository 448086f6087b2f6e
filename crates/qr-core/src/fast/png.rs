//! A direct 1-bit greyscale PNG writer for QR symbols (PNG specification, W3C Second
//! Edition): signature (§5.2) and chunks (§5.3) with their CRC-32 (§5.5); IHDR (§11.2.2), one
//! IDAT (§11.2.4) holding a zlib stream (§10, RFC 1950) and IEND (§11.2.5). Each module row
//! becomes one scanline (§7.2) with filter type 0, None (§9.2), repeated `scale` times; the
//! repeats are never materialised: [`super::deflate`] compresses the distinct scanlines, and
//! the Adler-32 is summed per distinct scanline.

use super::deflate::{Deflater, Rows};
use super::symbol::Symbol;
use crate::MIN_DEFAULT_PX as MIN_IMAGE_PX;

/// Modules of quiet zone (light margin) on each side (ISO/IEC 18004:2015 §6.3, "Quiet zone").
pub const QUIET: usize = 4;

/// The PNG signature, the first 8 bytes of every PNG (§5.2).
const SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";

/// IHDR's bytes after width and height (§11.2.2): bit depth 1, colour type 0 (greyscale),
/// compression method 0 (zlib DEFLATE), filter method 0 (adaptive, five types), interlace
/// method 0 (none).
const IHDR_FORMAT: [u8; 5] = [1, 0, 0, 0, 0];

/// The filter-type byte that starts every scanline: 0, None (§9.2).
const FILTER_NONE: u8 = 0;

/// Eight white pixels: at bit depth 1, greyscale sample 1 is white (§11.2.2).
const WHITE: u8 = 0xFF;

/// The zlib header (RFC 1950 §2.2): CMF 0x78 = method 8 (DEFLATE) with a 32 KiB window
/// (CINFO 7); FLG 0xDA = FLEVEL 3 (maximum compression), no preset dictionary, and FCHECK
/// making CMF * 256 + FLG a multiple of 31.
const ZLIB_HEADER: [u8; 2] = [0x78, 0xDA];

/// Adler-32 sums are taken modulo 65521, the largest prime below 2^16 (RFC 1950 §2.2).
const ADLER_MOD: u32 = 65521;

/// The CRC-32 polynomial of PNG (§5.5; ISO 3309), bit-reversed for LSB-first processing.
const CRC_POLYNOMIAL: u32 = 0xEDB8_8320;

/// The smallest whole module size giving at least [`MIN_IMAGE_PX`] pixels for `size` modules.
pub fn scale_for(size: usize) -> usize {
    let modules = size + 2 * QUIET;
    (MIN_IMAGE_PX as usize).div_ceil(modules.max(1)).max(1)
}

/// Buffers reused between calls.
#[derive(Default)]
pub struct PngWriter {
    deflater: Deflater,
    rows: Vec<u8>,
    repeats: Vec<u16>,
    /// `expand[scale]`: the [`expand_table`] of `scale` pixels per module, built on first use
    /// (each version has its own scale, and texts come in any order).
    expand: Vec<Vec<u64>>,
}

/// CRC-32 tables for slicing by 4: `CRC_TABLES[k][b]` is the CRC of byte b followed by k zeros.
static CRC_TABLES: [[u32; 256]; 4] = {
    let mut tables = [[0u32; 256]; 4];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                CRC_POLYNOMIAL ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        tables[0][n] = c;
        n += 1;
    }
    let mut n = 0;
    while n < 256 {
        let mut k = 1;
        while k < 4 {
            let prev = tables[k - 1][n];
            tables[k][n] = (prev >> 8) ^ tables[0][(prev & 0xFF) as usize];
            k += 1;
        }
        n += 1;
    }
    tables
};

/// The CRC-32 of `bytes` (§5.5): register preset to all ones, result complemented.
fn crc32(bytes: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut c = !0u32;
    let mut words = bytes.chunks_exact(4);
    for w in &mut words {
        let x = c ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        c = t[3][(x & 0xFF) as usize]
            ^ t[2][(x >> 8 & 0xFF) as usize]
            ^ t[1][(x >> 16 & 0xFF) as usize]
            ^ t[0][(x >> 24) as usize];
    }
    for &b in words.remainder() {
        c = t[0][((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// Appends a chunk (§5.3: length, type, data, CRC of type and data) whose data the closure
/// writes.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], write: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(kind);
    write(out);
    let len = (out.len() - start - 8) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    let crc = crc32(&out[start + 4..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// For `scale` pixels per module: each byte of 8 modules (bit 0 = leftmost, 1 = white) -> their
/// pixels, leftmost in the highest bits.
fn expand_table(scale: usize) -> Vec<u64> {
    let ones: u64 = (1 << scale) - 1;
    (0..256u32)
        .map(|byte| {
            (0..8).fold(0u64, |acc, m| {
                acc << scale | if byte >> m & 1 == 1 { ones } else { 0 }
            })
        })
        .collect()
}

impl PngWriter {
    /// The distinct scanlines of `symbol`'s image (filter byte first) and their repeat
    /// counts, as `Rows` for a compressor. Returns (width in px, stride).
    pub fn scanlines(&mut self, symbol: &Symbol) -> (usize, usize) {
        let size = symbol.size();
        let scale = scale_for(size);
        let modules = size + 2 * QUIET;
        let width = modules * scale;
        let stride = 1 + width.div_ceil(8);
        self.rows.clear();
        self.repeats.clear();
        self.push_quiet_rows(stride, QUIET * scale);
        if self.expand.len() <= scale {
            self.expand.resize_with(scale + 1, Vec::new);
        }
        if self.expand[scale].is_empty() {
            self.expand[scale] = expand_table(scale);
        }
        let all = if modules >= 128 {
            u128::MAX
        } else {
            (1u128 << modules) - 1
        };
        for &row in symbol.rows() {
            // Bit k = module k - QUIET is white (the quiet zone is).
            let white = !(row << QUIET) & all;
            self.push_module_row(white, modules, scale);
        }
        self.push_quiet_rows(stride, QUIET * scale);
        (width, stride)
    }

    /// One all-white scanline, `repeats` times.
    fn push_quiet_rows(&mut self, stride: usize, repeats: usize) {
        self.rows.push(FILTER_NONE);
        self.rows.extend(std::iter::repeat_n(WHITE, stride - 1));
        self.repeats.push(repeats as u16);
    }

    /// The scanline of one row of `modules` modules (`white` bit k: module k is white), each
    /// `scale` pixels wide, repeated `scale` times.
    #[inline]
    fn push_module_row(&mut self, white: u128, modules: usize, scale: usize) {
        let expand = &self.expand[scale];
        self.rows.push(FILTER_NONE);
        let mut acc: u128 = 0;
        let mut bits = 0;
        let mut k = 0;
        while k < modules {
            let count = (modules - k).min(8);
            let chunk = (white >> k) as usize & 0xFF;
            let pixels = expand[chunk] >> ((8 - count) * scale);
            acc = acc << (count * scale) | u128::from(pixels);
            bits += count * scale;
            // Whole bytes out at once (at most 7: bits < 8 + 8 * 7).
            let whole = bits / 8;
            bits -= whole * 8;
            let out = ((acc >> bits) as u64).to_be_bytes();
            self.rows.extend_from_slice(&out[8 - whole..]);
            k += count;
        }
        if bits > 0 {
            // Pad the last byte with white.
            self.rows
                .push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) as u8);
        }
        self.repeats.push(scale as u16);
    }

    /// The Adler-32 of the expanded image data (RFC 1950 §2.2), from the distinct scanlines.
    fn adler32(&self, stride: usize) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for (row, &reps) in self.rows.chunks_exact(stride).zip(&self.repeats) {
            // Sum S and weighted sum W = sum (L - j) x_j of one copy; each copy then adds
            // b += L * a + W, a += S.
            let (mut s, mut w) = (0u64, 0u64);
            for &x in row {
                s += u64::from(x);
                w += s;
            }
            // k copies: a += k S, b += k (L a + W) + L S k (k - 1) / 2.
            let m = u64::from(ADLER_MOD);
            let k = u64::from(reps);
            let (s, w, len) = (s % m, w % m, stride as u64 % m);
            let pairs = k * k.saturating_sub(1) / 2 % m;
            b = ((u64::from(b) + k * ((len * u64::from(a) + w) % m) + len * s % m * pairs) % m)
                as u32;
            a = ((u64::from(a) + k * s) % m) as u32;
        }
        b << 16 | a
    }

    /// The PNG of `symbol`.
    pub fn png(&mut self, symbol: &Symbol) -> Vec<u8> {
        let (width, stride) = self.scanlines(symbol);
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&SIGNATURE);
        chunk(&mut out, b"IHDR", |o| {
            o.extend_from_slice(&(width as u32).to_be_bytes());
            o.extend_from_slice(&(width as u32).to_be_bytes());
            o.extend_from_slice(&IHDR_FORMAT);
        });
        let adler = self.adler32(stride);
        let rows = Rows {
            data: &self.rows,
            stride,
            repeats: &self.repeats,
        };
        let deflater = &mut self.deflater;
        chunk(&mut out, b"IDAT", |o| {
            o.extend_from_slice(&ZLIB_HEADER);
            deflater.compress(&rows, o);
            o.extend_from_slice(&adler.to_be_bytes());
        });
        chunk(&mut out, b"IEND", |_| {});
        out
    }

    /// The image data before compression (every scanline, repeats expanded), for
    /// comparing compressors.
    #[cfg(any(test, feature = "internals"))]
    pub fn raw(&mut self, symbol: &Symbol) -> Vec<u8> {
        let (_, stride) = self.scanlines(symbol);
        let mut raw = Vec::new();
        for (row, &reps) in self.rows.chunks_exact(stride).zip(&self.repeats) {
            for _ in 0..reps {
                raw.extend_from_slice(row);
            }
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        // The CRC-32 check value (ISO-HDLC), and PNG's IEND chunk CRC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn adler32_from_distinct_scanlines_is_that_of_the_raw_image_data() {
        let mut writer = PngWriter::default();
        for text in ["a", &"x".repeat(100), &"é".repeat(256)] {
            let symbol = crate::fast::symbol::encode(text.as_bytes(), None).unwrap();
            let raw = writer.raw(&symbol);
            let (_, stride) = writer.scanlines(&symbol);
            let (mut a, mut b) = (1u32, 0u32);
            for &x in &raw {
                a = (a + u32::from(x)) % ADLER_MOD;
                b = (b + a) % ADLER_MOD;
            }
            assert_eq!(writer.adler32(stride), b << 16 | a, "text {text:?}");
        }
    }

    #[test]
    fn idat_inflates_to_the_raw_image_data() {
        // An independent inflater (miniz_oxide) also checks the zlib header and Adler-32.
        let mut writer = PngWriter::default();
        for text in ["a", "hello, world", &"x".repeat(300), &"é".repeat(256)] {
            let symbol = crate::fast::symbol::encode(text.as_bytes(), None).unwrap();
            let png = writer.png(&symbol);
            let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
            assert_eq!(&png[37..41], b"IDAT");
            let zlib = &png[41..41 + idat_len];
            let inflated = miniz_oxide::inflate::decompress_to_vec_zlib(zlib).expect("inflates");
            assert!(inflated == writer.raw(&symbol), "text {text:?}");
        }
    }
}
