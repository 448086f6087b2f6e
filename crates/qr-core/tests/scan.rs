//! As a phone scanner reads it: every engine's PNG of every text in the contract's text sets
//! (the article's, the edge cases, and `scan`: Japanese, Chinese, Korean, accented Latin, Greek,
//! Cyrillic, Arabic, Hebrew, Devanagari, emoji, mixed scripts) is read back as exactly that text
//! by ZXing, and as exactly its UTF-8 bytes by rqrr and jsqr (qr-decode).
//!
//! Needs the Node decoders (`cargo xtask build`); run by `cargo xtask test`, or with
//! `cargo test -p qr-core --test scan -- --include-ignored`.

use qr_core::{Engine, Options};
use qr_harness::contract::Contract;

#[test]
#[ignore = "needs `cargo xtask build` (the Node decoders); run by `cargo xtask test`"]
fn every_text_reads_back_as_itself_in_every_decoder_and_engine() {
    let contract = Contract::load().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for set in ["article", "edge", "scan"] {
        for text in contract.texts(set) {
            for &engine in Engine::ALL {
                let png = qr_core::generate(text, &Options::with_engine(engine)).unwrap();
                checked += 1;
                if let Err(e) = qr_decode::check(&png, text, false) {
                    failures.push(format!("{engine}, {set} {text:?}: {e}"));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} PNGs checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "needs `cargo xtask build` (the Node decoders); run by `cargo xtask test`"]
fn the_scanner_check_sees_kanji_mode_mojibake() {
    // The `qrcode` crate's own encoding of kana (Kanji mode) reads as the right bytes in rqrr but
    // as mojibake in ZXing: the check must fail on it, or the test above proves nothing.
    use image::Luma;
    let kana = "ありがとうございます";
    let code = qrcode::QrCode::with_error_correction_level(kana, qrcode::EcLevel::L).unwrap();
    let image = code.render::<Luma<u8>>().min_dimensions(200, 200).build();
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(qr_decode::decode(&png).unwrap(), kana.as_bytes());
    let err = qr_decode::check(&png, kana, false).unwrap_err();
    assert!(err.contains("ZXing shows"), "{err}");
}
