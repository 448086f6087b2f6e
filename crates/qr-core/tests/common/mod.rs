//! Shared by the fast engine's tests: a small deterministic generator, so failures reproduce.
//!
//! The fast engine's unit tests compile this file too (`src/fast/testkit.rs`), so it uses
//! nothing but `std`.

/// xorshift64*.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
