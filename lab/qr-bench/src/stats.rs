//! Median and min-max spread over repeated runs (for the model's rows and the per-call timings).

/// The median of `values` (mean of the middle two for an even count); NaN when empty.
/// NaNs sort last, so they only matter when they are the majority.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `[min, max]` of the non-NaN values; `[NaN, NaN]` when there are none.
pub fn spread(values: &[f64]) -> [f64; 2] {
    let finite = values.iter().copied().filter(|v| !v.is_nan());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi { [f64::NAN; 2] } else { [lo, hi] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn spread_ignores_nan() {
        assert_eq!(spread(&[3.0, f64::NAN, 1.0, 2.0]), [1.0, 3.0]);
        assert!(spread(&[f64::NAN])[0].is_nan());
    }
}
