//! A direct 1-bit PNG writer for QR symbols (PNG specification, W3C Second Edition): signature
//! (§5.2) and chunks (§5.3) with their CRC-32 (§5.5); IHDR (§11.2.2), for colours PLTE (§11.2.3)
//! and tRNS (§11.3.2.1), one IDAT (§11.2.4) holding a zlib stream (§10, RFC 1950) and IEND
//! (§11.2.5). Each module row becomes one scanline (§7.2) with filter type 0, None (§9.2),
//! repeated as many times as the module is pixels high (`crate::geometry`); the repeats are never
//! materialised: [`super::deflate`] compresses the distinct scanlines, and the Adler-32 is summed
//! per distinct scanline. Black on white is greyscale; other colours a two-entry palette, dark
//! first, so the samples are the same: bit 1 is light.

use super::deflate::{Deflater, Rows};
use super::symbol::Symbol;
use crate::Options;
use crate::geometry::Geometry;

/// The PNG signature, the first 8 bytes of every PNG (§5.2).
const SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";

/// IHDR's bytes after width and height (§11.2.2): bit depth 1, colour type 0 (greyscale),
/// compression method 0 (zlib DEFLATE), filter method 0 (adaptive, five types), interlace
/// method 0 (none).
const IHDR_FORMAT: [u8; 5] = [1, 0, 0, 0, 0];

/// The same with colour type 3 (indexed colour, a palette).
const IHDR_FORMAT_PALETTE: [u8; 5] = [1, 3, 0, 0, 0];

/// The widest module whose pixels [`expand_table`] handles: 8 modules of it fill a `u64`.
const MAX_EXPANDED_SCALE: usize = 8;

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

/// Packs 1-bit pixels into a scanline's bytes, leftmost pixel in the highest bit.
struct PixelSink<'a> {
    out: &'a mut Vec<u8>,
    /// Pixels not yet out, in the low `bits` bits (fewer than 8 between calls).
    acc: u128,
    bits: usize,
}

impl<'a> PixelSink<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        PixelSink {
            out,
            acc: 0,
            bits: 0,
        }
    }

    /// Appends the low `count` bits of `pixels` (`count` at most 64), first pixel highest.
    #[inline]
    fn push(&mut self, pixels: u64, count: usize) {
        self.acc = self.acc << count | u128::from(pixels) & ((1u128 << count) - 1);
        self.bits += count;
        // Whole bytes out at once (at most 8: bits < 8 + 64).
        let whole = self.bits / 8;
        self.bits -= whole * 8;
        let out = ((self.acc >> self.bits) as u64).to_be_bytes();
        self.out.extend_from_slice(&out[8 - whole..]);
    }

    /// Appends `count` pixels of one colour (white when `white`).
    fn run(&mut self, white: bool, mut count: usize) {
        let ones = if white { u64::MAX } else { 0 };
        while count > 0 {
            let now = count.min(64);
            self.push(ones, now);
            count -= now;
        }
    }

    /// Pads the last byte with white.
    fn finish(self) {
        if self.bits > 0 {
            let pad = 8 - self.bits;
            self.out.push((self.acc << pad | ((1 << pad) - 1)) as u8);
        }
    }
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
    /// The distinct scanlines of `symbol`'s image drawn by `geometry` (filter byte first) and
    /// their repeat counts, as `Rows` for a compressor. Returns the stride.
    pub fn scanlines(&mut self, symbol: &Symbol, geometry: &Geometry) -> usize {
        let size = symbol.size();
        let stride = 1 + geometry.size.div_ceil(8);
        self.rows.clear();
        self.repeats.clear();
        let all = if size >= 128 {
            u128::MAX
        } else {
            (1u128 << size) - 1
        };
        match geometry.uniform_scale() {
            // Every module the same few pixels: 8 modules at a time through a table.
            Some(scale) if scale <= MAX_EXPANDED_SCALE => {
                if self.expand.len() <= scale {
                    self.expand.resize_with(scale + 1, Vec::new);
                }
                if self.expand[scale].is_empty() {
                    self.expand[scale] = expand_table(scale);
                }
                let quiet = geometry.margin * scale;
                self.push_quiet_rows(stride, quiet);
                for &row in symbol.rows() {
                    self.push_module_row(!row & all, size, scale, quiet, geometry.size);
                }
                self.push_quiet_rows(stride, quiet);
            }
            // Any plan: a run of pixels at a time.
            _ => {
                let widths: Vec<usize> = geometry.widths().collect();
                let (top, rest) = widths.split_at(geometry.margin);
                let (middle, bottom) = rest.split_at(size);
                self.push_quiet_rows(stride, top.iter().sum());
                for (&row, &height) in symbol.rows().iter().zip(middle) {
                    self.push_planned_row(!row & all, &widths, geometry, height);
                }
                self.push_quiet_rows(stride, bottom.iter().sum());
            }
        }
        stride
    }

    /// One all-white scanline, `repeats` times (none if 0).
    fn push_quiet_rows(&mut self, stride: usize, repeats: usize) {
        if repeats == 0 {
            return;
        }
        self.rows.push(FILTER_NONE);
        self.rows.extend(std::iter::repeat_n(WHITE, stride - 1));
        self.repeats.push(repeats as u16);
    }

    /// The scanline of one row of `modules` modules (`white` bit k: module k is white), each
    /// `scale` pixels wide, between `quiet` white pixels on each side, `width` pixels in all;
    /// repeated `scale` times.
    #[inline]
    fn push_module_row(
        &mut self,
        white: u128,
        modules: usize,
        scale: usize,
        quiet: usize,
        width: usize,
    ) {
        let expand = &self.expand[scale];
        self.rows.push(FILTER_NONE);
        let mut pixels = PixelSink::new(&mut self.rows);
        pixels.run(true, quiet);
        let mut k = 0;
        while k < modules {
            let count = (modules - k).min(8);
            let chunk = (white >> k) as usize & 0xFF;
            pixels.push(expand[chunk] >> ((8 - count) * scale), count * scale);
            k += count;
        }
        pixels.run(true, width - quiet - modules * scale);
        pixels.finish();
        self.repeats.push(scale as u16);
    }

    /// The scanline of one symbol row (`white` bit k: module k is white) with modules and quiet
    /// zone `widths` pixels wide, repeated `height` times.
    fn push_planned_row(
        &mut self,
        white: u128,
        widths: &[usize],
        geometry: &Geometry,
        height: usize,
    ) {
        self.rows.push(FILTER_NONE);
        let mut pixels = PixelSink::new(&mut self.rows);
        for (k, &width) in widths.iter().enumerate() {
            // Past either edge of the symbol (wrapping below 0) is the quiet zone.
            let module = k.wrapping_sub(geometry.margin);
            pixels.run(module >= geometry.symbol || white >> module & 1 == 1, width);
        }
        pixels.finish();
        self.repeats.push(height as u16);
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

    /// The PNG of `symbol`, drawn by `geometry` in `options`' colours.
    pub fn png(&mut self, symbol: &Symbol, geometry: &Geometry, options: &Options) -> Vec<u8> {
        let stride = self.scanlines(symbol, geometry);
        let width = geometry.size as u32;
        let grey = options.is_black_on_white();
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&SIGNATURE);
        chunk(&mut out, b"IHDR", |o| {
            o.extend_from_slice(&width.to_be_bytes());
            o.extend_from_slice(&width.to_be_bytes());
            o.extend_from_slice(if grey {
                &IHDR_FORMAT
            } else {
                &IHDR_FORMAT_PALETTE
            });
        });
        if !grey {
            let (dark, light) = (options.dark.0, options.light.0);
            chunk(&mut out, b"PLTE", |o| {
                o.extend_from_slice(&dark[..3]);
                o.extend_from_slice(&light[..3]);
            });
            if !(options.dark.is_opaque() && options.light.is_opaque()) {
                chunk(&mut out, b"tRNS", |o| {
                    o.extend_from_slice(&[dark[3], light[3]])
                });
            }
        }
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
    pub fn raw(&mut self, symbol: &Symbol, geometry: &Geometry) -> Vec<u8> {
        let stride = self.scanlines(symbol, geometry);
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
    use crate::EcLevel;
    use crate::Options;

    /// Short and long texts (up to the contract's 512 bytes, version 25 at level H), at every
    /// level.
    fn texts_at_every_level() -> Vec<(String, EcLevel)> {
        let texts = [
            "a".to_string(),
            "hello, world".to_string(),
            "x".repeat(100),
            "x".repeat(300),
            "é".repeat(256),
        ];
        EcLevel::ALL
            .into_iter()
            .flat_map(|ec| texts.iter().map(move |t| (t.clone(), ec)))
            .collect()
    }

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
        for (text, ec) in texts_at_every_level() {
            let symbol = crate::fast::symbol::encode(text.as_bytes(), ec, None).unwrap();
            let geometry = Geometry::new(symbol.size(), &Options::default()).unwrap();
            let raw = writer.raw(&symbol, &geometry);
            let stride = writer.scanlines(&symbol, &geometry);
            let (mut a, mut b) = (1u32, 0u32);
            for &x in &raw {
                a = (a + u32::from(x)) % ADLER_MOD;
                b = (b + a) % ADLER_MOD;
            }
            assert_eq!(
                writer.adler32(stride),
                b << 16 | a,
                "level {ec:?}, text {text:?}"
            );
        }
    }

    #[test]
    fn idat_inflates_to_the_raw_image_data() {
        // An independent inflater (miniz_oxide) also checks the zlib header and Adler-32.
        let mut writer = PngWriter::default();
        for (text, ec) in texts_at_every_level() {
            let symbol = crate::fast::symbol::encode(text.as_bytes(), ec, None).unwrap();
            let geometry = Geometry::new(symbol.size(), &Options::default()).unwrap();
            let png = writer.png(&symbol, &geometry, &Options::default());
            let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
            assert_eq!(&png[37..41], b"IDAT");
            let zlib = &png[41..41 + idat_len];
            let inflated = miniz_oxide::inflate::decompress_to_vec_zlib(zlib).expect("inflates");
            assert!(
                inflated == writer.raw(&symbol, &geometry),
                "level {ec:?}, text {text:?}"
            );
        }
    }

    /// Every pixel of the PNG, decoded by an independent decoder (the `image` crate), is the
    /// colour of the module the plan puts there, for uniform and uneven sizes, margins and
    /// colours, with and without alpha.
    #[test]
    fn pixels_are_the_plans_modules_in_the_asked_colours() {
        use crate::{EcLevel, Rgba};
        let mut writer = PngWriter::default();
        let cases: [(Option<u32>, u32, Rgba, Rgba); 6] = [
            (None, 4, Rgba::BLACK, Rgba::WHITE),
            (Some(97), 4, Rgba::BLACK, Rgba::WHITE),
            (
                Some(29),
                4,
                Rgba([0x0b, 0x3d, 0x91, 0xff]),
                Rgba([0xff, 0xee, 0xdd, 0xff]),
            ),
            (
                Some(1000),
                20,
                Rgba([0, 0, 0, 0x80]),
                Rgba([0xff, 0xff, 0xff, 0]),
            ),
            (None, 0, Rgba::BLACK, Rgba([0xff, 0xff, 0xff, 0])),
            (Some(301), 1, Rgba::WHITE, Rgba::BLACK),
        ];
        for text in ["hello", &"é".repeat(256)] {
            for ec in [EcLevel::L, EcLevel::H] {
                let symbol = crate::fast::symbol::encode(text.as_bytes(), ec, None).unwrap();
                for (size, margin, dark, light) in cases {
                    let mut options = Options::default();
                    (options.size, options.margin, options.dark, options.light) =
                        (size, margin, dark, light);
                    let Ok(geometry) = Geometry::new(symbol.size(), &options) else {
                        continue; // size 29 is too small for 256 bytes
                    };
                    let png = writer.png(&symbol, &geometry, &options);
                    let image = image::load_from_memory(&png).unwrap().to_rgba8();
                    assert_eq!(
                        image.dimensions(),
                        (geometry.size as u32, geometry.size as u32)
                    );
                    let across = geometry.across();
                    let module =
                        |i: usize| (i * across / geometry.size).checked_sub(geometry.margin);
                    for (x, y, pixel) in image.enumerate_pixels() {
                        let is_dark = match (module(x as usize), module(y as usize)) {
                            (Some(mx), Some(my)) if mx < symbol.size() && my < symbol.size() => {
                                symbol.rows()[my] >> mx & 1 == 1
                            }
                            _ => false,
                        };
                        let want = if is_dark { dark } else { light };
                        assert_eq!(pixel.0, want.0, "{size:?} {margin} at ({x}, {y})");
                    }
                }
            }
        }
    }
}
