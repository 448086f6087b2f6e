//! The image options of the contract (`docs/api.md`, "Options"): QuickChart's `format`, `size`,
//! `margin`, `ecLevel`, `dark` and `light`, each with its rule and its message, written once for
//! every Rust caller. A host hands [`Options::set`] the decoded value of a query parameter or a
//! flag; a binding handed typed values checks them with [`Options::check`].

use std::fmt;
use std::str::FromStr;

use crate::{Engine, QrError};

/// The smallest `size`, in pixels: version 1 (21 modules) with no margin.
pub const MIN_SIZE: u32 = 21;
/// The largest `size`, in pixels: it bounds the most expensive request.
pub const MAX_SIZE: u32 = 1000;
/// The largest `margin`, in modules.
pub const MAX_MARGIN: u32 = 20;
/// The quiet zone when none is asked for, in modules (ISO/IEC 18004 §6.3 asks for 4).
pub const DEFAULT_MARGIN: u32 = 4;
/// Without `size`, each module is the smallest whole number of pixels giving at least this many.
pub const MIN_DEFAULT_PX: u32 = 200;

/// One option's query parameter, in the order the contract checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionName {
    /// `format`: `png` or `svg`.
    Format,
    /// `size`: the image's width and height in pixels.
    Size,
    /// `margin`: the quiet zone in modules.
    Margin,
    /// `ecLevel`: `L`, `M`, `Q` or `H`.
    EcLevel,
    /// `dark`: the colour of dark modules.
    Dark,
    /// `light`: the colour of light modules and the quiet zone.
    Light,
}

impl OptionName {
    /// Every option, in the order the contract checks them.
    pub const ALL: [OptionName; 6] = [
        OptionName::Format,
        OptionName::Size,
        OptionName::Margin,
        OptionName::EcLevel,
        OptionName::Dark,
        OptionName::Light,
    ];

    /// The query parameter's exact name.
    pub fn name(self) -> &'static str {
        match self {
            OptionName::Format => "format",
            OptionName::Size => "size",
            OptionName::Margin => "margin",
            OptionName::EcLevel => "ecLevel",
            OptionName::Dark => "dark",
            OptionName::Light => "light",
        }
    }

    /// The option whose query parameter is exactly `name`.
    pub fn from_param(name: &[u8]) -> Option<OptionName> {
        OptionName::ALL
            .into_iter()
            .find(|option| option.name().as_bytes() == name)
    }

    /// The 400 body when the value breaks the rule: it names the parameter and what it accepts.
    pub fn rule(self) -> &'static str {
        match self {
            OptionName::Format => "\"format\" must be png or svg",
            OptionName::Size => "\"size\" must be a whole number of pixels from 21 to 1000",
            OptionName::Margin => "\"margin\" must be a whole number of modules from 0 to 20",
            OptionName::EcLevel => "\"ecLevel\" must be L, M, Q or H",
            OptionName::Dark => {
                "\"dark\" must be a hex colour RRGGBB or RRGGBBAA, with or without a leading #"
            }
            OptionName::Light => {
                "\"light\" must be a hex colour RRGGBB or RRGGBBAA, with or without a leading #"
            }
        }
    }
}

impl fmt::Display for OptionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The image format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// `image/png`.
    #[default]
    Png,
    /// `image/svg+xml`.
    Svg,
}

impl Format {
    /// The name the `format` parameter takes (any case).
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }

    /// The answer's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
        }
    }
}

impl FromStr for Format {
    type Err = QrError;

    fn from_str(value: &str) -> Result<Format, QrError> {
        [Format::Png, Format::Svg]
            .into_iter()
            .find(|format| value.eq_ignore_ascii_case(format.name()))
            .ok_or(QrError::BadOption(OptionName::Format))
    }
}

/// The error-correction level (ISO/IEC 18004 §7.5.1): L, M, Q and H restore about 7, 15, 25 and
/// 30% of the codewords.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EcLevel {
    /// About 7%: the smallest symbol, and the article's.
    #[default]
    L,
    /// About 15%.
    M,
    /// About 25%.
    Q,
    /// About 30%.
    H,
}

impl EcLevel {
    /// Every level, from the least correction to the most.
    pub const ALL: [EcLevel; 4] = [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H];

    /// The level's letter.
    pub fn name(self) -> &'static str {
        match self {
            EcLevel::L => "L",
            EcLevel::M => "M",
            EcLevel::Q => "Q",
            EcLevel::H => "H",
        }
    }
}

impl FromStr for EcLevel {
    type Err = QrError;

    fn from_str(value: &str) -> Result<EcLevel, QrError> {
        EcLevel::ALL
            .into_iter()
            .find(|level| value.eq_ignore_ascii_case(level.name()))
            .ok_or(QrError::BadOption(OptionName::EcLevel))
    }
}

/// A colour with alpha, `[r, g, b, a]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    /// Opaque black, the default dark colour.
    pub const BLACK: Rgba = Rgba([0, 0, 0, 0xff]);
    /// Opaque white, the default light colour.
    pub const WHITE: Rgba = Rgba([0xff, 0xff, 0xff, 0xff]);

    /// `RRGGBB` or `RRGGBBAA`, any case, with or without a leading `#`.
    pub fn from_hex(value: &[u8], option: OptionName) -> Result<Rgba, QrError> {
        let bad = || QrError::BadOption(option);
        let digits = value.strip_prefix(b"#").unwrap_or(value);
        if digits.len() != 6 && digits.len() != 8 {
            return Err(bad());
        }
        let mut rgba = [0xff; 4];
        for (channel, pair) in rgba.iter_mut().zip(digits.chunks_exact(2)) {
            let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *channel = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(Rgba(rgba))
    }

    /// Whether the colour is fully opaque.
    pub fn is_opaque(self) -> bool {
        self.0[3] == 0xff
    }
}

impl fmt::Display for Rgba {
    /// Lowercase `rrggbbaa`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b, a] = self.0;
        write!(f, "{r:02x}{g:02x}{b:02x}{a:02x}")
    }
}

/// How to make the image: the engine and the contract's options, each at its default unless
/// asked for. Grows without breaking callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Options {
    /// The implementation to use.
    pub engine: Engine,
    /// PNG or SVG.
    pub format: Format,
    /// The exact width and height in pixels, or `None` for the smallest whole module size
    /// giving at least [`MIN_DEFAULT_PX`].
    pub size: Option<u32>,
    /// The quiet zone, in modules.
    pub margin: u32,
    /// The error-correction level.
    pub ec_level: EcLevel,
    /// The colour of dark modules.
    pub dark: Rgba,
    /// The colour of light modules and the quiet zone.
    pub light: Rgba,
}

impl Default for Options {
    fn default() -> Options {
        Options::with_engine(Engine::default())
    }
}

impl Options {
    /// Every option at its default, with `engine`.
    pub fn with_engine(engine: Engine) -> Options {
        Options {
            engine,
            format: Format::Png,
            size: None,
            margin: DEFAULT_MARGIN,
            ec_level: EcLevel::L,
            dark: Rgba::BLACK,
            light: Rgba::WHITE,
        }
    }

    /// Sets `option` from its decoded query value (or a flag's), by the contract's rule for it.
    pub fn set(&mut self, option: OptionName, value: &[u8]) -> Result<(), QrError> {
        let bad = || QrError::BadOption(option);
        let ascii = std::str::from_utf8(value).map_err(|_| bad())?;
        match option {
            OptionName::Format => self.format = ascii.parse()?,
            OptionName::Size => self.size = Some(whole_number(ascii, MIN_SIZE..=MAX_SIZE, option)?),
            OptionName::Margin => self.margin = whole_number(ascii, 0..=MAX_MARGIN, option)?,
            OptionName::EcLevel => self.ec_level = ascii.parse()?,
            OptionName::Dark => self.dark = Rgba::from_hex(value, option)?,
            OptionName::Light => self.light = Rgba::from_hex(value, option)?,
        }
        Ok(())
    }

    /// Checks the values a binding was handed as numbers: `size` and `margin` in their ranges.
    pub fn check(&self) -> Result<(), QrError> {
        if self
            .size
            .is_some_and(|size| !(MIN_SIZE..=MAX_SIZE).contains(&size))
        {
            return Err(QrError::BadOption(OptionName::Size));
        }
        if self.margin > MAX_MARGIN {
            return Err(QrError::BadOption(OptionName::Margin));
        }
        Ok(())
    }

    /// Whether both colours are the defaults, black on white.
    pub fn is_black_on_white(&self) -> bool {
        self.dark == Rgba::BLACK && self.light == Rgba::WHITE
    }
}

/// At most 4 ASCII digits (leading zeros allowed), within `range`.
fn whole_number(
    value: &str,
    range: std::ops::RangeInclusive<u32>,
    option: OptionName,
) -> Result<u32, QrError> {
    let digits = !value.is_empty() && value.len() <= 4 && value.bytes().all(|b| b.is_ascii_digit());
    value
        .parse()
        .ok()
        .filter(|n| digits && range.contains(n))
        .ok_or(QrError::BadOption(option))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(option: OptionName, value: &str) -> Result<Options, QrError> {
        let mut options = Options::default();
        options.set(option, value.as_bytes()).map(|()| options)
    }

    #[test]
    fn formats_and_levels_in_any_case() {
        assert_eq!(set(OptionName::Format, "SVG").unwrap().format, Format::Svg);
        assert_eq!(set(OptionName::Format, "png").unwrap().format, Format::Png);
        for bad in ["", "jpeg", "svg ", "sv"] {
            assert_eq!(
                set(OptionName::Format, bad),
                Err(QrError::BadOption(OptionName::Format))
            );
        }
        assert_eq!(set(OptionName::EcLevel, "h").unwrap().ec_level, EcLevel::H);
        for bad in ["", "X", "HH", "0", "high"] {
            assert_eq!(
                set(OptionName::EcLevel, bad),
                Err(QrError::BadOption(OptionName::EcLevel))
            );
        }
    }

    #[test]
    fn sizes_and_margins_are_bounded_whole_numbers() {
        assert_eq!(set(OptionName::Size, "21").unwrap().size, Some(21));
        assert_eq!(set(OptionName::Size, "0300").unwrap().size, Some(300));
        assert_eq!(set(OptionName::Size, "1000").unwrap().size, Some(1000));
        for bad in [
            "", "20", "1001", "01000", "+300", "-1", "3e2", "300.0", " 300", "300px", "٣",
        ] {
            assert_eq!(
                set(OptionName::Size, bad),
                Err(QrError::BadOption(OptionName::Size)),
                "{bad:?}"
            );
        }
        assert_eq!(set(OptionName::Margin, "0").unwrap().margin, 0);
        assert_eq!(set(OptionName::Margin, "20").unwrap().margin, 20);
        for bad in ["", "21", "-0", "4.0", "99999"] {
            assert_eq!(
                set(OptionName::Margin, bad),
                Err(QrError::BadOption(OptionName::Margin)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn colours_are_six_or_eight_hex_digits() {
        let dark = |v| set(OptionName::Dark, v).map(|o| o.dark);
        assert_eq!(dark("0B3D91"), Ok(Rgba([0x0b, 0x3d, 0x91, 0xff])));
        assert_eq!(dark("#0b3d9180"), Ok(Rgba([0x0b, 0x3d, 0x91, 0x80])));
        assert_eq!(
            set(OptionName::Light, "ffffff00")
                .unwrap()
                .light
                .to_string(),
            "ffffff00"
        );
        for bad in [
            "", "#", "fff", "##000000", "0000000", "00000g", "+12345", "é0000",
        ] {
            assert_eq!(
                dark(bad),
                Err(QrError::BadOption(OptionName::Dark)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn names_and_messages() {
        assert_eq!(
            OptionName::from_param(b"ecLevel"),
            Some(OptionName::EcLevel)
        );
        assert_eq!(OptionName::from_param(b"eclevel"), None);
        assert_eq!(
            QrError::BadOption(OptionName::Size).to_string(),
            "\"size\" must be a whole number of pixels from 21 to 1000"
        );
        assert_eq!(
            QrError::SizeTooSmall { min: 29 }.to_string(),
            "\"size\" must be at least 29 pixels for this text, ecLevel and margin"
        );
        assert!(QrError::SizeTooSmall { min: 29 }.is_bad_input());
    }

    #[test]
    fn check_bounds_typed_values() {
        let mut options = Options::default();
        assert_eq!(options.check(), Ok(()));
        options.size = Some(20);
        assert_eq!(options.check(), Err(QrError::BadOption(OptionName::Size)));
        options.size = Some(1000);
        options.margin = 21;
        assert_eq!(options.check(), Err(QrError::BadOption(OptionName::Margin)));
    }
}
