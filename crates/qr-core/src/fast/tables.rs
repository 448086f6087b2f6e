//! The numbers ISO/IEC 18004:2015 gives per version and error-correction level, with their
//! citations: symbol sizes (§6.3), data modules (Table 1), error-correction blocks and codewords
//! per block (§7.5.1, Table 9), alignment-pattern centres (Annex E, Table E.1), the byte-mode
//! header's widths (§7.4), and the byte capacities they make (Table 7), which pick the smallest
//! version for a text. `layout.rs` builds each (version, level)'s layout from them.

use crate::EcLevel;

/// The largest version the fast engine builds: version 25 holds 535 bytes at EC level H (and
/// version 24 only 511), more than the contract's 512 at every level (rows would fit a `u128`
/// up to version 27).
pub const MAX_VERSION: usize = 25;

/// The error-correction levels (§7.5.1).
pub const LEVELS: usize = 4;

/// The widest symbol, in modules.
pub const MAX_SIZE: usize = size(MAX_VERSION);

/// Width and height in modules of a symbol of `version`: 21 for version 1, 4 more per version
/// (§6.3, "Symbol versions and sizes").
pub const fn size(version: usize) -> usize {
    17 + 4 * version
}

/// Modules left for codeword bits once function patterns, format and version information are
/// placed, by version (index 0 unused): 8 per codeword plus 0, 3, 4 or 7 remainder bits
/// (Table 1, codeword capacity of all versions; remainder bits, §7.6).
const DATA_MODULES: [u16; MAX_VERSION + 1] = [
    0, 208, 359, 567, 807, 1079, 1383, 1568, 1936, 2336, 2768, 3232, 3728, 4256, 4651, 5243, 5867,
    6523, 7211, 7931, 8683, 9252, 10068, 10916, 11796, 12708,
];

/// The index of `ec` in the per-level tables: L, M, Q, H (the order of Table 9).
#[inline(always)]
pub const fn level_index(ec: EcLevel) -> usize {
    match ec {
        EcLevel::L => 0,
        EcLevel::M => 1,
        EcLevel::Q => 2,
        EcLevel::H => 3,
    }
}

/// Error-correction blocks, by level (L, M, Q, H) then version (index 0 unused) (§7.5.1,
/// Table 9, "Error correction characteristics": the blocks of both sizes together).
#[rustfmt::skip]
pub const BLOCKS: [[u8; MAX_VERSION + 1]; LEVELS] = [
    //  v1  v2  v3  v4  v5  v6  v7  v8  v9 v10 v11 v12 v13
    // v14 v15 v16 v17 v18 v19 v20 v21 v22 v23 v24 v25
    [0,  1,  1,  1,  1,  1,  2,  2,  2,  2,  4,  4,  4,  4,
         4,  6,  6,  6,  6,  7,  8,  8,  9,  9, 10, 12], // L
    [0,  1,  1,  1,  2,  2,  4,  4,  4,  5,  5,  5,  8,  9,
         9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21], // M
    [0,  1,  1,  2,  2,  4,  4,  6,  6,  8,  8,  8, 10, 12,
        16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29], // Q
    [0,  1,  1,  2,  4,  4,  4,  5,  6,  8,  8, 11, 11, 16,
        16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35], // H
];

/// Error-correction codewords per block, by level (L, M, Q, H) then version (index 0 unused)
/// (§7.5.1, Table 9: a block's total codewords c minus its data codewords k; the same for
/// every block of a version and level).
#[rustfmt::skip]
pub const ECC_PER_BLOCK: [[u8; MAX_VERSION + 1]; LEVELS] = [
    //  v1  v2  v3  v4  v5  v6  v7  v8  v9 v10 v11 v12 v13
    // v14 v15 v16 v17 v18 v19 v20 v21 v22 v23 v24 v25
    [0,  7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26,
        30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26], // L
    [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22,
        24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28], // M
    [0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24,
        20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30], // Q
    [0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22,
        24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30], // H
];

/// Row and column coordinates of the alignment patterns' centres, by version (Annex E, Table
/// E.1). A pattern sits at every pair of them except the three pairs on a finder pattern.
pub const ALIGNMENT_CENTRES: [&[usize]; MAX_VERSION + 1] = [
    &[],
    &[],
    &[6, 18],
    &[6, 22],
    &[6, 26],
    &[6, 30],
    &[6, 34],
    &[6, 22, 38],
    &[6, 24, 42],
    &[6, 26, 46],
    &[6, 28, 50],
    &[6, 30, 54],
    &[6, 32, 58],
    &[6, 34, 62],
    &[6, 26, 46, 66],
    &[6, 26, 48, 70],
    &[6, 26, 50, 74],
    &[6, 30, 54, 78],
    &[6, 30, 56, 82],
    &[6, 30, 58, 86],
    &[6, 34, 62, 90],
    &[6, 28, 50, 72, 94],
    &[6, 26, 50, 74, 98],
    &[6, 30, 54, 78, 102],
    &[6, 28, 54, 80, 106],
    &[6, 32, 58, 84, 110],
];

/// Modules that carry codeword bits (remainder bits included) in a symbol of `version`.
pub const fn data_modules(version: usize) -> usize {
    DATA_MODULES[version] as usize
}

/// Data codewords (not error correction) a symbol of `version` holds at the level of index
/// `level` ([`level_index`]).
pub const fn data_codewords(version: usize, level: usize) -> usize {
    data_modules(version) / 8
        - ECC_PER_BLOCK[level][version] as usize * BLOCKS[level][version] as usize
}

/// Bits of the byte-mode character count indicator: 8 up to version 9, then 16 (§7.4, table
/// "Number of bits in character count indicator").
pub const fn count_bits(version: usize) -> usize {
    if version <= 9 { 8 } else { 16 }
}

/// Bits of a mode indicator (§7.4, table "Mode indicators").
pub const MODE_BITS: usize = 4;

/// The most bytes a byte-mode segment holds, by level index then version (index 0: none): the
/// data capacity less mode indicator and character count, bounded by the count's width (Table
/// 7, "Number of symbol characters and input data capacity", byte mode).
static BYTE_CAPACITY: [[u16; MAX_VERSION + 1]; LEVELS] = {
    let mut table = [[0u16; MAX_VERSION + 1]; LEVELS];
    let mut level = 0;
    while level < LEVELS {
        let mut v = 1;
        while v <= MAX_VERSION {
            let bits = data_codewords(v, level) * 8 - MODE_BITS - count_bits(v);
            let max_count = (1 << count_bits(v)) - 1;
            let bytes = if bits / 8 < max_count {
                bits / 8
            } else {
                max_count
            };
            table[level][v] = bytes as u16;
            v += 1;
        }
        level += 1;
    }
    table
};

/// The smallest version whose byte-mode segment holds `len` bytes at level `ec`.
#[inline]
pub fn version_for(len: usize, ec: EcLevel) -> Option<usize> {
    let capacity = &BYTE_CAPACITY[level_index(ec)];
    (1..=MAX_VERSION).find(|&v| len <= usize::from(capacity[v]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_capacities_are_those_of_table_7() {
        // Table 7, byte mode, levels L, M, Q, H.
        for (version, capacities) in [
            (1, [17, 14, 11, 7]),
            (10, [271, 213, 151, 119]),
            (25, [1273, 997, 715, 535]),
        ] {
            for (ec, capacity) in EcLevel::ALL.into_iter().zip(capacities) {
                assert_eq!(
                    BYTE_CAPACITY[level_index(ec)][version],
                    capacity,
                    "version {version}, level {ec:?}"
                );
            }
        }
    }
}
