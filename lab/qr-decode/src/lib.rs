//! Test support: a QR code PNG read back by three decoders that share nothing with the encoders
//! under test: `image` + `rqrr` and npm `jsqr` give the payload bytes, ZXing (the decoder inside
//! most phone scanners) the text a person sees. [`check`] asks all three. Used as a
//! dev-dependency by every tier's tests. [`load`] is the PNG as gray pixels, and
//! [`grid::ModuleGrid`] reads an exactly drawn one module by module (the fuzz targets' reader).
//!
//! Run its own tests with `cargo test -p qr-decode` (the Node decoders need `cargo xtask build`).

use std::collections::HashSet;
use std::path::Path;
use std::sync::{LazyLock, Mutex, PoisonError};

pub mod grid;
pub mod node;

/// The smallest width the contract allows (the same number as `qr_core::MIN_IMAGE_PX`, restated
/// here so that this crate does not depend on the code it checks).
const MIN_IMAGE_PX: u32 = 200;

/// Checks that `png` reads back as exactly `text` in all three decoders: rqrr's and jsqr's bytes
/// are its UTF-8 bytes and ZXing shows the same text. `tier0` allows for npm `qrcode`'s fractional
/// module sizes (tier-0 only): rqrr may retry at twice the size and jsqr on resampled centres.
///
/// The decoders are deterministic, so the same bytes read back once are not read again in this
/// process: every Rust tier answers the same PNG for the same text, and the conformance suite
/// asks about each of them.
pub fn check(png: &[u8], text: &str, tier0: bool) -> Result<(), String> {
    /// A PNG, the text it was read back as, and whether tier-0's allowances applied.
    type ReadBack = (Vec<u8>, String, bool);
    static READ_BACK: LazyLock<Mutex<HashSet<ReadBack>>> = LazyLock::new(Mutex::default);
    let read_back = || READ_BACK.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (png.to_vec(), text.to_owned(), tier0);
    if read_back().contains(&key) {
        return Ok(());
    }
    check_uncached(png, text, tier0)?;
    read_back().insert(key);
    Ok(())
}

/// [`check`] itself: all three decoders, every time.
fn check_uncached(png: &[u8], text: &str, tier0: bool) -> Result<(), String> {
    let by_rqrr = if tier0 {
        decode_allowing_upscale(png)
    } else {
        decode(png)
    }?;
    let readings = node::read(png, tier0)?;
    let by_jsqr = readings.jsqr?;
    let by_zxing = readings.zxing?;
    let shown = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    if by_rqrr != text.as_bytes() || by_jsqr != text.as_bytes() || by_zxing != text {
        return Err(format!(
            "expected {text:?}; rqrr reads {:?}, jsqr reads {:?}, ZXing shows {by_zxing:?}",
            shown(&by_rqrr),
            shown(&by_jsqr)
        ));
    }
    Ok(())
}

/// Decodes `png`, which must be a square image of at least 200 px holding exactly one QR code at
/// error-correction level L, and returns its payload bytes; else says what is wrong.
pub fn decode(png: &[u8]) -> Result<Vec<u8>, String> {
    decode_gray(load(png)?).map_err(|(_, e)| e)
}

/// Like [`decode`], but an image in which no QR code is found is tried once more at twice the size
/// (nearest neighbour: the same pixels, bigger). npm `qrcode` (tier-0) scales modules by a fraction
/// to fill 200 px, 2 or 3 px each, which rqrr sometimes cannot find at that size.
pub fn decode_allowing_upscale(png: &[u8]) -> Result<Vec<u8>, String> {
    let image = load(png)?;
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

/// The PNG as 8-bit gray, checked to be square and at least 200 px wide (the contract's minimum).
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

/// Finds exactly one QR code in `image`, at EC level L, and returns its data; on failure, how
/// many QR codes were found and why.
fn decode_gray(image: image::GrayImage) -> Result<Vec<u8>, (usize, String)> {
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    if grids.len() != 1 {
        let found = grids.len();
        return Err((
            found,
            format!("{found} QR codes found in the image, expected 1"),
        ));
    }
    read_level_l(&grids[0]).map_err(|e| (1, e))
}

/// The data of the QR code in `grid` (format, error correction, segments), which must say EC
/// level L.
fn read_level_l<G: rqrr::BitGrid>(grid: &rqrr::Grid<G>) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let meta = grid
        .decode_to(&mut data)
        .map_err(|e| format!("rqrr cannot decode it: {e}"))?;
    // rqrr gives the format's two EC bits: L is 0b01.
    if meta.ecc_level != 1 {
        return Err(format!("EC level bits {}, expected 1 (L)", meta.ecc_level));
    }
    Ok(data)
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
