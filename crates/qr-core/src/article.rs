//! The article's pipeline: `qrcode` at EC level L rendered 8-bit gray with a minimum of 200 x 200
//! px, then the `image` crate's PNG encoder at default compression, no filter.
//!
//! One change, for scanners: `qrcode`'s segment optimiser puts UTF-8 byte pairs that happen to look
//! like Shift-JIS (most Japanese kana do) into Kanji mode, which a scanner (ZXing) then shows as
//! mojibake. Here those pairs stay in byte mode; the rest of `qrcode`'s own `encode_auto` is
//! repeated as it is, so every text without such pairs, the article's 10 texts among them, gets
//! exactly the article's bytes (the tests below compare the encoded bits with `qrcode`'s own for any
//! such text; tests/decode.rs pins the article's PNG sizes).

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, Luma};
use qrcode::bits::Bits;
use qrcode::optimize::{Optimizer, Parser, Segment, total_encoded_len};
use qrcode::types::Mode;
use qrcode::{EcLevel, QrCode, Version};

use crate::{MIN_DEFAULT_PX as MIN_IMAGE_PX, QrError};

pub(crate) fn png(data: &[u8]) -> Result<Vec<u8>, QrError> {
    let failed =
        |stage: &str, e: &dyn std::fmt::Display| QrError::Generation(format!("{stage}: {e}"));
    let bits = bits_without_kanji(data).map_err(|e| failed("qrcode", &e))?;
    let code = QrCode::with_bits(bits, EcLevel::L).map_err(|e| failed("qrcode", &e))?;
    let image = code
        .render::<Luma<u8>>()
        .min_dimensions(MIN_IMAGE_PX, MIN_IMAGE_PX)
        .build();
    let mut out = Vec::with_capacity(1024);
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::NoFilter)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::L8,
        )
        .map_err(|e| failed("png", &e))?;
    Ok(out)
}

/// `qrcode::bits::encode_auto(data, EcLevel::L)` with Kanji segments turned into byte segments
/// before optimising: the same steps, in the same order, on the same version groups.
fn bits_without_kanji(data: &[u8]) -> qrcode::QrResult<Bits> {
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
        if total_bits > capacity(widest)? {
            continue;
        }
        let mut smallest = widest;
        for version in (1..group).rev().map(Version::Normal) {
            if capacity(version)? < total_bits {
                break;
            }
            smallest = version;
        }
        let mut bits = Bits::new(smallest);
        bits.push_segments(data, optimal.into_iter())?;
        bits.push_terminator(EcLevel::L)?;
        return Ok(bits);
    }
    Err(qrcode::types::QrError::DataTooLong)
}

/// The data bits `version` holds at EC level L.
fn capacity(version: Version) -> qrcode::QrResult<usize> {
    Bits::new(version).max_len(EcLevel::L)
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
        let bits = qrcode::bits::encode_auto(data, EcLevel::L).unwrap();
        (bits.version(), bits.into_bytes())
    }

    fn ours(data: &[u8]) -> (Version, Vec<u8>) {
        let bits = bits_without_kanji(data).unwrap();
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

    #[test]
    fn the_stream_reader_sees_upstreams_kanji() {
        let kana = "ありがとうございます".as_bytes();
        let (version, codewords) = upstream(kana);
        assert!(segment_modes(version, &codewords).contains(&Mode::Kanji));
        let (version, codewords) = ours(kana);
        assert_eq!(segment_modes(version, &codewords), [Mode::Byte]);
    }
}
