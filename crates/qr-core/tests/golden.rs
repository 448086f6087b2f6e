//! The article engine's pixels for one text, compared against a committed fixture of modules.
//!
//! Bytes may legitimately change with a PNG encoder; pixels must not. Regenerate with
//! `RUSTY_QR_BLESS=1 cargo test -p qr-core --test golden` only when a change is intended.

use qr_core::{Engine, Options};

const TEXT: &str = "https://github.com/pretzelhammer/rust-blog";
const FIXTURE: &str = "tests/fixtures/rust-blog.article.txt";

/// The image as rows of `#` (black) and `.` (white) modules, each module `scale` px square.
fn modules(png: &[u8]) -> String {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let width = image.width();
    // Quiet zone of 4 modules: the first dark pixel on the diagonal is the finder's corner.
    let first_dark = (0..width)
        .find(|&i| image.get_pixel(i, i)[0] < 128)
        .unwrap();
    let scale = first_dark / 4;
    assert_eq!(width % scale, 0, "whole modules");
    let mut out = format!("{} px, {} px per module\n", width, scale);
    for my in 0..width / scale {
        for mx in 0..width / scale {
            let (x0, y0) = (mx * scale, my * scale);
            let dark = image.get_pixel(x0, y0)[0] < 128;
            for y in y0..y0 + scale {
                for x in x0..x0 + scale {
                    assert_eq!(
                        image.get_pixel(x, y)[0] < 128,
                        dark,
                        "module ({mx}, {my}) is uniform"
                    );
                }
            }
            out.push(if dark { '#' } else { '.' });
        }
        out.push('\n');
    }
    out
}

#[test]
fn article_pixels_match_fixture() {
    let png = qr_core::generate(TEXT, &Options::with_engine(Engine::Article)).unwrap();
    let actual = modules(&png);
    if std::env::var_os("RUSTY_QR_BLESS").is_some() {
        std::fs::write(FIXTURE, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(FIXTURE).expect("fixture present");
    assert_eq!(actual, expected);
}
