//! Everything about a QR symbol's version and error-correction level that does not depend on
//! the text, built from the standard's numbers (`tables.rs`): the function patterns (§6.3,
//! placed as §7.7 describes; alignment-pattern centres from Annex E) with the format information
//! of each mask (§7.9) and the version information (§7.10), the mask patterns restricted to data
//! modules (§7.8.2), and the order in which codeword bits fill the data modules (§7.7). Built
//! once per (version, level) and cached.

use std::sync::OnceLock;

use super::tables::{
    ALIGNMENT_CENTRES, BLOCKS, ECC_PER_BLOCK, LEVELS, data_codewords, level_index,
};
pub use super::tables::{
    MAX_SIZE, MAX_VERSION, MODE_BITS, count_bits, data_modules, size, version_for,
};
use crate::EcLevel;

/// The row and the column that hold the timing patterns (§6.3, "Timing pattern").
const TIMING: usize = 6;

/// Distance of a finder pattern's centre from the two edges it touches (§6.3, "Finder pattern":
/// 7 x 7 modules in a corner, then a 1-module light separator).
const FINDER_CENTRE: usize = 3;

/// The 2-bit error-correction level indicator of the format information, by level (L, M, Q,
/// H): 01, 00, 11, 10 (§7.9, table "Error correction level indicators").
const EC_LEVEL_BITS: [u32; LEVELS] = [0b01, 0b00, 0b11, 0b10];

/// Bits of the mask pattern reference in the format information (§7.9).
const MASK_BITS: u32 = 3;

/// Bits of the format information: 5 of data, 10 of error correction (§7.9).
const FORMAT_BITS: usize = 15;

/// The row and the column just outside the top-left finder's separator, along which the
/// format information runs (§7.9).
const FORMAT_LINE: usize = 8;

/// Generator of the (15, 5) BCH code of the format information,
/// x^10 + x^8 + x^5 + x^4 + x^2 + x + 1 (§7.9, Annex C).
const FORMAT_GENERATOR: u32 = 0x537;

/// XORed onto the 15 format bits so that they are never all light: 101010000010010 (§7.9).
const FORMAT_MASK: u32 = 0x5412;

/// Generator of the (18, 6) BCH code of the version information,
/// x^12 + x^11 + x^10 + x^9 + x^8 + x^5 + x^2 + 1 (§7.10, Annex D).
const VERSION_GENERATOR: u32 = 0x1F25;

/// Bits of the version information: 6 of data, 12 of error correction (§7.10).
const VERSION_BITS: usize = 18;

/// Versions from this one on carry version information (§7.10).
const FIRST_VERSION_WITH_VERSION_INFO: usize = 7;

/// Bits of a position in [`Layout::order`] that hold the column (the row is above them).
pub const COLUMN_BITS: u32 = 7;

/// Everything about one version and level that does not depend on the text.
pub struct Layout {
    /// Version, 1..=MAX_VERSION.
    pub version: usize,
    /// Width and height in modules.
    pub size: usize,
    /// Data codewords (at this layout's level).
    pub data_codewords: usize,
    /// Error-correction codewords per block.
    pub ecc_len: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// Blocks that hold one data codeword less than the others (they come first).
    pub short_blocks: usize,
    /// Data codewords in a short block.
    pub short_data_len: usize,
    /// The Reed-Solomon generator, highest power first without the leading 1, as logarithms.
    pub generator_log: Vec<u8>,
    /// Placement order of codeword bits: `row << COLUMN_BITS | column` for each data module.
    pub order: Vec<u16>,
    /// Per mask, rows then columns (`2 * size` words): function modules' colours, format bits
    /// of that mask included.
    pub fixed: [Vec<u128>; 8],
    /// Per mask, rows then columns: the mask pattern restricted to data modules.
    pub planes: [Vec<u128>; 8],
}

/// The cached layout of `version` (1..=MAX_VERSION) at level `ec`.
#[inline]
pub fn layout(version: usize, ec: EcLevel) -> &'static Layout {
    static CACHE: [[OnceLock<Layout>; MAX_VERSION + 1]; LEVELS] =
        [const { [const { OnceLock::new() }; MAX_VERSION + 1] }; LEVELS];
    let level = level_index(ec);
    CACHE[level][version].get_or_init(|| Layout::new(version, level))
}

/// `data` followed by the remainder of `data * x^n` divided by `generator` (of degree n), all
/// polynomials over GF(2) as bits: a systematic BCH codeword.
const fn bch_codeword(data: u32, generator: u32) -> u32 {
    let degree = generator.ilog2();
    let mut rem = data;
    let mut i = 0;
    while i < degree {
        rem = (rem << 1) ^ ((rem >> (degree - 1)) * generator);
        i += 1;
    }
    data << degree | rem
}

/// A square bit grid under construction: `dark[row] >> column & 1`, plus a "function" flag grid.
struct Grid {
    size: usize,
    dark: [u128; MAX_SIZE],
    function: [u128; MAX_SIZE],
}

impl Grid {
    /// The function patterns of `version`, with the format bits of level index `level` and
    /// mask 0 (so that their modules are marked) and the version information.
    fn function_patterns(version: usize, level: usize) -> Grid {
        let size = size(version);
        let mut grid = Grid {
            size,
            dark: [0; MAX_SIZE],
            function: [0; MAX_SIZE],
        };
        for i in 0..size {
            grid.set(TIMING, i, i.is_multiple_of(2));
            grid.set(i, TIMING, i.is_multiple_of(2));
        }
        let far = size - 1 - FINDER_CENTRE;
        grid.finder(FINDER_CENTRE, FINDER_CENTRE);
        grid.finder(far, FINDER_CENTRE);
        grid.finder(FINDER_CENTRE, far);
        let centres = ALIGNMENT_CENTRES[version];
        let last = centres.len().saturating_sub(1);
        for (i, &cx) in centres.iter().enumerate() {
            for (j, &cy) in centres.iter().enumerate() {
                // Not in the three corners that hold finder patterns.
                let corner = (i == 0 || i == last) && (j == 0 || j == last);
                if !corner || (i == last && j == last) {
                    grid.alignment(cx, cy);
                }
            }
        }
        grid.format_bits(level, 0);
        grid.version_bits(version);
        grid
    }

    fn set(&mut self, x: usize, y: usize, dark: bool) {
        let bit = 1u128 << x;
        self.function[y] |= bit;
        if dark {
            self.dark[y] |= bit;
        } else {
            self.dark[y] &= !bit;
        }
    }

    fn is_function(&self, x: usize, y: usize) -> bool {
        self.function[y] >> x & 1 == 1
    }

    /// A finder pattern centred on (`cx`, `cy`) with its separator: rings at Chebyshev distance
    /// 0 and 1 dark, 2 light, 3 dark, 4 light (clipped at the symbol's edges).
    fn finder(&mut self, cx: usize, cy: usize) {
        let (cx, cy) = (cx as isize, cy as isize);
        for dy in -4isize..=4 {
            for dx in -4isize..=4 {
                let (x, y) = (cx + dx, cy + dy);
                if (0..self.size as isize).contains(&x) && (0..self.size as isize).contains(&y) {
                    let dist = dx.abs().max(dy.abs());
                    self.set(x as usize, y as usize, dist != 2 && dist != 4);
                }
            }
        }
    }

    /// An alignment pattern centred on (`cx`, `cy`): 5 x 5, dark but for the ring at distance 1.
    fn alignment(&mut self, cx: usize, cy: usize) {
        for dy in 0..5 {
            for dx in 0..5 {
                let dist = (dx as isize - 2).abs().max((dy as isize - 2).abs());
                self.set(cx + dx - 2, cy + dy - 2, dist != 1);
            }
        }
    }

    /// The two copies of the 15 format bits (level index `level` and `mask`), and the
    /// always-dark module next to the lower-left copy (§7.9).
    fn format_bits(&mut self, level: usize, mask: usize) {
        const F: usize = FORMAT_LINE;
        let data = EC_LEVEL_BITS[level] << MASK_BITS | mask as u32;
        let bits = bch_codeword(data, FORMAT_GENERATOR) ^ FORMAT_MASK;
        let bit = |i: usize| bits >> i & 1 == 1;
        let size = self.size;
        // Around the top-left finder: down column 8 (skipping the timing row), then left
        // along row 8 (skipping the timing column).
        for i in 0..6 {
            self.set(F, i, bit(i));
        }
        self.set(F, 7, bit(6));
        self.set(F, F, bit(7));
        self.set(F - 1, F, bit(8));
        for i in 9..FORMAT_BITS {
            self.set(FORMAT_BITS - 1 - i, F, bit(i));
        }
        // Along row 8 under the top-right finder, then down column 8 beside the bottom-left one.
        for i in 0..8 {
            self.set(size - 1 - i, F, bit(i));
        }
        for i in 8..FORMAT_BITS {
            self.set(F, size - FORMAT_BITS + i, bit(i));
        }
        self.set(F, size - F, true);
    }

    /// The two 6 x 3 copies of the 18 version bits, next to the top-right and bottom-left
    /// finders (§7.10); nothing below version 7.
    fn version_bits(&mut self, version: usize) {
        if version < FIRST_VERSION_WITH_VERSION_INFO {
            return;
        }
        let bits = bch_codeword(version as u32, VERSION_GENERATOR);
        for i in 0..VERSION_BITS {
            let dark = bits >> i & 1 == 1;
            let a = self.size - 11 + i % 3;
            let b = i / 3;
            self.set(a, b, dark);
            self.set(b, a, dark);
        }
    }

    /// The positions of the data modules in the order codeword bits fill them (§7.7,
    /// "Symbol character placement"): two-module-wide columns from the right, alternately
    /// upwards and downwards, skipping the vertical timing pattern and function modules.
    fn placement_order(&self) -> Vec<u16> {
        let size = self.size;
        let mut order = Vec::with_capacity(size * size);
        let mut right = size as isize - 1;
        while right >= 1 {
            if right == TIMING as isize {
                right -= 1;
            }
            let upward = (right + 1) & 2 == 0;
            for vert in 0..size {
                for j in 0..2 {
                    let x = (right - j) as usize;
                    let y = if upward { size - 1 - vert } else { vert };
                    if !self.is_function(x, y) {
                        order.push((y << COLUMN_BITS | x) as u16);
                    }
                }
            }
            right -= 2;
        }
        order
    }
}

/// Rows followed by columns of `rows` (a `size` x `size` bit grid).
fn rows_and_columns(rows: &[u128], size: usize) -> Vec<u128> {
    let mut out = Vec::with_capacity(2 * size);
    out.extend_from_slice(&rows[..size]);
    out.extend((0..size).map(|x| (0..size).fold(0u128, |col, y| col | (rows[y] >> x & 1) << y)));
    out
}

/// Whether mask pattern `mask` inverts the module at column `x`, row `y` (§7.8.2, "Data mask
/// patterns": the pattern's condition, with i = row and j = column).
fn mask_bit(mask: usize, x: usize, y: usize) -> bool {
    match mask {
        0 => (x + y).is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => (x + y).is_multiple_of(3),
        4 => (x / 3 + y / 2).is_multiple_of(2),
        5 => (x * y).is_multiple_of(6),
        6 => (x * y % 2 + x * y % 3).is_multiple_of(2),
        _ => ((x + y) % 2 + x * y % 3).is_multiple_of(2),
    }
}

impl Layout {
    fn new(version: usize, level: usize) -> Layout {
        let size = size(version);
        let mut grid = Grid::function_patterns(version, level);
        let order = grid.placement_order();
        debug_assert_eq!(order.len(), data_modules(version));

        let fixed = std::array::from_fn(|mask| {
            grid.format_bits(level, mask);
            rows_and_columns(&grid.dark, size)
        });
        let planes = std::array::from_fn(|mask| {
            let rows: Vec<u128> = (0..size)
                .map(|y| {
                    (0..size)
                        .filter(|&x| !grid.is_function(x, y) && mask_bit(mask, x, y))
                        .fold(0u128, |row, x| row | 1 << x)
                })
                .collect();
            rows_and_columns(&rows, size)
        });

        let blocks = BLOCKS[level][version] as usize;
        let ecc_len = ECC_PER_BLOCK[level][version] as usize;
        let raw_codewords = data_modules(version) / 8;
        Layout {
            version,
            size,
            data_codewords: data_codewords(version, level),
            ecc_len,
            blocks,
            short_blocks: blocks - raw_codewords % blocks,
            short_data_len: raw_codewords / blocks - ecc_len,
            generator_log: super::rs::generator_log(ecc_len),
            order,
            fixed,
            planes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_modules_are_what_placement_leaves() {
        for version in 1..=MAX_VERSION {
            let order = Grid::function_patterns(version, 0).placement_order();
            assert_eq!(order.len(), data_modules(version), "version {version}");
        }
    }

    #[test]
    fn every_block_holds_whole_codewords() {
        // Table 9: the data codewords split into blocks of k and k + 1, each with c - k
        // error-correction codewords, and the blocks hold every codeword of the version.
        for ec in EcLevel::ALL {
            for version in 1..=MAX_VERSION {
                let layout = layout(version, ec);
                let long = layout.blocks - layout.short_blocks;
                assert_eq!(
                    layout.short_data_len * layout.blocks + long,
                    layout.data_codewords,
                    "version {version}, level {ec:?}"
                );
                assert_eq!(
                    layout.data_codewords + layout.ecc_len * layout.blocks,
                    data_modules(version) / 8,
                    "version {version}, level {ec:?}"
                );
            }
        }
    }
}
