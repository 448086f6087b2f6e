//! Fast-engine PNGs of seeded random texts decode back to their text with an independent decoder
//! (qr-decode: image + rqrr); the fast PNG is 1-bit gray and, over the targets, at most 400 bytes.

use qr_core::{Engine, Options};

mod common;

use common::Rng;

/// A random valid UTF-8 text of 1..=512 bytes, mixing ASCII, 2-, 3- and 4-byte characters.
fn random_text(rng: &mut Rng) -> String {
    let target = 1 + rng.below(512) as usize;
    let mut text = String::new();
    loop {
        let c = match rng.below(4) {
            0 | 1 => char::from(b' ' + rng.below(95) as u8),
            2 => char::from_u32(0xA0 + rng.below(0x700) as u32).unwrap_or('é'),
            _ => char::from_u32(0x4E00 + rng.below(0x5000) as u32).unwrap_or('漢'),
        };
        if text.len() + c.len_utf8() > target {
            break;
        }
        text.push(c);
    }
    if text.is_empty() {
        text.push('x');
    }
    text
}

#[test]
fn random_texts_round_trip_through_rqrr() {
    let mut rng = Rng(0xDEC0DE);
    let options = Options::with_engine(Engine::Fast);
    for _ in 0..300 {
        let text = random_text(&mut rng);
        let png = qr_core::generate(&text, &options).expect("a PNG");
        assert_eq!(
            qr_decode::decode(&png).unwrap(),
            text.as_bytes(),
            "text {text:?}"
        );
    }
}

#[test]
fn fast_png_is_1_bit_gray_and_square() {
    let png = qr_core::generate("hello", &Options::with_engine(Engine::Fast)).unwrap();
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    // Version 1: 21 + 8 modules at 7 px.
    assert_eq!((width, height), (203, 203));
    assert_eq!((png[24], png[25]), (1, 0), "bit depth 1, grayscale");
}

#[test]
fn fast_pngs_of_the_targets_average_at_most_400_bytes() {
    let texts: Vec<&str> = include_str!("../../../contract/article-texts.txt")
        .lines()
        .collect();
    let options = Options::with_engine(Engine::Fast);
    let total: usize = texts
        .iter()
        .map(|t| qr_core::generate(t, &options).unwrap().len())
        .sum();
    let mean = total as f64 / texts.len() as f64;
    assert!(mean <= 400.0, "mean {mean:.1} bytes");
}
