//! No input makes the core panic: any byte string up to 4 KB gives a PNG or a typed error.

use proptest::collection::vec;
use proptest::prelude::*;
use qr_core::{Engine, MAX_TEXT_BYTES, Options, QrError};

proptest! {
    #[test]
    // Half the cases stay near the 512-byte limit, where images are made; half go up to 4 KB.
    fn any_bytes_give_a_png_or_a_typed_error(
        bytes in prop_oneof![vec(any::<u8>(), 0..=600), vec(any::<u8>(), 0..4096)]
    ) {
        let text = String::from_utf8_lossy(&bytes);
        for &engine in Engine::ALL {
            match qr_core::generate(&text, &Options::with_engine(engine)) {
                Ok(png) => {
                    prop_assert!(!text.is_empty() && text.len() <= MAX_TEXT_BYTES);
                    prop_assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
                }
                Err(QrError::Missing) => prop_assert!(text.is_empty()),
                Err(QrError::TooLong) => prop_assert!(text.len() > MAX_TEXT_BYTES),
                Err(other) => prop_assert!(false, "unexpected {other:?} for {} bytes", text.len()),
            }
        }
    }
}
