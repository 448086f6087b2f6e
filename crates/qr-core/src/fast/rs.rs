//! Reed-Solomon error correction over GF(2^8) with the QR polynomial 0x11D, by log/antilog tables.

/// `EXP[i] = 2^i`, doubled in length so a sum of two logarithms needs no reduction.
static EXP: [u8; 512] = {
    let mut table = [0u8; 512];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        table[i] = x as u8;
        table[i + 255] = x as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= 0x11D;
        }
        i += 1;
    }
    table[510] = table[0];
    table[511] = table[1];
    table
};

/// `LOG[x]` for x in 1..=255 (LOG[0] is unused).
static LOG: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 255 {
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

/// The generator polynomial of `degree` (product of (x - 2^i), i < degree), highest power first
/// without the leading 1, as logarithms of its coefficients (all non-zero).
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
        root = multiply(root, 2);
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
