//! The mask penalty score (ISO/IEC 18004:2015 §7.8.3, "Evaluation of data masking results":
//! features N1 to N4 of Table 11), computed as qrcodegen computes it (the reference the tests
//! hold it to) with word-wide bit operations: each row and each column is one [`Line`], bit
//! `i` = module `i` is dark. The symbol is scored with its format information drawn.

use std::ops::{BitAnd, BitOr, BitXor, Not, Shl, Shr, Sub};

/// N1: points for a run of 5 modules of one colour in a row or column, plus 1 per module
/// beyond 5.
const N1: u32 = 3;
/// N2: points per 2 x 2 block of one colour.
const N2: u32 = 3;
/// N3: points per finder-like pattern in a row or column: dark, light, dark, light, dark in
/// the ratio 1:1:3:1:1, with 4 light modules on one side (at any scale).
const N3: u32 = 40;
/// N4: points per full 5 % by which the proportion of dark modules strays from 50 %.
const N4: u32 = 10;

/// A row or column of modules in one machine word, bit `i` = module `i` is dark: `u64` for
/// symbols up to 64 modules wide, else `u128`.
pub trait Line:
    Copy
    + Eq
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
    + BitXor<Output = Self>
    + Not<Output = Self>
    + Shl<u32, Output = Self>
    + Shr<u32, Output = Self>
    + Sub<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    const MAX: Self;
    const BITS: u32;
    fn count_ones(self) -> u32;
    fn trailing_zeros(self) -> u32;
    fn trailing_ones(self) -> u32;
}

macro_rules! impl_line {
    ($($word:ty),*) => {$(
        impl Line for $word {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const MAX: Self = <$word>::MAX;
            const BITS: u32 = <$word>::BITS;
            #[inline(always)]
            fn count_ones(self) -> u32 {
                <$word>::count_ones(self)
            }
            #[inline(always)]
            fn trailing_zeros(self) -> u32 {
                <$word>::trailing_zeros(self)
            }
            #[inline(always)]
            fn trailing_ones(self) -> u32 {
                <$word>::trailing_ones(self)
            }
        }
    )*};
}

impl_line!(u64, u128);

/// The penalty score of a symbol given as `size` rows followed by `size` columns.
pub fn score<W: Line>(lines: &[W], size: usize) -> u32 {
    // Without -C target-cpu, count_ones is a bit-twiddling sequence: use the popcnt
    // instruction when the CPU has it (every x86-64 CPU since 2008).
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU supports popcnt, checked just above.
        return unsafe { score_popcnt(lines, size) };
    }
    score_any(lines, size)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn score_popcnt<W: Line>(lines: &[W], size: usize) -> u32 {
    score_any(lines, size)
}

#[inline(always)]
fn score_any<W: Line>(lines: &[W], size: usize) -> u32 {
    let size_u = size as u32;
    let valid = if size >= W::BITS as usize {
        W::MAX
    } else {
        (W::ONE << size_u) - W::ONE
    };
    let mut n1 = 0;
    let mut n3 = 0;
    for &d in lines {
        n1 += run_points(d, valid);
        n3 += finder_like(d, size_u);
    }
    let rows = &lines[..size.min(lines.len())];
    let n2 = blocks(rows, valid);
    let mut dark = 0;
    for &row in rows {
        dark += row.count_ones();
    }
    n1 + N2 * n2 + N3 * n3 + N4 * balance_steps(dark, size * size)
}

/// N1 points of one line of modules `valid`: runs of 5 or more of either colour.
#[inline(always)]
fn run_points<W: Line>(d: W, valid: W) -> u32 {
    // A run of length L has L - 4 five-module windows: its points, N1 + (L - 5), are its
    // windows plus N1 - 1 per run. Dark and light windows never start at the same module,
    // so one popcount covers both colours.
    let (dark5, dark_starts) = fives(d);
    let (light5, light_starts) = fives(!d & valid);
    (dark5 | light5).count_ones() + (N1 - 1) * (dark_starts | light_starts).count_ones()
}

/// Starts of 5-module windows of set bits (bits i, i + 1 = two; then i + 2, i + 3; then
/// i + 4), and starts of such runs.
#[inline(always)]
fn fives<W: Line>(x: W) -> (W, W) {
    let two = x & x >> 1;
    let five = two & two >> 2 & x >> 4;
    (five, five & !(five << 1))
}

/// N2: the 2 x 2 blocks of one colour in `rows` (bits `valid` of each).
#[inline(always)]
fn blocks<W: Line>(rows: &[W], valid: W) -> u32 {
    let pair_valid = valid >> 1;
    let mut count = 0;
    for pair in rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let vertical = !(a ^ b);
        let horizontal = !(a ^ a >> 1);
        count += (vertical & vertical >> 1 & horizontal & pair_valid).count_ones();
    }
    count
}

/// N4: how many full 5 % steps `dark` modules out of `total` are away from 50 %.
#[inline(always)]
fn balance_steps(dark: u32, total: usize) -> u32 {
    let (dark, total) = (i64::from(dark), total as i64);
    // k = ceil(|20 dark - 10 total| / total) - 1, as qrcodegen computes it.
    let k = ((dark * 20 - total * 10).abs() + total - 1) / total.max(1) - 1;
    k.max(0) as u32
}

/// Right shift that fills with ones: positions past the line's end read as light.
#[inline(always)]
fn shr_ones<W: Line>(x: W, k: u32) -> W {
    (x >> k) | !(W::MAX >> k)
}

/// Left shift that fills with ones: positions before the line's start read as light.
#[inline(always)]
fn shl_ones<W: Line>(x: W, k: u32) -> W {
    (x << k) | ((W::ONE << k) - W::ONE)
}

/// N3: the finder-like patterns (1:1:3:1:1 with 4 light on one side, at any scale) in one
/// line of `size` modules.
#[inline(always)]
fn finder_like<W: Line>(d: W, size: u32) -> u32 {
    let l = !d;
    let d3 = d & d >> 1 & d >> 2;
    let mut count = 0;
    // Scale 1, bit-parallel: bit i = a core starting at module i.
    let core = d & shr_ones(l, 1) & d3 >> 2 & shr_ones(l, 5) & d >> 6;
    if core != W::ZERO {
        let p = shl_ones(l, 1);
        let before4 = p & shl_ones(p, 1) & shl_ones(p, 2) & shl_ones(p, 3);
        let after1 = shr_ones(l, 7);
        let after4 = after1 & shr_ones(l, 8) & shr_ones(l, 9) & shr_ones(l, 10);
        count += (core & before4 & after1).count_ones() + (core & p & after4).count_ones();
    }
    // Scale n >= 2 needs a dark run of exactly 3n >= 6 modules: rare, so check each one.
    let d6 = d3 & d3 >> 3;
    if d6 != W::ZERO {
        let mut starts = d6 & !(d << 1);
        while starts != W::ZERO {
            let c = starts.trailing_zeros();
            starts = starts & (starts - W::ONE);
            let len = (d >> c).trailing_ones();
            if len.is_multiple_of(3) {
                count += scaled_core(d, size, c, len / 3);
            }
        }
    }
    count
}

/// Bits `[from, from + len)` of `x` (positions outside the word read as `outside`).
#[inline(always)]
fn all_set<W: Line>(x: W, from: i64, len: i64, outside: bool) -> bool {
    (from..from + len).all(|i| {
        if (0..i64::from(W::BITS)).contains(&i) {
            x >> i as u32 & W::ONE == W::ONE
        } else {
            outside
        }
    })
}

/// Finder-like patterns of scale `n` whose 3n-module dark centre starts at `c`.
fn scaled_core<W: Line>(d: W, size: u32, c: u32, n: u32) -> u32 {
    let (c, n) = (i64::from(c), i64::from(n));
    let i = c - 2 * n;
    if i < 0 || c + 3 * n + 2 * n > i64::from(size) {
        return 0;
    }
    // Light beyond the symbol's edges: bits at and past `size` of !d are set.
    let l = !d;
    let core = all_set(d, i, n, false)
        && all_set(l, i + n, n, true)
        && all_set(l, i + 5 * n, n, true)
        && all_set(d, i + 6 * n, n, false);
    if !core {
        return 0;
    }
    let before = |m: i64| all_set(l, i - m, m, true);
    let after = |m: i64| all_set(l, i + 7 * n, m, true);
    u32::from(before(4 * n) && after(n)) + u32::from(before(n) && after(4 * n))
}

/// Differential tests against the oracle's (qrcodegen's) scoring: line by line, then whole
/// symbols.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::EcLevel;
    use crate::fast::symbol::{Symbol, encode};
    use crate::fast::testkit::{Rng, random_bytes, reference_line, reference_penalty};

    #[test]
    fn lines_score_like_qrcodegen() {
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        for size in [21usize, 25, 29, 45, 77, 125] {
            let valid = (1u128 << size) - 1;
            for _ in 0..3000 {
                let seed = rng.next();
                // Mix dense random lines with structured ones that hold scaled patterns.
                let d = match seed % 4 {
                    0 => (u128::from(seed) | u128::from(seed.rotate_left(32)) << 64) & valid,
                    1 | 3 => {
                        let n = (seed >> 8) as usize % (size / 7) + 1;
                        let at = (seed >> 16) as usize % (size - 7 * n + 1);
                        let core: u128 = [1, 0, 1, 1, 1, 0, 1]
                            .iter()
                            .enumerate()
                            .map(|(i, &b)| (b as u128 * ((1u128 << n) - 1)) << (i * n))
                            .sum();
                        let around = if seed % 4 == 1 {
                            // Random modules from 4n light modules after the pattern on.
                            u128::from(seed >> 40) << (at + 7 * n + 4 * n).min(127)
                        } else {
                            // Dark on both sides, 0..=4n + 1 light modules away: every gap
                            // the N3 rule tells apart.
                            let before = (seed >> 24) as usize % (4 * n + 2);
                            let after = (seed >> 32) as usize % (4 * n + 2);
                            ((1u128 << at.saturating_sub(before)) - 1)
                                | u128::MAX << (at + 7 * n + after).min(127)
                        };
                        (core << at | around) & valid
                    }
                    _ => u128::from(seed & seed >> 3) & valid,
                };
                let (n1, n3) = reference_line(size, |x| d >> x & 1 == 1);
                assert_eq!(run_points(d, valid), n1, "N1, size {size}, line {d:b}");
                assert_eq!(
                    finder_like(d, size as u32),
                    n3,
                    "N3, size {size}, line {d:b}"
                );
                if size <= 64 {
                    let d64 = d as u64;
                    let n1_64 = run_points(d64, valid as u64);
                    assert_eq!(n1_64, n1, "N1 (u64), size {size}");
                    let n3_64 = finder_like(d64, size as u32);
                    assert_eq!(n3_64, n3, "N3 (u64), size {size}");
                }
            }
        }
    }

    /// Our score of `symbol`, from its rows and columns.
    fn score_of(symbol: &Symbol) -> u32 {
        let size = symbol.size();
        let mut lines = vec![0u128; 2 * size];
        for (y, &row) in symbol.rows().iter().enumerate() {
            lines[y] = row;
            for x in 0..size {
                lines[size + x] |= (row >> x & 1) << y;
            }
        }
        score(&lines, size)
    }

    #[test]
    fn symbols_score_like_qrcodegen() {
        let mut rng = Rng(7);
        for i in 0..200 {
            let data = random_bytes(&mut rng);
            let ec = EcLevel::ALL[i / 8 % EcLevel::ALL.len()];
            let symbol = encode(&data, ec, Some((i % 8) as u8)).unwrap();
            assert_eq!(
                score_of(&symbol),
                reference_penalty(symbol.size(), |x, y| symbol.module(x, y)),
                "level {ec:?}, data {data:?}"
            );
        }
    }
}
