//! Every PNG the core makes decodes back to exactly its text with an independent decoder (rqrr).

use qr_core::{Engine, Options, QrError};

const TARGETS: &str = include_str!("../../../contract/article-texts.txt");

/// Decodes a PNG with an independent decoder (qr-decode: image + rqrr; square, >= 200 px, EC L).
fn decode(png: &[u8]) -> Vec<u8> {
    qr_decode::decode(png).expect("a QR code PNG")
}

fn assert_round_trip(text: &str) {
    for &engine in Engine::ALL {
        let png = qr_core::generate(text, &Options::with_engine(engine)).expect("a PNG");
        assert_eq!(
            decode(&png),
            text.as_bytes(),
            "engine {engine}, text {text:?}"
        );
    }
}

#[test]
fn target_texts_round_trip() {
    for text in TARGETS.lines() {
        assert_round_trip(text);
    }
}

#[test]
fn longest_ascii_text_round_trips() {
    let text: String = (0..512)
        .map(|i| char::from(b'!' + (i % 94) as u8))
        .collect();
    assert_round_trip(&text);
}

#[test]
fn cjk_text_at_the_limit_round_trips() {
    let text: String = "漢字仮名交じり文".chars().cycle().take(170).collect();
    assert_eq!(text.len(), 510);
    assert_round_trip(&text);
}

#[test]
fn emoji_and_nul_round_trip() {
    assert_round_trip("🦀 rust 🚀");
    assert_round_trip("a\0b");
    assert_round_trip("\0");
}

#[test]
fn article_png_is_8_bit_gray() {
    let png = qr_core::generate("hello", &Options::with_engine(Engine::Article)).unwrap();
    let decoder = image::codecs::png::PngDecoder::new(std::io::Cursor::new(&png)).unwrap();
    use image::ImageDecoder;
    assert_eq!(decoder.color_type(), image::ColorType::L8);
}

#[test]
fn limits_give_typed_errors_with_contract_messages() {
    let options = Options::default();
    assert_eq!(qr_core::generate("", &options), Err(QrError::Missing));
    assert_eq!(QrError::Missing.to_string(), "missing \"text\" query param");
    let too_long = "a".repeat(513);
    assert_eq!(
        qr_core::generate(&too_long, &options),
        Err(QrError::TooLong)
    );
    assert_eq!(QrError::TooLong.to_string(), "text must be <= 512 bytes");
    // 171 three-byte characters are 513 bytes: the limit counts bytes, not characters.
    assert_eq!(
        qr_core::generate(&"漢".repeat(171), &options),
        Err(QrError::TooLong)
    );
    assert!(qr_core::generate(&"a".repeat(512), &options).is_ok());
}

/// The article's pipeline is pinned (qrcode 0.14.1, image 0.25.10): its PNG sizes are too.
/// Their mean, 778.2 bytes, is the article's "avg response" of 778 B.
#[test]
fn article_png_sizes_match_the_article() {
    let sizes: Vec<usize> = TARGETS
        .lines()
        .map(|text| {
            qr_core::generate(text, &Options::with_engine(Engine::Article))
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [757, 814, 750, 772, 783, 774, 768, 772, 808, 784]);
}
