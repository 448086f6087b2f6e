//! What the fast engine's unit tests share: the one seeded generator (`tests/common/mod.rs`,
//! compiled in here too, so that failures reproduce everywhere the same way) and the one
//! reference oracle, the `qrcodegen` crate at the same level, version and mask, with its mask
//! penalty ported line for line (qrcodegen keeps that private).

#[path = "../../tests/common/mod.rs"]
mod common;

pub use common::Rng;
use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};

use crate::EcLevel;

/// A random byte string of 1..=512 bytes: printable ASCII or, as often, arbitrary bytes.
pub fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = 1 + rng.below(512) as usize;
    let ascii = rng.below(2) == 0;
    (0..len)
        .map(|_| {
            if ascii {
                b' ' + rng.below(95) as u8
            } else {
                rng.next() as u8
            }
        })
        .collect()
}

/// qrcodegen's symbol of `data`: one byte segment, error-correction level `ec` (not boosted),
/// the smallest of versions 1..=40, and `mask` or, if `None`, the mask qrcodegen chooses.
pub fn reference(data: &[u8], ec: EcLevel, mask: Option<u8>) -> QrCode {
    let segment = QrSegment::make_bytes(data);
    let ecc = match ec {
        EcLevel::L => QrCodeEcc::Low,
        EcLevel::M => QrCodeEcc::Medium,
        EcLevel::Q => QrCodeEcc::Quartile,
        EcLevel::H => QrCodeEcc::High,
    };
    QrCode::encode_segments_advanced(
        &[segment],
        ecc,
        Version::MIN,
        Version::MAX,
        mask.map(Mask::new),
        false,
    )
    .expect("fits")
}

/// qrcodegen's run-history scoring of one line of `size` modules (`dark(i)`: module `i` is
/// dark): its N1 points and how many finder-like patterns it holds.
pub fn reference_line(size: usize, dark: impl Fn(usize) -> bool) -> (u32, u32) {
    let size_i = size as i32;
    let mut n1 = 0;
    let mut n3 = 0;
    let mut history = [0i32; 7];
    let add = |history: &mut [i32; 7], mut len: i32| {
        if history[0] == 0 {
            len += size_i;
        }
        history.copy_within(0..6, 1);
        history[0] = len;
    };
    let count = |h: &[i32; 7]| {
        let n = h[1];
        let core = n > 0 && h[2] == n && h[3] == n * 3 && h[4] == n && h[5] == n;
        u32::from(core && h[0] >= n * 4 && h[6] >= n)
            + u32::from(core && h[6] >= n * 4 && h[0] >= n)
    };
    let (mut color, mut run) = (false, 0);
    for x in 0..size {
        let dark = dark(x);
        if dark == color {
            run += 1;
            if run == 5 {
                n1 += 3;
            } else if run > 5 {
                n1 += 1;
            }
        } else {
            add(&mut history, run);
            if !color {
                n3 += count(&history);
            }
            color = dark;
            run = 1;
        }
    }
    if color {
        add(&mut history, run);
        run = 0;
    }
    add(&mut history, run + size_i);
    (n1, n3 + count(&history))
}

/// qrcodegen's mask penalty of a `size` x `size` grid (`dark(x, y)`: the module at column `x`,
/// row `y` is dark).
pub fn reference_penalty(size: usize, dark: impl Fn(usize, usize) -> bool) -> u32 {
    let mut result = 0;
    for a in 0..size {
        // Row a, then column a.
        for (n1, finders) in [
            reference_line(size, |b| dark(b, a)),
            reference_line(size, |b| dark(a, b)),
        ] {
            result += n1 + 40 * finders;
        }
    }
    for y in 0..size - 1 {
        for x in 0..size - 1 {
            let c = dark(x, y);
            if c == dark(x + 1, y) && c == dark(x, y + 1) && c == dark(x + 1, y + 1) {
                result += 3;
            }
        }
    }
    let dark = (0..size)
        .flat_map(|y| (0..size).map(move |x| (x, y)))
        .filter(|&(x, y)| dark(x, y))
        .count() as i32;
    let total = (size * size) as i32;
    let k = ((dark * 20 - total * 10).abs() + total - 1) / total - 1;
    result + 10 * k as u32
}
