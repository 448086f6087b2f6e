//! The options as 16 bytes, for the boundaries that carry bytes (the Wasm ABI's options record and
//! the sidecar's request frame): every host encodes this one layout.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 1 | `format`: 0 png, 1 svg |
//! | 1 | 1 | `ecLevel`: 0 L, 1 M, 2 Q, 3 H |
//! | 2 | 1 | `margin`, in modules |
//! | 3 | 1 | 0 (reserved) |
//! | 4 | 4 | `size` in pixels, unsigned little-endian; 0 = the default |
//! | 8 | 4 | `dark`: red, green, blue, alpha |
//! | 12 | 4 | `light`: red, green, blue, alpha |

use crate::{EcLevel, Engine, Format, OptionName, Options, QrError, Rgba};

/// The record's length in bytes.
pub const LEN: usize = 16;

/// The record of `options` (all but the engine, which each boundary names its own way).
pub fn encode(options: &Options) -> [u8; LEN] {
    let mut record = [0u8; LEN];
    record[0] = options.format as u8;
    record[1] = options.ec_level as u8;
    record[2] = options.margin.min(u32::from(u8::MAX)) as u8;
    record[4..8].copy_from_slice(&options.size.unwrap_or(0).to_le_bytes());
    record[8..12].copy_from_slice(&options.dark.0);
    record[12..16].copy_from_slice(&options.light.0);
    record
}

/// The options of a record, checked ([`Options::check`]); a byte no option has is that
/// option's [`QrError::BadOption`].
pub fn decode(engine: Engine, record: &[u8; LEN]) -> Result<Options, QrError> {
    let bad = |option| QrError::BadOption(option);
    let format = match record[0] {
        0 => Format::Png,
        1 => Format::Svg,
        _ => return Err(bad(OptionName::Format)),
    };
    let ec_level = *EcLevel::ALL
        .get(usize::from(record[1]))
        .ok_or(bad(OptionName::EcLevel))?;
    if record[3] != 0 {
        return Err(bad(OptionName::Margin));
    }
    let size = u32::from_le_bytes([record[4], record[5], record[6], record[7]]);
    let rgba = |at: usize| Rgba([record[at], record[at + 1], record[at + 2], record[at + 3]]);
    let options = Options {
        engine,
        format,
        size: (size != 0).then_some(size),
        margin: u32::from(record[2]),
        ec_level,
        dark: rgba(8),
        light: rgba(12),
    };
    options.check()?;
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_refuse_what_no_option_is() {
        let mut options = Options::with_engine(Engine::Article);
        assert_eq!(encode(&options), {
            let mut r = [0u8; 16];
            r[2] = 4;
            r[8..12].copy_from_slice(&[0, 0, 0, 0xff]);
            r[12..16].copy_from_slice(&[0xff; 4]);
            r
        });
        options.format = Format::Svg;
        options.size = Some(1000);
        options.margin = 20;
        options.ec_level = EcLevel::H;
        options.dark = Rgba([1, 2, 3, 4]);
        options.light = Rgba([5, 6, 7, 8]);
        let bytes = encode(&options);
        assert_eq!(bytes[4..8], 1000u32.to_le_bytes());
        assert_eq!(decode(Engine::Article, &bytes), Ok(options));
        let broken = |at: usize, value: u8| {
            let mut b = bytes;
            b[at] = value;
            decode(Engine::Article, &b)
        };
        assert_eq!(broken(0, 2), Err(QrError::BadOption(OptionName::Format)));
        assert_eq!(broken(1, 4), Err(QrError::BadOption(OptionName::EcLevel)));
        assert_eq!(broken(2, 21), Err(QrError::BadOption(OptionName::Margin)));
        assert_eq!(broken(3, 1), Err(QrError::BadOption(OptionName::Margin)));
        assert_eq!(broken(5, 4), Err(QrError::BadOption(OptionName::Size)));
    }
}
