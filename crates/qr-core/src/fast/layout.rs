//! Everything about a QR symbol's version that does not depend on the text, at EC level L:
//! capacities (ISO/IEC 18004:2015 Table 1 and Table 9), the function patterns (§6.3, placed as
//! §7.7 describes; alignment-pattern centres from Annex E) with the format information of each
//! mask (§7.9) and the version information (§7.10), the mask patterns restricted to data modules
//! (§7.8.2), and the order in which codeword bits fill the data modules (§7.7). Built once per
//! version and cached.

use std::sync::OnceLock;

/// The largest version the fast engine builds: version 15 holds 520 bytes at EC level L, more
/// than the contract's 512 (rows would fit a `u128` up to version 27).
pub const MAX_VERSION: usize = 15;

/// The widest symbol, in modules.
pub const MAX_SIZE: usize = size(MAX_VERSION);

/// Width and height in modules of a symbol of `version`: 21 for version 1, 4 more per version
/// (§6.3, "Symbol versions and sizes").
pub const fn size(version: usize) -> usize {
    17 + 4 * version
}

/// Modules left for codeword bits once function patterns, format and version information are
/// placed, by version (index 0 unused): 8 per codeword plus 0, 3 or 7 remainder bits
/// (Table 1, codeword capacity of all versions; remainder bits, §7.6).
const DATA_MODULES: [u16; MAX_VERSION + 1] = [
    0, 208, 359, 567, 807, 1079, 1383, 1568, 1936, 2336, 2768, 3232, 3728, 4256, 4651, 5243,
];

/// Error-correction blocks at EC level L, by version (index 0 unused) (§7.5.1, Table 9, "Error
/// correction characteristics").
const BLOCKS: [u8; MAX_VERSION + 1] = [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6];

/// Error-correction codewords per block at EC level L, by version (index 0 unused) (§7.5.1,
/// Table 9: total minus data codewords of a block).
const ECC_PER_BLOCK: [u8; MAX_VERSION + 1] =
    [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22];

/// Row and column coordinates of the alignment patterns' centres, by version (Annex E, Table
/// E.1). A pattern sits at every pair of them except the three pairs on a finder pattern.
const ALIGNMENT_CENTRES: [&[usize]; MAX_VERSION + 1] = [
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
];

/// The row and the column that hold the timing patterns (§6.3, "Timing pattern").
const TIMING: usize = 6;

/// Distance of a finder pattern's centre from the two edges it touches (§6.3, "Finder pattern":
/// 7 x 7 modules in a corner, then a 1-module light separator).
const FINDER_CENTRE: usize = 3;

/// The 2-bit indicator of error-correction level L in the format information (§7.9).
const EC_LEVEL_L: u32 = 0b01;

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

/// Modules that carry codeword bits (remainder bits included) in a symbol of `version`.
pub const fn data_modules(version: usize) -> usize {
    DATA_MODULES[version] as usize
}

/// Data codewords (not error correction) a symbol of `version` holds at EC level L.
pub const fn data_codewords(version: usize) -> usize {
    data_modules(version) / 8 - ECC_PER_BLOCK[version] as usize * BLOCKS[version] as usize
}

/// Bits of the byte-mode character count indicator: 8 up to version 9, then 16 (§7.4, table
/// "Number of bits in character count indicator").
pub const fn count_bits(version: usize) -> usize {
    if version <= 9 { 8 } else { 16 }
}

/// Bits of a mode indicator (§7.4, table "Mode indicators").
pub const MODE_BITS: usize = 4;

/// The smallest version whose byte-mode segment holds `len` bytes at EC level L.
pub fn version_for(len: usize) -> Option<usize> {
    (1..=MAX_VERSION).find(|&v| {
        let count_bits = count_bits(v);
        len < (1 << count_bits) && MODE_BITS + count_bits + 8 * len <= data_codewords(v) * 8
    })
}

/// Everything about one version that does not depend on the text.
pub struct Layout {
    /// Version, 1..=MAX_VERSION.
    pub version: usize,
    /// Width and height in modules.
    pub size: usize,
    /// Data codewords (EC level L).
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

/// The cached layout of `version` (1..=MAX_VERSION).
pub fn layout(version: usize) -> &'static Layout {
    static CACHE: [OnceLock<Layout>; MAX_VERSION + 1] =
        [const { OnceLock::new() }; MAX_VERSION + 1];
    CACHE[version].get_or_init(|| Layout::new(version))
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
    /// The function patterns of `version`, with the format bits of mask 0 (so that their
    /// modules are marked) and the version information.
    fn function_patterns(version: usize) -> Grid {
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
        grid.format_bits(0);
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

    /// The two copies of the 15 format bits (level L and `mask`), and the always-dark module
    /// next to the lower-left copy (§7.9).
    fn format_bits(&mut self, mask: usize) {
        const F: usize = FORMAT_LINE;
        let data = EC_LEVEL_L << MASK_BITS | mask as u32;
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
    fn new(version: usize) -> Layout {
        let size = size(version);
        let mut grid = Grid::function_patterns(version);
        let order = grid.placement_order();
        debug_assert_eq!(order.len(), data_modules(version));

        let fixed = std::array::from_fn(|mask| {
            grid.format_bits(mask);
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

        let blocks = BLOCKS[version] as usize;
        let ecc_len = ECC_PER_BLOCK[version] as usize;
        let raw_codewords = data_modules(version) / 8;
        Layout {
            version,
            size,
            data_codewords: data_codewords(version),
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
