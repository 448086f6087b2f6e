//! Where modules land in the image, the same for every engine and format: `W` = the symbol's
//! modules plus twice the margin across, drawn on `size` pixels. Pixel `i` of a row (or column)
//! shows module `floor(i * W / size)`, so each module is `floor(size / W)` pixels or one more:
//! crisp, and never more than a pixel wider than its neighbour (`docs/api.md`, "Options").

use crate::{MIN_DEFAULT_PX, Options, QrError};

/// The image's plan: modules across (quiet zone included) and pixels across.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// The symbol's width in modules (21 for version 1).
    pub symbol: usize,
    /// The quiet zone on each side, in modules.
    pub margin: usize,
    /// The image's width and height, in pixels.
    pub size: usize,
}

impl Geometry {
    /// The plan for a symbol `symbol` modules wide: `options.size` pixels, or without it the
    /// smallest whole module size giving at least [`MIN_DEFAULT_PX`]. A size below one pixel per
    /// module is [`QrError::SizeTooSmall`].
    pub fn new(symbol: usize, options: &Options) -> Result<Geometry, QrError> {
        let margin = options.margin as usize;
        let across = symbol + 2 * margin;
        let size = match options.size {
            Some(size) if (size as usize) < across => {
                return Err(QrError::SizeTooSmall { min: across as u32 });
            }
            Some(size) => size as usize,
            None => across * (MIN_DEFAULT_PX as usize).div_ceil(across),
        };
        Ok(Geometry {
            symbol,
            margin,
            size,
        })
    }

    /// Modules across, quiet zone included.
    pub fn across(&self) -> usize {
        self.symbol + 2 * self.margin
    }

    /// The pixels of each module across (quiet zone included), left to right; the same top to
    /// bottom.
    pub fn widths(&self) -> impl Iterator<Item = usize> + '_ {
        let across = self.across();
        let start = move |k: usize| (k * self.size).div_ceil(across);
        (0..across).map(move |k| start(k + 1) - start(k))
    }

    /// Pixels per module when every module has the same number, as without `size`.
    pub fn uniform_scale(&self) -> Option<usize> {
        self.size
            .is_multiple_of(self.across())
            .then(|| self.size / self.across())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(symbol: usize, size: Option<u32>, margin: u32) -> Result<Geometry, QrError> {
        let mut options = Options::default();
        options.size = size;
        options.margin = margin;
        Geometry::new(symbol, &options)
    }

    #[test]
    fn without_size_modules_are_the_smallest_whole_size_giving_200_px() {
        let g = geometry(21, None, 4).unwrap();
        assert_eq!((g.size, g.uniform_scale()), (203, Some(7)));
        let g = geometry(77, None, 4).unwrap();
        assert_eq!((g.size, g.uniform_scale()), (255, Some(3)));
        let g = geometry(21, None, 0).unwrap();
        assert_eq!((g.size, g.uniform_scale()), (210, Some(10)));
    }

    #[test]
    fn with_size_modules_differ_by_at_most_one_pixel_and_fill_it_exactly() {
        for symbol in [21, 25, 57, 125] {
            for margin in [0, 1, 4, 20] {
                let across = symbol + 2 * margin;
                for size in across..=1000 {
                    let g = geometry(symbol, Some(size as u32), margin as u32).unwrap();
                    let widths: Vec<usize> = g.widths().collect();
                    assert_eq!(widths.iter().sum::<usize>(), size);
                    let (min, max) = (widths.iter().min(), widths.iter().max());
                    assert!(
                        *max.unwrap() - *min.unwrap() <= 1,
                        "{symbol} {margin} {size}"
                    );
                    assert!(*min.unwrap() >= 1);
                    // Pixel i shows module floor(i * across / size).
                    let mut pixel = 0;
                    for (k, w) in widths.iter().enumerate() {
                        for i in pixel..pixel + w {
                            assert_eq!(i * across / size, k);
                        }
                        pixel += w;
                    }
                }
            }
        }
    }

    #[test]
    fn too_small_says_the_minimum() {
        assert_eq!(
            geometry(21, Some(28), 4),
            Err(QrError::SizeTooSmall { min: 29 })
        );
        assert!(geometry(21, Some(29), 4).is_ok());
        assert_eq!(
            geometry(125, Some(164), 20),
            Err(QrError::SizeTooSmall { min: 165 })
        );
    }
}
