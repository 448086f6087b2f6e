//! The fast engine's symbols equal qrcodegen's module for module (same version, same mask, and
//! the same automatic mask choice), over the target texts and 1,000 seeded random texts.

use qr_core::fast;
use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};

const TARGETS: &str = include_str!("../../../bench/targets.txt");

mod common;

use common::Rng;

fn reference(data: &[u8], mask: Option<u8>) -> QrCode {
    let segment = QrSegment::make_bytes(data);
    QrCode::encode_segments_advanced(
        &[segment],
        QrCodeEcc::Low,
        Version::MIN,
        Version::MAX,
        mask.map(Mask::new),
        false,
    )
    .expect("fits")
}

fn assert_same(data: &[u8], mask: Option<u8>) {
    let ours = fast::encode(data, mask).expect("fits");
    let theirs = reference(data, mask);
    assert_eq!(ours.size() as i32, theirs.size(), "size, data {data:?}");
    for y in 0..ours.size() {
        for x in 0..ours.size() {
            assert_eq!(
                ours.module(x, y),
                theirs.get_module(x as i32, y as i32),
                "module ({x}, {y}), mask {mask:?}, data {data:?}"
            );
        }
    }
    assert_eq!(
        ours.mask(),
        theirs.mask().value(),
        "mask choice, mask {mask:?}, data {data:?}"
    );
}

/// Random bytes of 1..=512 bytes, some runs of ASCII, some arbitrary.
fn random_texts(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
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
        })
        .collect()
}

/// qrcodegen's penalty score, ported line for line (its own is private).
fn reference_penalty(symbol: &fast::Symbol) -> i32 {
    let size = symbol.size() as i32;
    let module = |x: i32, y: i32| symbol.module(x as usize, y as usize);
    let mut result = 0;
    for transpose in [false, true] {
        for a in 0..size {
            let mut run_color = false;
            let mut run = 0;
            let mut history = [0i32; 7];
            let add = |history: &mut [i32; 7], mut len: i32| {
                if history[0] == 0 {
                    len += size;
                }
                history.copy_within(0..6, 1);
                history[0] = len;
            };
            let count = |h: &[i32; 7]| {
                let n = h[1];
                let core = n > 0 && h[2] == n && h[3] == n * 3 && h[4] == n && h[5] == n;
                i32::from(core && h[0] >= n * 4 && h[6] >= n)
                    + i32::from(core && h[6] >= n * 4 && h[0] >= n)
            };
            for b in 0..size {
                let dark = if transpose {
                    module(a, b)
                } else {
                    module(b, a)
                };
                if dark == run_color {
                    run += 1;
                    if run == 5 {
                        result += 3;
                    } else if run > 5 {
                        result += 1;
                    }
                } else {
                    add(&mut history, run);
                    if !run_color {
                        result += count(&history) * 40;
                    }
                    run_color = dark;
                    run = 1;
                }
            }
            if run_color {
                add(&mut history, run);
                run = 0;
            }
            add(&mut history, run + size);
            result += count(&history) * 40;
        }
    }
    for y in 0..size - 1 {
        for x in 0..size - 1 {
            let c = module(x, y);
            if c == module(x + 1, y) && c == module(x, y + 1) && c == module(x + 1, y + 1) {
                result += 3;
            }
        }
    }
    let dark = (0..size)
        .flat_map(|y| (0..size).map(move |x| (x, y)))
        .filter(|&(x, y)| module(x, y))
        .count() as i32;
    let total = size * size;
    result + 10 * (((dark * 20 - total * 10).abs() + total - 1) / total - 1)
}

#[test]
fn penalty_equals_reference() {
    for (i, data) in random_texts(7, 200).iter().enumerate() {
        let symbol = fast::encode(data, Some((i % 8) as u8)).unwrap();
        assert_eq!(
            symbol.penalty() as i32,
            reference_penalty(&symbol),
            "data {data:?}"
        );
    }
}

#[test]
fn targets_equal_reference_for_every_mask_and_auto() {
    for text in TARGETS.lines() {
        for mask in 0..8 {
            assert_same(text.as_bytes(), Some(mask));
        }
        assert_same(text.as_bytes(), None);
    }
}

#[test]
fn random_texts_equal_reference() {
    let mut rng = Rng(0x5EED);
    for data in random_texts(0x0123_4567_89AB_CDEF, 1000) {
        assert_same(&data, None);
        assert_same(&data, Some(rng.below(8) as u8));
    }
}

#[test]
fn every_length_equals_reference() {
    // Every length crosses every version boundary up to the contract's limit.
    for len in 1..=512 {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        assert_same(&data, None);
    }
}

#[test]
fn too_long_for_the_engine_is_none() {
    assert!(fast::encode(&vec![b'a'; 4000], None).is_none());
    assert!(fast::encode(b"a", Some(8)).is_none());
}
