//! Reed-Solomon error correction (ISO/IEC 18004:2015 §7.5, "Generating the error correction
//! codewords"): arithmetic in GF(2^8) by log/antilog tables, the generator polynomials of
//! Annex A, and the remainder that becomes a block's error-correction codewords.

/// The field's prime polynomial, x^8 + x^4 + x^3 + x^2 + 1 (§7.5).
const PRIME: u16 = 0x11D;

/// α, the primitive element: every non-zero element is a power of it.
const ALPHA: u8 = 2;

/// How many non-zero elements the field has (powers α^0..α^254).
const ORDER: usize = 255;

/// `EXP[i]` = α^i, doubled in length so a sum of two logarithms needs no reduction.
static EXP: [u8; 2 * ORDER + 2] = {
    let mut table = [0u8; 2 * ORDER + 2];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < ORDER {
        table[i] = x as u8;
        table[i + ORDER] = x as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= PRIME;
        }
        i += 1;
    }
    table[2 * ORDER] = table[0];
    table[2 * ORDER + 1] = table[1];
    table
};

/// `LOG[x]` for x in 1..=255 (`LOG[0]` is unused).
static LOG: [u8; ORDER + 1] = {
    let mut table = [0u8; ORDER + 1];
    let mut i = 0;
    while i < ORDER {
        table[EXP[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn multiply(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        0
    } else {
        EXP[LOG[a as usize] as usize + LOG[b as usize] as usize]
    }
}

/// The generator polynomial of `degree` (product of (x - α^i), i < degree: Annex A), highest
/// power first without the leading 1, as logarithms of its coefficients (all non-zero).
pub fn generator_log(degree: usize) -> Vec<u8> {
    let mut poly = vec![0u8; degree];
    if let Some(last) = poly.last_mut() {
        *last = 1;
    }
    let mut root = 1u8;
    for _ in 0..degree {
        for j in 0..degree {
            poly[j] = multiply(poly[j], root);
            if j + 1 < degree {
                poly[j] ^= poly[j + 1];
            }
        }
        root = multiply(root, ALPHA);
    }
    poly.iter().map(|&c| LOG[c as usize]).collect()
}

/// Writes the remainder of `data * x^n` divided by the generator into `out` (n = `out.len()`,
/// which must equal `generator_log.len()`).
pub fn remainder(data: &[u8], generator_log: &[u8], out: &mut [u8]) {
    out.fill(0);
    let n = out.len().min(generator_log.len());
    if n == 0 {
        return;
    }
    let out = &mut out[..n];
    let generator_log = &generator_log[..n];
    for &byte in data {
        let factor = byte ^ out[0];
        out.copy_within(1.., 0);
        out[n - 1] = 0;
        if factor != 0 {
            let log = LOG[factor as usize] as usize;
            for (o, &g) in out.iter_mut().zip(generator_log) {
                *o ^= EXP[log + g as usize];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_inverse() {
        for x in 1..=255u8 {
            assert_eq!(EXP[LOG[x as usize] as usize], x);
        }
    }

    #[test]
    fn remainder_of_a_codeword_is_zero() {
        // A message followed by its remainder is divisible by the generator.
        let generator = generator_log(10);
        let data: Vec<u8> = (0..20u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(5))
            .collect();
        let mut ecc = [0u8; 10];
        remainder(&data, &generator, &mut ecc);
        let mut all = data.clone();
        all.extend_from_slice(&ecc);
        let mut check = [0u8; 10];
        remainder(&all, &generator, &mut check);
        assert_eq!(check, [0; 10]);
        assert_ne!(ecc, [0; 10]);
    }
}
