//! Test support: a QR code image read back by three decoders that share nothing with the encoders
//! under test: `image` + `rqrr` and npm `jsqr` give the payload bytes, ZXing (the decoder inside
//! most phone scanners) the text a person sees; rqrr and ZXing also read the EC level.
//! [`check_image`] asks all three about a PNG or an SVG (rasterised by resvg, [`picture`]), and
//! [`check_pixels`] holds its pixels to a [`Plan`] (size, quiet zone, colours). Used as a
//! dev-dependency by every tier's tests. [`load`] is a PNG as gray pixels, and
//! [`grid::ModuleGrid`] reads an exactly drawn one module by module (the fuzz targets' reader).
//!
//! Run its own tests with `cargo test -p qr-decode` (the Node decoders need `cargo xtask build`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex, PoisonError};

pub mod grid;
pub mod node;
pub mod picture;

pub use picture::{Format, Plan};

/// The smallest width the contract allows (the same number as `qr_core::MIN_IMAGE_PX`, restated
/// here so that this crate does not depend on the code it checks).
const MIN_IMAGE_PX: u32 = 200;

/// An error-correction level (ISO/IEC 18004 §7.5.1), as the decoders report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcLevel {
    L,
    M,
    Q,
    H,
}

impl EcLevel {
    /// The level of a symbol's two format bits (ISO/IEC 18004 Table 12): L 01, M 00, Q 11, H 10.
    fn from_format_bits(bits: u16) -> Option<EcLevel> {
        [EcLevel::M, EcLevel::L, EcLevel::H, EcLevel::Q]
            .get(usize::from(bits))
            .copied()
    }
}

impl FromStr for EcLevel {
    type Err = String;

    /// `L`, `M`, `Q` or `H`, as ZXing and the contract write them.
    fn from_str(level: &str) -> Result<EcLevel, String> {
        match level {
            "L" => Ok(EcLevel::L),
            "M" => Ok(EcLevel::M),
            "Q" => Ok(EcLevel::Q),
            "H" => Ok(EcLevel::H),
            _ => Err(format!("{level:?} is not an EC level (L, M, Q or H)")),
        }
    }
}

impl fmt::Display for EcLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A QR code as rqrr reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Its payload bytes.
    pub data: Vec<u8>,
    pub ec_level: EcLevel,
    /// Its version, 1 to 40: `17 + 4 * version` modules across.
    pub version: u32,
}

impl Symbol {
    /// Its width and height in modules, quiet zone excluded.
    pub fn modules(&self) -> u32 {
        17 + 4 * self.version
    }
}

/// Checks that `png` reads back as exactly `text` at EC level L in all three decoders: see
/// [`check_image`].
pub fn check(png: &[u8], text: &str, tier0: bool) -> Result<(), String> {
    check_image(png, Format::Png, text, EcLevel::L, tier0).map(drop)
}

/// Checks that `image` (a PNG, or an SVG, rasterised) reads back as exactly `text` at `ec_level`
/// in all three decoders, given the image as a phone sees it ([`picture::as_seen`]): rqrr's and
/// jsqr's bytes are its UTF-8 bytes, ZXing shows the same text, and rqrr and ZXing read the level.
/// Returns the symbol rqrr read. `tier0` allows for npm `qrcode`'s fractional module sizes (tier-0
/// only): rqrr may retry at twice the size and jsqr on resampled centres.
///
/// The decoders are deterministic, so the same image is not read again in this process: every
/// Rust tier answers the same bytes for the same request, and the conformance suite asks about
/// each of them.
pub fn check_image(
    image: &[u8],
    format: Format,
    text: &str,
    ec_level: EcLevel,
    tier0: bool,
) -> Result<Symbol, String> {
    let (symbol, readings) = read_back(image, format, tier0)?;
    let by_jsqr = readings.jsqr?;
    let (by_zxing, zxing_level) = readings.zxing?;
    let shown = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    if symbol.data != text.as_bytes()
        || by_jsqr != text.as_bytes()
        || by_zxing != text
        || (symbol.ec_level, zxing_level) != (ec_level, ec_level)
    {
        return Err(format!(
            "expected {text:?} at EC level {ec_level}; rqrr reads {:?} at {}, jsqr reads {:?}, \
             ZXing shows {by_zxing:?} at {zxing_level}",
            shown(&symbol.data),
            symbol.ec_level,
            shown(&by_jsqr)
        ));
    }
    Ok(symbol)
}

/// What the three decoders read in `image`, once per process for each image.
fn read_back(
    image: &[u8],
    format: Format,
    tier0: bool,
) -> Result<(Symbol, node::Readings), String> {
    /// An image, its format and whether tier-0's allowances applied.
    type Asked = (Vec<u8>, Format, bool);
    static READ_BACK: LazyLock<Mutex<HashMap<Asked, (Symbol, node::Readings)>>> =
        LazyLock::new(Mutex::default);
    let read_back = || READ_BACK.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (image.to_vec(), format, tier0);
    if let Some(known) = read_back().get(&key) {
        return Ok(known.clone());
    }
    let read = read_back_uncached(image, format, tier0)?;
    read_back().insert(key, read.clone());
    Ok(read)
}

/// [`read_back`] itself: all three decoders, every time. The Node decoders get the answer's own
/// PNG when it is what a phone sees already (opaque, at least 200 px), else a PNG of that.
fn read_back_uncached(
    image: &[u8],
    format: Format,
    tier0: bool,
) -> Result<(Symbol, node::Readings), String> {
    let pixels = picture::rgba(image, format)?;
    let (width, height) = pixels.dimensions();
    if width != height {
        return Err(format!(
            "the image is {width}x{height} px, expected a square"
        ));
    }
    let seen = picture::as_seen(&pixels);
    let as_is = format == Format::Png
        && width >= MIN_IMAGE_PX
        && pixels.pixels().all(|pixel| pixel.0[3] == u8::MAX);
    let seen_png = if as_is {
        image.to_vec()
    } else {
        let mut png = Vec::new();
        seen.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| format!("cannot encode the image as seen: {e}"))?;
        png
    };
    let symbol = if tier0 {
        decode_allowing_upscale(seen)
    } else {
        decode_gray(seen).map_err(|(_, e)| e)
    }?;
    Ok((symbol, node::read(&seen_png, tier0)?))
}

/// Checks the pixels of `image` (a PNG, or an SVG, rasterised) against `plan`, for a symbol
/// `modules` wide ([`Plan::check`]). A plan an image has met is not checked again in this process.
pub fn check_pixels(image: &[u8], format: Format, plan: &Plan, modules: u32) -> Result<(), String> {
    /// An image, its format, the plan and the symbol's modules.
    type Met = (Vec<u8>, Format, Plan, u32);
    static MET: LazyLock<Mutex<HashSet<Met>>> = LazyLock::new(Mutex::default);
    let met = || MET.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (image.to_vec(), format, *plan, modules);
    if met().contains(&key) {
        return Ok(());
    }
    plan.check(&picture::rgba(image, format)?, format, modules)?;
    met().insert(key);
    Ok(())
}

/// Decodes `png`, which must be a square image of at least 200 px holding exactly one QR code at
/// error-correction level L, and returns its payload bytes; else says what is wrong.
pub fn decode(png: &[u8]) -> Result<Vec<u8>, String> {
    decode_gray(load(png)?)
        .map_err(|(_, e)| e)
        .and_then(level_l_data)
}

/// Like [`decode_gray`], but an image in which no QR code is found is tried once more at twice the
/// size (nearest neighbour: the same pixels, bigger). npm `qrcode` (tier-0) scales modules by a
/// fraction to fill 200 px, 2 or 3 px each, which rqrr sometimes cannot find at that size.
fn decode_allowing_upscale(image: image::GrayImage) -> Result<Symbol, String> {
    match decode_gray(image.clone()) {
        Err((0, _)) => {
            let (width, height) = image.dimensions();
            let bigger = image::imageops::resize(
                &image,
                width * 2,
                height * 2,
                image::imageops::FilterType::Nearest,
            );
            decode_gray(bigger).map_err(|(_, e)| e)
        }
        result => result.map_err(|(_, e)| e),
    }
}

/// The PNG as 8-bit gray, checked to be square and at least 200 px wide (the contract's minimum
/// without `size`).
pub fn load(png: &[u8]) -> Result<image::GrayImage, String> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| format!("not a PNG: {e}"))?
        .to_luma8();
    let (width, height) = image.dimensions();
    if width != height || width < MIN_IMAGE_PX {
        return Err(format!(
            "the image is {width}x{height}, expected square and >= {MIN_IMAGE_PX} px"
        ));
    }
    Ok(image)
}

/// Finds exactly one QR code in `image` and reads it (format, error correction, segments); on
/// failure, how many QR codes were found and why.
fn decode_gray(image: image::GrayImage) -> Result<Symbol, (usize, String)> {
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    if grids.len() != 1 {
        let found = grids.len();
        return Err((
            found,
            format!("{found} QR codes found in the image, expected 1"),
        ));
    }
    read_symbol(&grids[0]).map_err(|e| (1, e))
}

/// The QR code in `grid`: its data (format, error correction, segments), level and version.
fn read_symbol<G: rqrr::BitGrid>(grid: &rqrr::Grid<G>) -> Result<Symbol, String> {
    let mut data = Vec::new();
    let meta = grid
        .decode_to(&mut data)
        .map_err(|e| format!("rqrr cannot decode it: {e}"))?;
    let ec_level = EcLevel::from_format_bits(meta.ecc_level)
        .ok_or_else(|| format!("EC level bits {}", meta.ecc_level))?;
    let version = u32::try_from(meta.version.0).map_err(|e| e.to_string())?;
    Ok(Symbol {
        data,
        ec_level,
        version,
    })
}

/// The data of `symbol`, which must say EC level L.
fn level_l_data(symbol: Symbol) -> Result<Vec<u8>, String> {
    if symbol.ec_level != EcLevel::L {
        return Err(format!("EC level {}, expected L", symbol.ec_level));
    }
    Ok(symbol.data)
}

/// The repository root, where the Node decoders run: this crate is lab/qr-decode, two levels
/// below it. (Computed here: qr-decode depends on no crate of the repository.)
fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("lab/qr-decode sits two levels below the repository root")
}

#[cfg(test)]
mod tests {
    use super::*;
    use EcLevel::{H, L, M, Q};

    #[test]
    fn the_format_bits_name_the_level() {
        let levels = [0b01, 0b00, 0b11, 0b10].map(EcLevel::from_format_bits);
        assert_eq!(levels, [L, M, Q, H].map(Some));
        assert_eq!(EcLevel::from_format_bits(4), None);
        assert_eq!("Q".parse(), Ok(Q));
        assert!(
            "q".parse::<EcLevel>().is_err(),
            "ZXing writes them in capitals"
        );
    }

    #[test]
    fn rejects_what_is_not_a_square_qr_png() {
        assert!(decode(b"not a png").unwrap_err().starts_with("not a PNG"));
        let mut blank = Vec::new();
        image::GrayImage::from_pixel(200, 200, image::Luma([255]))
            .write_to(
                &mut std::io::Cursor::new(&mut blank),
                image::ImageFormat::Png,
            )
            .unwrap();
        assert_eq!(
            decode(&blank).unwrap_err(),
            "0 QR codes found in the image, expected 1"
        );
        let mut narrow = Vec::new();
        image::GrayImage::new(100, 100)
            .write_to(
                &mut std::io::Cursor::new(&mut narrow),
                image::ImageFormat::Png,
            )
            .unwrap();
        assert!(
            decode(&narrow)
                .unwrap_err()
                .contains("expected square and >= 200 px")
        );
    }

    #[test]
    #[ignore = "needs `cargo xtask build` (the Node decoders); run by `cargo xtask test`"]
    fn the_node_decoders_refuse_what_is_not_a_qr_png_and_keep_answering() {
        for _ in 0..2 {
            let readings = node::read(b"not a png", false).unwrap();
            assert!(
                readings
                    .jsqr
                    .unwrap_err()
                    .starts_with("jsqr cannot read it")
            );
            assert!(
                readings
                    .zxing
                    .unwrap_err()
                    .starts_with("ZXing cannot read it")
            );
        }
        assert!(check(b"not a png", "x", false).is_err());
    }
}
