//! What the fuzz targets share: the core's property, checked for one engine. Each target in
//! `fuzz_targets/` is a thin `fuzz_target!` over a check; lab/fuzz/README.md says what each checks.

use qr_core::{Engine, MAX_TEXT_BYTES, Options, QrError};
use qr_decode::grid::ModuleGrid;
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};

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
/// Reading back: `qr_decode::grid::ModuleGrid` reads the PNG module by module, checking every
/// pixel (a square of at least 200 px made of whole `s` x `s` cells of pure black or white, `s`
/// the smallest module size reaching 200 px, a white quiet zone of 4 modules, a symbol of a QR
/// size), and its modules are read by rqrr's decoder (format, EC level L, Reed-Solomon, byte
/// segments) without rqrr's search for a code in a photo (milliseconds per image;
/// `qr_decode::decode`, which the conformance suite runs). For the fast engine, the modules must
/// also equal those of qrcodegen, the
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
    let png = match qr_core::generate(text, &Options::with_engine(engine)) {
        Ok(png) => png,
        Err(error) => panic!(
            "{engine}: a valid text of {} bytes failed: {error:?}",
            data.len()
        ),
    };
    let modules =
        ModuleGrid::read(&png).unwrap_or_else(|e| panic!("{engine}: the PNG of {data:?}: {e}"));
    let read = modules
        .decode()
        .unwrap_or_else(|e| panic!("{engine}: the PNG of {data:?}: {e}"));
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
            modules.size() as i32,
            reference.size(),
            "size against qrcodegen"
        );
        for y in 0..modules.size() {
            for x in 0..modules.size() {
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
