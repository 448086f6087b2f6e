//! The article's pipeline: `qrcode` (EC level L unless asked otherwise) rendered 8-bit gray with a
//! minimum of 200 x 200 px, then the `image` crate's PNG encoder at default compression, no filter.
//! Options: `qrcode` makes the symbol at any level; the pixels follow the shared plan
//! (`geometry.rs`), the SVG the shared writer (`svg.rs`).
//!
//! One change, for scanners: `qrcode`'s segment optimiser puts UTF-8 byte pairs that happen to look
//! like Shift-JIS (most Japanese kana do) into Kanji mode, which a scanner (ZXing) then shows as
//! mojibake. Here those pairs stay in byte mode; the rest of `qrcode`'s own `encode_auto` is
//! repeated as it is, so every text without such pairs, the article's 10 texts among them, gets
//! exactly the article's bytes (the tests below compare the encoded bits with `qrcode`'s own for any
//! such text; tests/decode.rs pins the article's PNG sizes).

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use qrcode::bits::Bits;
use qrcode::optimize::{Optimizer, Parser, Segment, total_encoded_len};
use qrcode::types::{Color, Mode};
use qrcode::{EcLevel, QrCode, Version};

use crate::geometry::Geometry;
use crate::{Format, Options, QrError, svg};

pub(crate) fn generate(data: &[u8], options: &Options) -> Result<Vec<u8>, QrError> {
    let failed =
        |stage: &str, e: &dyn std::fmt::Display| QrError::Generation(format!("{stage}: {e}"));
    let ec = ec_level(options.ec_level);
    let bits = bits_without_kanji(data, ec).map_err(|e| failed("qrcode", &e))?;
    let code = QrCode::with_bits(bits, ec).map_err(|e| failed("qrcode", &e))?;
    let geometry = Geometry::new(code.width(), options)?;
    let dark = |x: usize, y: usize| code[(x, y)] == Color::Dark;
    match options.format {
        Format::Svg => Ok(svg::svg(&geometry, options, dark)),
        Format::Png => {
            let (pixels, colour) = pixels(&geometry, options, dark);
            let size = geometry.size as u32;
            let mut out = Vec::with_capacity(1024);
            PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::NoFilter)
                .write_image(&pixels, size, size, colour)
                .map_err(|e| failed("png", &e))?;
            Ok(out)
        }
    }
}

/// The image's samples by the shared plan, 8 bits each: greyscale for black on white (the
/// article's), else RGB, or RGBA when a colour has alpha. `qrcode`'s own renderers scale by whole
/// modules with a 4-or-0 module quiet zone, so they cannot draw `size` or `margin`; the tests
/// show these are their pixels wherever they can.
fn pixels(
    geometry: &Geometry,
    options: &Options,
    dark: impl Fn(usize, usize) -> bool,
) -> (Vec<u8>, ExtendedColorType) {
    let (colour, dark_px, light_px): (_, &[u8], &[u8]) = if options.is_black_on_white() {
        (ExtendedColorType::L8, &[0], &[255])
    } else if options.dark.is_opaque() && options.light.is_opaque() {
        (
            ExtendedColorType::Rgb8,
            &options.dark.0[..3],
            &options.light.0[..3],
        )
    } else {
        (ExtendedColorType::Rgba8, &options.dark.0, &options.light.0)
    };
    let widths: Vec<usize> = geometry.widths().collect();
    let module = |k: usize| {
        k.checked_sub(geometry.margin)
            .filter(|&m| m < geometry.symbol)
    };
    let row_len = geometry.size * dark_px.len();
    let mut out = Vec::with_capacity(row_len * geometry.size);
    for (k, &height) in widths.iter().enumerate() {
        let start = out.len();
        for (j, &width) in widths.iter().enumerate() {
            let is_dark = matches!((module(j), module(k)), (Some(x), Some(y)) if dark(x, y));
            let px = if is_dark { dark_px } else { light_px };
            for _ in 0..width {
                out.extend_from_slice(px);
            }
        }
        for _ in 1..height {
            out.extend_from_within(start..start + row_len);
        }
    }
    (out, colour)
}

fn ec_level(level: crate::EcLevel) -> EcLevel {
    match level {
        crate::EcLevel::L => EcLevel::L,
        crate::EcLevel::M => EcLevel::M,
        crate::EcLevel::Q => EcLevel::Q,
        crate::EcLevel::H => EcLevel::H,
    }
}

/// `qrcode::bits::encode_auto(data, ec)` with Kanji segments turned into byte segments before
/// optimising: the same steps, in the same order, on the same version groups.
fn bits_without_kanji(data: &[u8], ec: EcLevel) -> qrcode::QrResult<Bits> {
    let segments: Vec<Segment> = Parser::new(data)
        .map(|segment| match segment.mode {
            Mode::Kanji => Segment {
                mode: Mode::Byte,
                ..segment
            },
            _ => segment,
        })
        .collect();
    // The widest version of each group whose character-count fields share a length.
    for group in [9, 26, 40] {
        let widest = Version::Normal(group);
        let optimal: Vec<Segment> = Optimizer::new(segments.iter().copied(), widest).collect();
        let total_bits = total_encoded_len(&optimal, widest);
        if total_bits > capacity(widest, ec)? {
            continue;
        }
        let mut smallest = widest;
        for version in (1..group).rev().map(Version::Normal) {
            if capacity(version, ec)? < total_bits {
                break;
            }
            smallest = version;
        }
        let mut bits = Bits::new(smallest);
        bits.push_segments(data, optimal.into_iter())?;
        bits.push_terminator(ec)?;
        return Ok(bits);
    }
    Err(qrcode::types::QrError::DataTooLong)
}

/// The data bits `version` holds at level `ec`.
fn capacity(version: Version, ec: EcLevel) -> qrcode::QrResult<usize> {
    Bits::new(version).max_len(ec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn has_kanji_pairs(data: &[u8]) -> bool {
        Parser::new(data).any(|segment| segment.mode == Mode::Kanji)
    }

    /// What `qrcode` itself would encode, as (version, data codewords).
    fn upstream(data: &[u8]) -> (Version, Vec<u8>) {
        upstream_at(data, EcLevel::L)
    }

    fn upstream_at(data: &[u8], ec: EcLevel) -> (Version, Vec<u8>) {
        let bits = qrcode::bits::encode_auto(data, ec).unwrap();
        (bits.version(), bits.into_bytes())
    }

    fn ours(data: &[u8]) -> (Version, Vec<u8>) {
        ours_at(data, EcLevel::L)
    }

    fn ours_at(data: &[u8], ec: EcLevel) -> (Version, Vec<u8>) {
        let bits = bits_without_kanji(data, ec).unwrap();
        (bits.version(), bits.into_bytes())
    }

    #[test]
    fn kana_would_be_kanji_upstream_and_is_byte_mode_here() {
        let kana = "ありがとうございます".as_bytes();
        assert!(has_kanji_pairs(kana));
        assert_ne!(
            ours(kana),
            upstream(kana),
            "upstream must differ (Kanji mode)"
        );
        // Byte mode: mode indicator 0100, then the 8-bit count of bytes.
        let (_, codewords) = ours(kana);
        assert_eq!(codewords[0] >> 4, 0b0100);
        assert_eq!(
            usize::from(codewords[0] & 0x0f) << 4 | usize::from(codewords[1] >> 4),
            kana.len()
        );
    }

    proptest! {
        /// Any text that has no Shift-JIS-like pairs gets exactly `qrcode`'s encoding, in every
        /// version group (lengths up to 512 bytes reach version 19).
        #[test]
        fn without_kanji_pairs_the_bits_are_upstreams(text in "[ -~]{1,512}|[a-zA-Z0-9 ]{1,40}|[0-9]{1,512}|[A-Z0-9 $%*+./:-]{1,512}|[ -~éüß€🦀]{1,120}") {
            let data = text.as_bytes();
            prop_assume!(!has_kanji_pairs(data));
            prop_assert_eq!(ours(data), upstream(data));
        }

        /// The same at every level.
        #[test]
        fn at_every_level_the_bits_are_upstreams(text in "[ -~]{1,512}|[0-9]{1,512}|[ -~é€🦀]{1,120}", level in 0..4usize) {
            let data = text.as_bytes();
            prop_assume!(!has_kanji_pairs(data));
            let ec = [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H][level];
            prop_assert_eq!(ours_at(data, ec), upstream_at(data, ec));
        }

        /// Any bytes at all are encoded without a Kanji segment.
        #[test]
        fn no_bytes_are_ever_kanji(data in proptest::collection::vec(any::<u8>(), 1..512)) {
            let (version, codewords) = ours(&data);
            let modes = segment_modes(version, &codewords);
            prop_assert!(!modes.contains(&Mode::Kanji), "{:?}", modes);
        }
    }

    /// The modes of the segments in a data bit stream (ISO/IEC 18004 §7.4: a 4-bit mode indicator,
    /// then a character count whose width depends on the mode and the version group).
    fn segment_modes(version: Version, codewords: &[u8]) -> Vec<Mode> {
        let bit = |i: usize| {
            codewords
                .get(i / 8)
                .map_or(0, |b| usize::from(b >> (7 - i % 8) & 1))
        };
        let read = |at: &mut usize, n: usize| {
            (0..n).fold(0, |v, _| {
                *at += 1;
                v << 1 | bit(*at - 1)
            })
        };
        let Version::Normal(v) = version else {
            unreachable!()
        };
        let group = usize::from(v > 9) + usize::from(v > 26);
        let (mut at, mut modes) = (0, Vec::new());
        while at + 4 <= codewords.len() * 8 {
            let (mode, count_bits, bits_per) = match read(&mut at, 4) {
                0b0001 => (Mode::Numeric, [10, 12, 14][group], 0),
                0b0010 => (Mode::Alphanumeric, [9, 11, 13][group], 0),
                0b0100 => (Mode::Byte, [8, 16, 16][group], 8),
                0b1000 => (Mode::Kanji, [8, 10, 12][group], 13),
                _ => break, // the terminator
            };
            let count = read(&mut at, count_bits);
            at += match mode {
                Mode::Numeric => count / 3 * 10 + [0, 4, 7][count % 3],
                Mode::Alphanumeric => count / 2 * 11 + count % 2 * 6,
                _ => count * bits_per,
            };
            modes.push(mode);
        }
        modes
    }

    /// The PNG's pixels, decoded (as RGBA).
    fn decoded(png: &[u8]) -> image::RgbaImage {
        image::load_from_memory(png).unwrap().to_rgba8()
    }

    /// Where `qrcode`'s own renderer can draw a request (whole module sizes, a 4-or-0 module quiet
    /// zone, any colours), the shared plan draws the same pixels.
    #[test]
    fn the_plan_draws_qrcodes_own_pixels() {
        use image::{Luma, Rgba};
        let text = "https://tourofrust.com";
        for ec in [crate::EcLevel::L, crate::EcLevel::H] {
            let code = QrCode::with_bits(
                bits_without_kanji(text.as_bytes(), ec_level(ec)).unwrap(),
                ec_level(ec),
            )
            .unwrap();
            for margin in [0, 4] {
                let mut options = Options::default();
                options.ec_level = ec;
                options.margin = margin;
                let theirs = code
                    .render::<Luma<u8>>()
                    .quiet_zone(margin == 4)
                    .min_dimensions(200, 200)
                    .build();
                let ours = decoded(&generate(text.as_bytes(), &options).unwrap());
                assert_eq!(ours, image::DynamicImage::ImageLuma8(theirs).to_rgba8());
                options.dark = crate::Rgba([0x0b, 0x3d, 0x91, 0xff]);
                options.light = crate::Rgba([0xff, 0xee, 0xdd, 0x40]);
                let theirs = code
                    .render::<Rgba<u8>>()
                    .dark_color(Rgba(options.dark.0))
                    .light_color(Rgba(options.light.0))
                    .quiet_zone(margin == 4)
                    .module_dimensions(3, 3)
                    .build();
                options.size = Some(theirs.width());
                assert_eq!(
                    decoded(&generate(text.as_bytes(), &options).unwrap()),
                    theirs
                );
            }
        }
    }

    #[test]
    fn the_stream_reader_sees_upstreams_kanji() {
        let kana = "ありがとうございます".as_bytes();
        let (version, codewords) = upstream(kana);
        assert!(segment_modes(version, &codewords).contains(&Mode::Kanji));
        let (version, codewords) = ours(kana);
        assert_eq!(segment_modes(version, &codewords), [Mode::Byte]);
    }
}
