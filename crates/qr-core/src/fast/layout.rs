//! Per-version constants of a QR symbol at EC level L, built once and cached: function
//! patterns with format bits for each mask, mask bitplanes, and the data-module placement order.

use std::sync::OnceLock;

/// The largest version the fast engine builds: version 15 holds 520 bytes at EC level L, more
/// than the contract's 512 (rows would fit a `u128` up to version 27).
pub const MAX_VERSION: usize = 15;

/// The widest symbol, in modules.
pub const MAX_SIZE: usize = 17 + 4 * MAX_VERSION;

/// Error-correction codewords per block at EC level L, by version (index 0 unused).
const ECC_PER_BLOCK: [u8; MAX_VERSION + 1] =
    [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22];

/// Error-correction blocks at EC level L, by version (index 0 unused).
const BLOCKS: [u8; MAX_VERSION + 1] = [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6];

/// Modules that carry codeword bits (remainder bits included) in a symbol of `version`.
pub const fn raw_data_modules(version: usize) -> usize {
    let mut result = (16 * version + 128) * version + 64;
    if version >= 2 {
        let align = version / 7 + 2;
        result -= (25 * align - 10) * align - 55;
        if version >= 7 {
            result -= 36;
        }
    }
    result
}

/// Data codewords (not error correction) a symbol of `version` holds at EC level L.
pub const fn data_codewords(version: usize) -> usize {
    raw_data_modules(version) / 8 - ECC_PER_BLOCK[version] as usize * BLOCKS[version] as usize
}

/// The smallest version whose byte-mode segment holds `len` bytes at EC level L.
pub fn version_for(len: usize) -> Option<usize> {
    (1..=MAX_VERSION).find(|&v| {
        let count_bits = if v <= 9 { 8 } else { 16 };
        len < (1 << count_bits) && 4 + count_bits + 8 * len <= data_codewords(v) * 8
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
    /// Placement order of codeword bits: `row << 7 | column` for each data module.
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

/// A square bit grid under construction: `bits[row] >> column & 1`, plus a "function" flag grid.
struct Grid {
    size: usize,
    dark: [u128; MAX_SIZE],
    function: [u128; MAX_SIZE],
}

impl Grid {
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

    fn finder(&mut self, cx: isize, cy: isize) {
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

    fn alignment(&mut self, cx: usize, cy: usize) {
        for dy in 0..5 {
            for dx in 0..5 {
                let dist = (dx as isize - 2).abs().max((dy as isize - 2).abs());
                self.set(cx + dx - 2, cy + dy - 2, dist != 1);
            }
        }
    }

    fn format_bits(&mut self, mask: usize) {
        // EC level L is format bits 01.
        let data = (1 << 3 | mask) as u32;
        let mut rem = data;
        for _ in 0..10 {
            rem = (rem << 1) ^ ((rem >> 9) * 0x537);
        }
        let bits = (data << 10 | rem) ^ 0x5412;
        let bit = |i: usize| bits >> i & 1 == 1;
        let size = self.size;
        for i in 0..6 {
            self.set(8, i, bit(i));
        }
        self.set(8, 7, bit(6));
        self.set(8, 8, bit(7));
        self.set(7, 8, bit(8));
        for i in 9..15 {
            self.set(14 - i, 8, bit(i));
        }
        for i in 0..8 {
            self.set(size - 1 - i, 8, bit(i));
        }
        for i in 8..15 {
            self.set(8, size - 15 + i, bit(i));
        }
        self.set(8, size - 8, true);
    }

    fn version_bits(&mut self, version: usize) {
        if version < 7 {
            return;
        }
        let data = version as u32;
        let mut rem = data;
        for _ in 0..12 {
            rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
        }
        let bits = data << 12 | rem;
        for i in 0..18 {
            let dark = bits >> i & 1 == 1;
            let a = self.size - 11 + i % 3;
            let b = i / 3;
            self.set(a, b, dark);
            self.set(b, a, dark);
        }
    }
}

/// Rows followed by columns of `rows` (a `size` x `size` bit grid).
fn rows_and_columns(rows: &[u128], size: usize) -> Vec<u128> {
    let mut out = Vec::with_capacity(2 * size);
    out.extend_from_slice(&rows[..size]);
    out.extend((0..size).map(|x| (0..size).fold(0u128, |col, y| col | (rows[y] >> x & 1) << y)));
    out
}

fn alignment_positions(version: usize, size: usize) -> Vec<usize> {
    if version == 1 {
        return Vec::new();
    }
    let count = version / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
    };
    let mut result: Vec<usize> = (0..count - 1).map(|i| size - 7 - i * step).collect();
    result.push(6);
    result.reverse();
    result
}

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
        let size = 17 + 4 * version;
        let mut grid = Grid {
            size,
            dark: [0; MAX_SIZE],
            function: [0; MAX_SIZE],
        };
        for i in 0..size {
            grid.set(6, i, i.is_multiple_of(2));
            grid.set(i, 6, i.is_multiple_of(2));
        }
        grid.finder(3, 3);
        grid.finder(size as isize - 4, 3);
        grid.finder(3, size as isize - 4);
        let align = alignment_positions(version, size);
        let n = align.len();
        for i in 0..n {
            for j in 0..n {
                let corner = (i == 0 || i == n - 1) && (j == 0 || j == n - 1);
                if !corner || (i == n - 1 && j == n - 1) {
                    grid.alignment(align[i], align[j]);
                }
            }
        }
        grid.format_bits(0);
        grid.version_bits(version);

        let mut order = Vec::with_capacity(raw_data_modules(version));
        let mut right = size as isize - 1;
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            let upward = (right + 1) & 2 == 0;
            for vert in 0..size {
                for j in 0..2 {
                    let x = (right - j) as usize;
                    let y = if upward { size - 1 - vert } else { vert };
                    if !grid.is_function(x, y) {
                        order.push((y << 7 | x) as u16);
                    }
                }
            }
            right -= 2;
        }
        debug_assert_eq!(order.len(), raw_data_modules(version));

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
        let raw_codewords = raw_data_modules(version) / 8;
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
