//! Builds a QR symbol (byte mode, a given EC level, smallest version) as a bit-packed matrix:
//! the data codewords (ISO/IEC 18004:2015 §7.4), their error correction in interleaved blocks
//! (§7.5, §7.6), their bits placed in the data modules (§7.7) and the mask of lowest penalty
//! (§7.8) applied over the function patterns of the version and level.

use super::layout::{self, COLUMN_BITS, Layout, MAX_SIZE};
use super::{penalty, rs};
use crate::EcLevel;

/// The most codewords (data + error correction) of any version the engine builds.
const MAX_CODEWORDS: usize = layout::data_modules(layout::MAX_VERSION) / 8;

/// The most error-correction codewords of one block (30, at every level: Table 9).
const MAX_ECC_PER_BLOCK: usize = 32;

/// The mode indicator of byte mode, 0100 (§7.4, table "Mode indicators").
const MODE_BYTE: usize = 0b0100;

/// The pad codewords that fill the data capacity after the terminator, alternately
/// 11101100 and 00010001 (§7.4.10, "Bit stream to codeword conversion").
const PAD_CODEWORDS: [u8; 2] = [0xEC, 0x11];

/// The mask patterns (§7.8.2).
const MASKS: usize = 8;

/// A finished QR symbol: `rows[y] >> x & 1` is the module at column `x`, row `y` (1 = dark).
#[derive(Clone)]
pub struct Symbol {
    version: usize,
    rows: [u128; MAX_SIZE],
}

impl Symbol {
    /// Width and height in modules.
    pub fn size(&self) -> usize {
        layout::size(self.version)
    }

    /// The rows, bit `x` of row `y` = module (x, y) is dark.
    pub fn rows(&self) -> &[u128] {
        &self.rows[..self.size()]
    }
}

/// Builds the symbol of `data` (byte mode, error-correction level `ec`, smallest version), with
/// the mask of lowest penalty or `mask` if given. `None` if it does not fit or `mask` is not
/// 0..=7.
pub fn encode(data: &[u8], ec: EcLevel, mask: Option<u8>) -> Option<Symbol> {
    if mask.is_some_and(|m| usize::from(m) >= MASKS) {
        return None;
    }
    let version = layout::version_for(data.len(), ec)?;
    let layout = layout::layout(version, ec);
    let mut codewords = [0u8; MAX_CODEWORDS];
    let total = codewords_of(data, layout, &mut codewords)?;

    // Data modules alone, as rows then columns.
    let size = layout.size;
    let mut lines = [0u128; 2 * MAX_SIZE];
    for (i, &pos) in layout.order.iter().take(total * 8).enumerate() {
        // Branch-free: the bits are random.
        let bit = u128::from(codewords[i >> 3] >> (7 - (i & 7)) & 1);
        let (y, x) = (
            usize::from(pos >> COLUMN_BITS),
            usize::from(pos & ((1 << COLUMN_BITS) - 1)),
        );
        lines[y] |= bit << x;
        lines[size + x] |= bit << y;
    }
    let lines = &lines[..2 * size];

    let chosen = match mask {
        Some(m) => usize::from(m),
        None => best_mask(lines, layout),
    };
    // The rows alone: `apply` stops at the shorter slice.
    let mut rows = [0u128; MAX_SIZE];
    apply(&lines[..size], layout, chosen, &mut rows[..size]);
    Some(Symbol { version, rows })
}

/// The mask of lowest penalty (the first one on a tie) (§7.8.3), scored in 64-bit words when
/// the symbol fits them.
fn best_mask(lines: &[u128], layout: &Layout) -> usize {
    let size = layout.size;
    if size <= u64::BITS as usize {
        lowest(|m| {
            let mut candidate = [0u64; 2 * u64::BITS as usize];
            let fixed = &layout.fixed[m];
            let plane = &layout.planes[m];
            for (((o, &d), &f), &p) in candidate.iter_mut().zip(lines).zip(fixed).zip(plane) {
                *o = ((d ^ p) | f) as u64;
            }
            penalty::score(&candidate[..2 * size], size)
        })
    } else {
        // One buffer for every mask: `apply` overwrites all of it.
        let mut candidate = [0u128; 2 * MAX_SIZE];
        let candidate = &mut candidate[..2 * size];
        lowest(|m| {
            apply(lines, layout, m, candidate);
            penalty::score(candidate, size)
        })
    }
}

/// The mask of lowest `score` (the first one on a tie).
#[inline(always)]
fn lowest(mut score: impl FnMut(usize) -> u32) -> usize {
    let mut best = (u32::MAX, 0);
    for m in 0..MASKS {
        let score = score(m);
        if score < best.0 {
            best = (score, m);
        }
    }
    best.1
}

/// Masked data plus function modules (with the mask's format bits), rows then columns.
fn apply(lines: &[u128], layout: &Layout, mask: usize, out: &mut [u128]) {
    let fixed = &layout.fixed[mask];
    let plane = &layout.planes[mask];
    for (((o, &d), &f), &p) in out.iter_mut().zip(lines).zip(fixed).zip(plane) {
        *o = (d ^ p) | f;
    }
}

/// Writes the interleaved data and error-correction codewords of `data` into `out`; returns
/// how many. `None` if `data` does not fit `layout`.
fn codewords_of(data: &[u8], layout: &Layout, out: &mut [u8; MAX_CODEWORDS]) -> Option<usize> {
    let mut stream = [0u8; MAX_CODEWORDS];
    let stream = stream.get_mut(..layout.data_codewords)?;
    byte_segment(data, layout.version, stream)?;
    interleave(stream, layout, out)
}

/// Fills `stream` (the data capacity) with `data`'s byte-mode segment (§7.4): mode indicator,
/// character count, the bytes, the 4-bit terminator (§7.4.9), then pad codewords. `None` if it
/// does not fit.
fn byte_segment(data: &[u8], version: usize, stream: &mut [u8]) -> Option<()> {
    let mut at = 0;
    let mut put = |byte: u8| -> Option<()> {
        *stream.get_mut(at)? = byte;
        at += 1;
        Some(())
    };
    // The header (mode and count) is 12 or 20 bits, so everything after it is on a nibble
    // offset: each byte is split across two codewords, and the terminator fills the last one.
    let header_bits = layout::MODE_BITS + layout::count_bits(version);
    let header = MODE_BYTE << layout::count_bits(version) | data.len();
    for k in 1..=header_bits / 8 {
        put((header >> (header_bits - 8 * k)) as u8)?;
    }
    let mut carry = (header as u8) << 4;
    for &byte in data {
        put(carry | byte >> 4)?;
        carry = byte << 4;
    }
    put(carry)?;
    for (slot, pad) in stream[at..]
        .iter_mut()
        .zip(PAD_CODEWORDS.into_iter().cycle())
    {
        *slot = pad;
    }
    Some(())
}

/// Splits `stream` into the layout's blocks, computes each block's error correction (§7.5),
/// and writes the final codeword sequence into `out` (§7.6): data codewords interleaved block
/// by block, then error-correction codewords likewise. Returns how many.
fn interleave(stream: &[u8], layout: &Layout, out: &mut [u8; MAX_CODEWORDS]) -> Option<usize> {
    let Layout {
        data_codewords,
        blocks,
        short_blocks,
        short_data_len,
        ecc_len,
        ..
    } = *layout;
    let total = data_codewords + blocks * ecc_len;
    if total > MAX_CODEWORDS {
        return None;
    }
    let mut ecc = [0u8; MAX_ECC_PER_BLOCK];
    let ecc = ecc.get_mut(..ecc_len)?;
    let mut start = 0;
    for b in 0..blocks {
        let len = short_data_len + usize::from(b >= short_blocks);
        let block = stream.get(start..start + len)?;
        // Data codeword i of block b goes to i * blocks + b, except that the long blocks' last
        // codeword comes after every short block's.
        for (i, &byte) in block.iter().enumerate() {
            let at = if i < short_data_len {
                i * blocks + b
            } else {
                short_data_len * blocks + (b - short_blocks)
            };
            *out.get_mut(at)? = byte;
        }
        rs::remainder(block, &layout.generator_log, ecc);
        for (i, &byte) in ecc.iter().enumerate() {
            *out.get_mut(data_codewords + i * blocks + b)? = byte;
        }
        start += len;
    }
    Some(total)
}

#[cfg(test)]
impl Symbol {
    /// Whether the module at column `x`, row `y` is dark (false outside the symbol).
    pub fn module(&self, x: usize, y: usize) -> bool {
        x < self.size() && y < self.size() && self.rows[y] >> x & 1 == 1
    }
}

/// Differential tests: our symbols equal the oracle's (qrcodegen's) module for module, at every
/// EC level, at the same mask and with the same automatic mask choice: bit for bit where the
/// standard fixes the bits.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::fast::testkit::{Rng, random_bytes, reference};

    const TARGETS: &str = include_str!("../../../../contract/article-texts.txt");

    /// Our symbol of `data` at `ec` equals qrcodegen's, at `mask` or (`None`) at the mask each
    /// chooses.
    fn assert_same(data: &[u8], ec: EcLevel, mask: Option<u8>) {
        let ours = encode(data, ec, mask).expect("fits");
        let theirs = reference(data, ec, mask);
        let len = data.len();
        assert_eq!(
            ours.size() as i32,
            theirs.size(),
            "size, level {ec:?}, {len} bytes {data:?}"
        );
        for y in 0..ours.size() {
            for x in 0..ours.size() {
                assert_eq!(
                    ours.module(x, y),
                    theirs.get_module(x as i32, y as i32),
                    "module ({x}, {y}), level {ec:?}, mask {mask:?}, {len} bytes {data:?}"
                );
            }
        }
        if mask.is_none() {
            let theirs_forced = encode(data, ec, Some(theirs.mask().value())).expect("fits");
            assert!(
                ours.rows() == theirs_forced.rows(),
                "mask choice: qrcodegen chose {}, level {ec:?}, {len} bytes {data:?}",
                theirs.mask().value()
            );
        }
    }

    #[test]
    fn targets_equal_reference_at_every_level_for_every_mask_and_auto() {
        for ec in EcLevel::ALL {
            for text in TARGETS.lines() {
                for mask in 0..MASKS as u8 {
                    assert_same(text.as_bytes(), ec, Some(mask));
                }
                assert_same(text.as_bytes(), ec, None);
            }
        }
    }

    /// Random texts of 1..=512 bytes at `ec`, each with the automatic mask and a random one.
    fn random_texts_equal_reference(ec: EcLevel, seed: u64) {
        let mut texts = Rng(seed);
        let mut masks = Rng(0x5EED ^ seed);
        for _ in 0..250 {
            let data = random_bytes(&mut texts);
            assert_same(&data, ec, None);
            assert_same(&data, ec, Some(masks.below(8) as u8));
        }
    }

    #[test]
    fn random_texts_equal_reference_at_l() {
        random_texts_equal_reference(EcLevel::L, 0x0123_4567_89AB_CDEF);
    }

    #[test]
    fn random_texts_equal_reference_at_m() {
        random_texts_equal_reference(EcLevel::M, 0x1234_5678_9ABC_DEF0);
    }

    #[test]
    fn random_texts_equal_reference_at_q() {
        random_texts_equal_reference(EcLevel::Q, 0x2345_6789_ABCD_EF01);
    }

    #[test]
    fn random_texts_equal_reference_at_h() {
        random_texts_equal_reference(EcLevel::H, 0x3456_789A_BCDE_F012);
    }

    /// Every length 1..=512 at `ec`, with the automatic mask: every length crosses every
    /// version boundary up to the contract's limit.
    fn every_length_equals_reference(ec: EcLevel) {
        for len in 1..=512 {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            assert_same(&data, ec, None);
        }
    }

    #[test]
    fn every_length_equals_reference_at_l() {
        every_length_equals_reference(EcLevel::L);
    }

    #[test]
    fn every_length_equals_reference_at_m() {
        every_length_equals_reference(EcLevel::M);
    }

    #[test]
    fn every_length_equals_reference_at_q() {
        every_length_equals_reference(EcLevel::Q);
    }

    #[test]
    fn every_length_equals_reference_at_h() {
        every_length_equals_reference(EcLevel::H);
    }

    #[test]
    fn the_contract_maximum_fits_every_level() {
        // 512 bytes: versions 15, 18, 22 and 25 (at H, version 24 holds 511 bytes).
        let data = [b'x'; crate::MAX_TEXT_BYTES];
        for (ec, version) in EcLevel::ALL.into_iter().zip([15, 18, 22, 25]) {
            let symbol = encode(&data, ec, None).expect("512 bytes fit");
            assert_eq!(symbol.version, version, "level {ec:?}");
            assert_eq!(symbol.size(), layout::size(version), "level {ec:?}");
            assert_eq!(
                reference(&data, ec, None).version().value(),
                version as u8,
                "qrcodegen's version, level {ec:?}"
            );
        }
        assert_eq!(layout::size(25), 117);
    }

    #[test]
    fn too_long_for_the_engine_is_none() {
        // One byte more than version 25 holds (1273, 997, 715, 535) needs version 26.
        for (ec, capacity) in EcLevel::ALL.into_iter().zip([1273, 997, 715, 535]) {
            assert!(encode(&vec![b'a'; capacity], ec, None).is_some(), "{ec:?}");
            assert!(
                encode(&vec![b'a'; capacity + 1], ec, None).is_none(),
                "{ec:?}"
            );
            assert!(encode(&vec![b'a'; 4000], ec, None).is_none(), "{ec:?}");
            assert!(encode(b"a", ec, Some(8)).is_none(), "{ec:?}");
        }
    }
}
