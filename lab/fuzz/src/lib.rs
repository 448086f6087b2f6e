//! What the fuzz targets share: the core's property, checked for one engine. Each target in
//! `fuzz_targets/` is a thin `fuzz_target!` over a check; lab/fuzz/README.md says what each checks.

use qr_core::{Engine, MAX_TEXT_BYTES, MIN_IMAGE_PX, Options, QrError};
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};

/// Modules of quiet zone on each side (ISO/IEC 18004 §6.3).
const QUIET: usize = 4;

/// One fuzz target per engine (`core_fast`, `core_article`): a new engine fails to compile here
/// until it has its own target.
pub const fn target_of(engine: Engine) -> &'static str {
    match engine {
        Engine::Fast => "core_fast",
        Engine::Article => "core_article",
    }
}

/// Any bytes: the contract's text rule gives a typed input error (empty, then too long, then not
/// UTF-8, in that order), or a text whose PNG with `engine` exists and reads back as exactly
/// those bytes. Panics otherwise.
///
/// Reading back: the PNG is decoded by the `image` crate and must be a square of at least 200 px
/// made of whole `s` x `s` cells of pure black or white (`s` the smallest module size reaching
/// 200 px), a white quiet zone of 4 modules, and a symbol of a QR size (21 to 177 modules); its
/// modules are then read by rqrr's decoder (format, EC level L, Reed-Solomon, byte segments). The
/// cells are exact, so sampling one pixel per module loses nothing, and rqrr's search for a
/// code in a photo (milliseconds per image; `qr_decode::decode`, which the conformance suite
/// runs) is not needed. For the fast engine, the modules must also equal those of qrcodegen, the
/// reference encoder of qr-core's differential tests (same version, same mask choice): rqrr
/// corrects errors, so that catches a wrong module that reading back would hide.
pub fn core(data: &[u8], engine: Engine) {
    let text = match qr_core::text(data) {
        Ok(text) => text,
        Err(error) => {
            assert!(error.is_bad_input(), "{error:?} is not an input error");
            let expected = if data.is_empty() {
                QrError::Missing
            } else if data.len() > MAX_TEXT_BYTES {
                QrError::TooLong
            } else {
                QrError::NotUtf8
            };
            assert_eq!(error, expected, "{} bytes", data.len());
            return;
        }
    };
    let png = match qr_core::png(text, &Options::with_engine(engine)) {
        Ok(png) => png,
        Err(error) => panic!(
            "{engine}: a valid text of {} bytes failed: {error:?}",
            data.len()
        ),
    };
    let modules = modules(&png).unwrap_or_else(|e| panic!("{engine}: the PNG of {data:?}: {e}"));
    let grid = rqrr::Grid::new(rqrr::SimpleGrid::from_func(modules.size, |x, y| {
        modules.dark(x, y)
    }));
    let mut read = Vec::new();
    match grid.decode_to(&mut read) {
        // rqrr gives the format's two EC bits: L is 0b01.
        Ok(meta) => assert_eq!(meta.ecc_level, 1, "{engine}: EC level bits"),
        Err(error) => panic!("{engine}: rqrr cannot read the PNG of {data:?}: {error:?}"),
    }
    assert!(
        read == data,
        "{engine}: the PNG of {data:?} reads back as {read:?}"
    );
    if engine == Engine::Fast {
        let reference = QrCode::encode_segments_advanced(
            &[QrSegment::make_bytes(data)],
            QrCodeEcc::Low,
            Version::MIN,
            Version::MAX,
            None,
            false,
        )
        .expect("512 bytes fit");
        assert_eq!(
            modules.size as i32,
            reference.size(),
            "size against qrcodegen"
        );
        for y in 0..modules.size {
            for x in 0..modules.size {
                let expected = reference.get_module(x as i32, y as i32);
                assert_eq!(
                    modules.dark(x, y),
                    expected,
                    "module ({x}, {y}) against qrcodegen"
                );
            }
        }
    }
}

/// The modules of a QR code image, read from its pixels.
struct Modules {
    /// Width and height in modules, quiet zone excluded.
    size: usize,
    /// Row by row, quiet zone excluded: true = dark.
    dark: Vec<bool>,
}

impl Modules {
    fn dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.size + x]
    }
}

/// Decodes `png` (the `image` crate) and reads its modules, checking that every pixel is pure
/// black or white, every module a uniform square of the contract's size, the quiet zone white.
fn modules(png: &[u8]) -> Result<Modules, String> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| format!("not a PNG: {e}"))?
        .to_luma8();
    let (width, height) = image.dimensions();
    if width != height || width < MIN_IMAGE_PX {
        return Err(format!("{width}x{height}, expected square and >= 200 px"));
    }
    let width = width as usize;
    let dark = |x: usize, y: usize| match image.get_pixel(x as u32, y as u32).0[0] {
        0 => Ok(true),
        255 => Ok(false),
        other => Err(format!("pixel ({x}, {y}) is grey {other}")),
    };
    // The quiet zone is 4 modules, then the finder's dark corner: the first dark pixel on the
    // diagonal gives the module size.
    let mut corner = 0;
    while corner < width && !dark(corner, corner)? {
        corner += 1;
    }
    let scale = corner / QUIET;
    if scale == 0 || !corner.is_multiple_of(QUIET) || !width.is_multiple_of(scale) {
        return Err(format!(
            "no whole module size: corner at {corner} of {width} px"
        ));
    }
    let total = width / scale;
    let size = total.wrapping_sub(2 * QUIET);
    if !(21..=177).contains(&size) || size % 4 != 1 {
        return Err(format!("{size} modules is not a QR size"));
    }
    if scale != (MIN_IMAGE_PX as usize).div_ceil(total) {
        return Err(format!(
            "{scale} px per module; the smallest reaching 200 px is expected"
        ));
    }
    let mut modules = Vec::with_capacity(size * size);
    for my in 0..total {
        for mx in 0..total {
            let cell = dark(mx * scale, my * scale)?;
            for py in my * scale..(my + 1) * scale {
                for px in mx * scale..(mx + 1) * scale {
                    if dark(px, py)? != cell {
                        return Err(format!(
                            "module ({mx}, {my}) is not uniform at ({px}, {py})"
                        ));
                    }
                }
            }
            let inside = (QUIET..QUIET + size).contains(&mx) && (QUIET..QUIET + size).contains(&my);
            if inside {
                modules.push(cell);
            } else if cell {
                return Err(format!("quiet zone module ({mx}, {my}) is dark"));
            }
        }
    }
    Ok(Modules {
        size,
        dark: modules,
    })
}
