//! Fuzz target: the fast engine's PNG writer and DEFLATE encoder against independent code. For
//! any payload bytes and mask, the PNG's chunks must have correct CRCs (a bitwise CRC-32 written
//! here), IHDR must say square, 1-bit greyscale; the IDAT's zlib stream must have a valid header,
//! inflate with miniz_oxide to both the writer's own scanlines and the symbol's modules expanded
//! here pixel by pixel, and end with their Adler-32 (summed here: built with `--cfg fuzzing`, as
//! cargo-fuzz does by default, miniz_oxide skips that check); and a writer reused across calls
//! (as the service reuses one per thread) must write the same bytes as a fresh one.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use qr_core::internals::{PngWriter, Symbol, encode};

/// Modules of quiet zone on each side (ISO/IEC 18004 §6.3).
const QUIET: usize = 4;

thread_local! {
    static REUSED: RefCell<PngWriter> = RefCell::new(PngWriter::default());
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the mask: 0..=7 that mask, anything else the best one (as the engine).
    let Some((&first, payload)) = data.split_first() else {
        return;
    };
    let mask = (first < 8).then_some(first);
    let Some(symbol) = encode(payload, mask) else {
        // The fast engine stops at the version that holds the contract's longest text (version 15
        // holds 520 bytes in byte mode at EC level L), not at version 40's 2953.
        assert!(
            payload.len() > qr_core::MAX_TEXT_BYTES,
            "{} bytes are within the contract's limit and got no symbol",
            payload.len()
        );
        return;
    };
    let mut fresh = PngWriter::default();
    let png = fresh.png(&symbol);
    let reused = REUSED.with(|writer| writer.borrow_mut().png(&symbol));
    assert!(png == reused, "a reused writer writes other bytes");

    let (width, zlib) = parse(&png);
    let image = miniz_oxide::inflate::decompress_to_vec_zlib(&zlib)
        .unwrap_or_else(|e| panic!("miniz_oxide cannot inflate the IDAT: {e:?}"));
    assert!(
        image == fresh.raw(&symbol),
        "inflated != the writer's scanlines"
    );
    assert!(
        image == expand(&symbol, width),
        "inflated != the symbol's modules"
    );
    let trailer = u32::from_be_bytes(zlib[zlib.len() - 4..].try_into().unwrap());
    assert_eq!(trailer, adler32(&image), "the zlib stream's Adler-32");
});

/// Checks the PNG's structure (signature; IHDR, one IDAT, IEND, each CRC) and returns the
/// width and the IDAT's data.
fn parse(png: &[u8]) -> (usize, Vec<u8>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "signature");
    let mut at = 8;
    let mut chunks = Vec::new();
    while at < png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + len];
        let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
        assert_eq!(crc, crc32(&png[at + 4..at + 8 + len]), "CRC of {kind:?}");
        chunks.push((kind, data));
        at += 12 + len;
    }
    assert_eq!(at, png.len(), "bytes after the last chunk");
    let kinds: Vec<&[u8]> = chunks.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(kinds, [&b"IHDR"[..], b"IDAT", b"IEND"], "chunks");
    let ihdr = chunks[0].1;
    let width = u32::from_be_bytes(ihdr[0..4].try_into().unwrap());
    let height = u32::from_be_bytes(ihdr[4..8].try_into().unwrap());
    assert_eq!(width, height, "square");
    assert!(width >= qr_core::MIN_IMAGE_PX, "at least 200 px");
    assert_eq!(&ihdr[8..], [1, 0, 0, 0, 0], "1-bit greyscale, no interlace");
    assert!(chunks[2].1.is_empty(), "IEND is empty");
    let zlib = chunks[1].1;
    // RFC 1950 §2.2: method 8 with a window of at most 32 KiB, no preset dictionary, FCHECK.
    assert!(zlib.len() >= 6, "a zlib stream of {} bytes", zlib.len());
    let (cmf, flg) = (zlib[0], zlib[1]);
    assert!(cmf & 0x0F == 8 && cmf >> 4 <= 7, "CMF {cmf:#04x}");
    assert!(flg & 0x20 == 0, "FDICT set");
    assert_eq!((u16::from(cmf) << 8 | u16::from(flg)) % 31, 0, "FCHECK");
    (width as usize, zlib.to_vec())
}

/// The image data of `symbol` at `width` px, from its modules: every scanline is filter byte 0
/// then one bit per pixel, most significant first, 1 = white (padding bits white too).
fn expand(symbol: &Symbol, width: usize) -> Vec<u8> {
    let size = symbol.size();
    let modules = size + 2 * QUIET;
    let scale = width / modules;
    assert_eq!(scale * modules, width, "whole pixels per module");
    assert_eq!(
        scale,
        200usize.div_ceil(modules),
        "the smallest scale giving 200 px"
    );
    let dark = |x: usize, y: usize| {
        (QUIET..QUIET + size).contains(&x)
            && (QUIET..QUIET + size).contains(&y)
            && symbol.rows()[y - QUIET] >> (x - QUIET) & 1 == 1
    };
    let stride = 1 + width.div_ceil(8);
    let mut image = Vec::with_capacity(stride * width);
    for py in 0..width {
        let mut line = vec![0xFFu8; stride];
        line[0] = 0;
        for px in 0..width {
            if dark(px / scale, py / scale) {
                line[1 + px / 8] &= !(0x80 >> (px % 8));
            }
        }
        image.extend_from_slice(&line);
    }
    image
}

/// Adler-32 (RFC 1950 §2.2), one byte at a time.
fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    b << 16 | a
}

/// CRC-32 as PNG defines it (§5.5), one bit at a time: nothing shared with the writer's tables.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                crc >> 1 ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
