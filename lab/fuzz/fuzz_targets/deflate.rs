//! Fuzz target: the fast engine's PNG writer and DEFLATE encoder against independent code. For
//! any payload bytes, level, mask, size and margin, the PNG's chunks must have correct CRCs (a bitwise CRC-32 written
//! here), IHDR must say square, 1-bit greyscale; the IDAT's zlib stream must have a valid header,
//! inflate with miniz_oxide to both the writer's own scanlines and the symbol's modules expanded
//! here pixel by pixel, and end with their Adler-32 (summed here: built with `--cfg fuzzing`, as
//! cargo-fuzz does by default, miniz_oxide skips that check); and a writer reused across calls
//! (as the service reuses one per thread) must write the same bytes as a fresh one.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use qr_core::internals::{Geometry, PngWriter, Symbol, encode};
use qr_core::{Options, QrError};

thread_local! {
    static REUSED: RefCell<PngWriter> = RefCell::new(PngWriter::default());
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the EC level (its top two bits: L, M, Q, H) and the mask (the low six:
    // 0..=7 that mask, anything else the best one, as the engine).
    // Then two bytes pick the size (0: the default, else 21..=1000) and one the margin (0..=20).
    let [first, size_lo, size_hi, margin, payload @ ..] = data else {
        return;
    };
    let first = *first;
    let mut options = Options::default();
    let size = u16::from_le_bytes([*size_lo, *size_hi]);
    options.size = (size != 0).then(|| 21 + u32::from(size) % 980);
    options.margin = u32::from(*margin) % 21;
    let ec = qr_core::EcLevel::ALL[usize::from(first >> 6)];
    let mask = (first & 0x3F < 8).then_some(first & 0x3F);
    let Some(symbol) = encode(payload, ec, mask) else {
        // The fast engine stops at the version that holds the contract's longest text at every
        // level (version 25 holds 535 bytes in byte mode at EC level H, 1273 at L), not at version
        // 40's 2953.
        assert!(
            payload.len() > qr_core::MAX_TEXT_BYTES,
            "{} bytes are within the contract's limit and got no symbol",
            payload.len()
        );
        return;
    };
    let geometry = match Geometry::new(symbol.size(), &options) {
        Ok(geometry) => geometry,
        Err(QrError::SizeTooSmall { min }) => {
            let across = symbol.size() + 2 * options.margin as usize;
            assert!(options.size < Some(across as u32) && min == across as u32);
            return;
        }
        Err(err) => panic!("{err:?}"),
    };
    let mut fresh = PngWriter::default();
    let png = fresh.png(&symbol, &geometry, &options);
    let reused = REUSED.with(|writer| writer.borrow_mut().png(&symbol, &geometry, &options));
    assert!(png == reused, "a reused writer writes other bytes");

    let (width, zlib) = parse(&png);
    let image = miniz_oxide::inflate::decompress_to_vec_zlib(&zlib)
        .unwrap_or_else(|e| panic!("miniz_oxide cannot inflate the IDAT: {e:?}"));
    assert!(
        image == fresh.raw(&symbol, &geometry),
        "inflated != the writer's scanlines"
    );
    assert!(
        image
            == expand(
                &symbol,
                width,
                options.margin as usize,
                options.size.is_none()
            ),
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

/// The image data of `symbol` at `width` px with `margin` modules of quiet zone, from its modules:
/// pixel i shows module floor(i * W / width) of the W = size + 2 margin across; every scanline is
/// filter byte 0 then one bit per pixel, most significant first, 1 = white (padding white too).
/// Without a size, modules are the smallest whole number of pixels giving at least 200 px.
fn expand(symbol: &Symbol, width: usize, margin: usize, default_size: bool) -> Vec<u8> {
    let size = symbol.size();
    let across = size + 2 * margin;
    if default_size {
        assert_eq!(
            width,
            across * 200usize.div_ceil(across),
            "the default size"
        );
    }
    let module = |i: usize| {
        (i * across / width)
            .checked_sub(margin)
            .filter(|&m| m < size)
    };
    let stride = 1 + width.div_ceil(8);
    let mut image = Vec::with_capacity(stride * width);
    for py in 0..width {
        let mut line = vec![0xFFu8; stride];
        line[0] = 0;
        for px in 0..width {
            if let (Some(x), Some(y)) = (module(px), module(py))
                && symbol.rows()[y] >> x & 1 == 1
            {
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
