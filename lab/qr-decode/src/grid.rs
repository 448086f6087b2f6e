//! A QR code PNG read exactly, module by module, for images drawn on a whole-pixel grid as the
//! contract asks (qr-core's engines draw them so): every module a uniform square of pure black or
//! white pixels, the smallest module size reaching the minimum width, a white quiet zone of
//! [`QUIET_ZONE`] modules. Each pixel is checked, so this is also the check of the image itself
//! (exact size, quiet zone, colours); sampling one pixel per module then loses nothing, and rqrr's
//! search for a code in a photo (`crate::decode`, milliseconds per image) is not needed.
//!
//! Used by the fuzz targets (lab/fuzz/src/lib.rs), which read thousands of PNGs a second.

use crate::MIN_IMAGE_PX;

/// Modules of quiet zone on each side (ISO/IEC 18004 §6.3).
pub const QUIET_ZONE: usize = 4;

/// The modules of a QR code image, read from its pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleGrid {
    /// Width and height in modules, quiet zone excluded.
    size: usize,
    /// Width and height of a module in pixels.
    scale: usize,
    /// Row by row, quiet zone excluded: true = dark.
    dark: Vec<bool>,
}

impl ModuleGrid {
    /// Reads `png` ([`crate::load`]: a square of at least 200 px) module by module, checking that:
    /// every pixel is pure black (0) or white (255); the first dark pixel on the diagonal (the top
    /// left finder's corner) lies [`QUIET_ZONE`] whole modules in, which gives the module size;
    /// the width is a whole number of modules, and the symbol a QR size (21 to 177 modules, 4n+1);
    /// the module size is the smallest that makes the image at least 200 px wide; every module is
    /// uniform; the quiet zone is white. Says the first thing wrong otherwise.
    pub fn read(png: &[u8]) -> Result<ModuleGrid, String> {
        let image = crate::load(png)?;
        let width = image.width() as usize;
        let dark = |x: usize, y: usize| match image.get_pixel(x as u32, y as u32).0[0] {
            0 => Ok(true),
            255 => Ok(false),
            other => Err(format!("pixel ({x}, {y}) is grey {other}")),
        };
        let mut corner = 0;
        while corner < width && !dark(corner, corner)? {
            corner += 1;
        }
        let scale = corner / QUIET_ZONE;
        if scale == 0 || !corner.is_multiple_of(QUIET_ZONE) || !width.is_multiple_of(scale) {
            return Err(format!(
                "no whole module size: corner at {corner} of {width} px"
            ));
        }
        let total = width / scale;
        let size = total.wrapping_sub(2 * QUIET_ZONE);
        if !(21..=177).contains(&size) || size % 4 != 1 {
            return Err(format!("{size} modules is not a QR size"));
        }
        if scale != (MIN_IMAGE_PX as usize).div_ceil(total) {
            return Err(format!(
                "{scale} px per module; the smallest reaching {MIN_IMAGE_PX} px is expected"
            ));
        }
        let symbol = QUIET_ZONE..QUIET_ZONE + size;
        let mut modules = Vec::with_capacity(size * size);
        for my in 0..total {
            for mx in 0..total {
                let cell = dark(mx * scale, my * scale)?;
                for py in my * scale..(my + 1) * scale {
                    for px in mx * scale..(mx + 1) * scale {
                        if dark(px, py)? != cell {
                            return Err(format!(
                                "module ({mx}, {my}) is not uniform at ({px}, {py})"
                            ));
                        }
                    }
                }
                if symbol.contains(&mx) && symbol.contains(&my) {
                    modules.push(cell);
                } else if cell {
                    return Err(format!("quiet zone module ({mx}, {my}) is dark"));
                }
            }
        }
        Ok(ModuleGrid {
            size,
            scale,
            dark: modules,
        })
    }

    /// Width and height of the symbol in modules, quiet zone excluded (21 to 177).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Width and height of one module in pixels.
    pub fn scale(&self) -> usize {
        self.scale
    }

    /// Whether module (`x`, `y`) of the symbol is dark, from its top left corner (quiet zone
    /// excluded).
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.size + x]
    }

    /// The payload bytes, read from the modules by rqrr's decoder (format, error correction,
    /// segments), which must say EC level L.
    pub fn decode(&self) -> Result<Vec<u8>, String> {
        let grid = rqrr::Grid::new(rqrr::SimpleGrid::from_func(self.size, |x, y| {
            self.dark(x, y)
        }));
        crate::read_symbol(&grid).and_then(crate::level_l_data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Range;

    /// A PNG of `modules` (rows of `#` dark and `.` light) with its quiet zone, `scale` px each.
    fn png_of(modules: &[String], scale: u32) -> Vec<u8> {
        let total = modules.len() as u32 + 2 * QUIET_ZONE as u32;
        let quiet = QUIET_ZONE as u32;
        let image = image::GrayImage::from_fn(total * scale, total * scale, |px, py| {
            let (mx, my) = (px / scale, py / scale);
            let inside =
                (quiet..total - quiet).contains(&mx) && (quiet..total - quiet).contains(&my);
            let dark =
                inside && modules[(my - quiet) as usize].as_bytes()[(mx - quiet) as usize] == b'#';
            image::Luma([if dark { 0 } else { 255 }])
        });
        encode(&image)
    }

    /// `png` with the pixels of `area` (x range, y range) set to `value`.
    fn paint(png: &[u8], area: (Range<u32>, Range<u32>), value: u8) -> Vec<u8> {
        let mut image = image::load_from_memory(png).unwrap().to_luma8();
        for y in area.1 {
            for x in area.0.clone() {
                image.put_pixel(x, y, image::Luma([value]));
            }
        }
        encode(&image)
    }

    fn encode(image: &image::GrayImage) -> Vec<u8> {
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    }

    /// A 21-module symbol whose top left module is dark and whose module (2, 1) is light.
    fn symbol() -> Vec<String> {
        (0..21)
            .map(|y| {
                (0..21)
                    .map(|x| {
                        if (x, y) == (2, 1) || (x + y) % 3 == 1 {
                            '.'
                        } else {
                            '#'
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn reads_each_module_and_the_module_size() {
        let rows = symbol();
        // 29 modules: 7 px each is the smallest reaching 200 px (203 px).
        let grid = ModuleGrid::read(&png_of(&rows, 7)).unwrap();
        assert_eq!((grid.size(), grid.scale()), (21, 7));
        for (y, row) in rows.iter().enumerate() {
            for (x, module) in row.bytes().enumerate() {
                assert_eq!(grid.dark(x, y), module == b'#', "module ({x}, {y})");
            }
        }
        assert!(
            grid.decode()
                .unwrap_err()
                .starts_with("rqrr cannot decode it")
        );
    }

    #[test]
    fn says_what_is_wrong_with_the_pixels() {
        let rows = symbol();
        assert_eq!(
            ModuleGrid::read(&png_of(&rows, 8)).unwrap_err(),
            "8 px per module; the smallest reaching 200 px is expected"
        );
        let png = png_of(&rows, 7);
        assert_eq!(
            ModuleGrid::read(&paint(&png, (3..4, 5..6), 128)).unwrap_err(),
            "pixel (3, 5) is grey 128"
        );
        assert_eq!(
            ModuleGrid::read(&paint(&png, (3..4, 5..6), 0)).unwrap_err(),
            "module (0, 0) is not uniform at (3, 5)"
        );
        assert_eq!(
            ModuleGrid::read(&paint(&png, (196..203, 0..7), 0)).unwrap_err(),
            "quiet zone module (28, 0) is dark"
        );
        assert!(
            ModuleGrid::read(&png_of(&["#".to_owned()], 40))
                .unwrap_err()
                .contains("is not a QR size")
        );
    }
}
