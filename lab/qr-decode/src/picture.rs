//! An answer's image as pixels: a PNG decoded, or an SVG rasterised by resvg (the Rust SVG
//! renderer) at its own width and height; the same image as the decoders are given it
//! ([`as_seen`]); and the contract's checks of the pixels ([`Plan`]): exact size, the quiet zone,
//! crisp modules, the only two colours.

use image::{GrayImage, Luma, Rgba, RgbaImage};

/// The two image formats an answer may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `image/png`.
    Png,
    /// `image/svg+xml`, read once rasterised.
    Svg,
}

/// The pixels of `bytes`: the PNG decoded, or the SVG rasterised at its `width` and `height`
/// (resvg, with no fonts or raster images: a QR code's SVG has neither).
pub fn rgba(bytes: &[u8], format: Format) -> Result<RgbaImage, String> {
    match format {
        Format::Png => Ok(
            image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
                .map_err(|e| format!("not a PNG: {e}"))?
                .to_rgba8(),
        ),
        Format::Svg => rasterise(bytes),
    }
}

fn rasterise(svg: &[u8]) -> Result<RgbaImage, String> {
    let tree = resvg::usvg::Tree::from_data(svg, &resvg::usvg::Options::default())
        .map_err(|e| format!("not an SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
            format!(
                "an SVG of {}x{} px cannot be drawn",
                size.width(),
                size.height()
            )
        })?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let pixels = (pixmap.pixels().iter())
        .flat_map(|pixel| {
            let colour = pixel.demultiply();
            [colour.red(), colour.green(), colour.blue(), colour.alpha()]
        })
        .collect();
    Ok(RgbaImage::from_raw(size.width(), size.height(), pixels).expect("4 bytes per pixel"))
}

/// The width the decoders are given at least, in pixels.
const SEEN_PX: u32 = 200;

/// The image as a phone's camera sees it on a page: transparent pixels over white (a page's
/// usual background; `light=ffffff00` is a code meant for one), and an image under 200 px (down to
/// one pixel per module: `size=29`) magnified by a whole factor, nearest neighbour, as a phone
/// shows it before scanning it (the decoders' finder search needs more than a pixel per module,
/// and a whole factor keeps every module whole pixels).
pub fn as_seen(image: &RgbaImage) -> GrayImage {
    let (width, height) = image.dimensions();
    let factor = SEEN_PX.div_ceil(width.max(1));
    GrayImage::from_fn(width * factor, height * factor, |x, y| {
        Luma([luma_over_white(*image.get_pixel(x / factor, y / factor))])
    })
}

/// The pixel's gray once drawn over white: ITU-R BT.601 luma, as `image`'s own conversion.
fn luma_over_white(Rgba([r, g, b, a]): Rgba<u8>) -> u8 {
    let a = u32::from(a);
    let channel = |c: u8| (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
    let luma = (299 * channel(r) + 587 * channel(g) + 114 * channel(b) + 500) / 1000;
    u8::try_from(luma).expect("a weighted mean of bytes")
}

/// What an image's pixels must show (the contract's `image`): each check runs when its value is
/// given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Plan {
    /// The exact width and height in pixels.
    pub size: Option<u32>,
    /// The least width and height in pixels (without `size`, the contract's 200).
    pub min_size: Option<u32>,
    /// The quiet zone in modules: exactly the pixels that show those modules are light.
    pub margin: Option<u32>,
    /// The dark modules' colour, red, green, blue, alpha.
    pub dark: Option<[u8; 4]>,
    /// The light modules' and the quiet zone's colour.
    pub light: Option<[u8; 4]>,
}

impl Plan {
    /// Checks `image` (of `format`), holding a symbol `modules` wide: its size, its colours, and
    /// with a margin, that every pixel shows its module, by the contract's rule for a PNG: with
    /// `W = modules + 2 * margin` modules across an image of `size` px, pixel `i` of a row (and
    /// of a column) shows module `floor(i * W / size)`. An SVG's renderer fills the pixels whose
    /// centre a module covers instead: there pixel `i` shows module `floor((i + 1/2) * W / size)`.
    /// So the dark pixels' bounding box is exactly the symbol's modules (its three finder patterns
    /// reach three corners), nothing dark lies outside, and each module's pixels are alike.
    pub fn check(&self, image: &RgbaImage, format: Format, modules: u32) -> Result<(), String> {
        let (width, height) = image.dimensions();
        if let Some(size) = self.size
            && (width, height) != (size, size)
        {
            return Err(format!(
                "the image is {width}x{height} px, expected {size}x{size}"
            ));
        }
        if width != height {
            return Err(format!(
                "the image is {width}x{height} px, expected a square"
            ));
        }
        if let Some(least) = self.min_size
            && width < least
        {
            return Err(format!(
                "the image is {width}x{height} px, expected at least {least}x{least}"
            ));
        }
        self.check_colours(image, format)?;
        match self.margin {
            Some(margin) => check_modules(image, format, modules, margin),
            None => Ok(()),
        }
    }

    /// Every pixel is the dark or the light colour (an SVG's dark drawn over its light).
    fn check_colours(&self, image: &RgbaImage, format: Format) -> Result<(), String> {
        let (Some(dark), Some(light)) = (self.dark, self.light) else {
            return Ok(());
        };
        let (dark, light) = match format {
            Format::Png => (dark, light),
            Format::Svg => (over(dark, light), light),
        };
        let alike = |pixel: [u8; 4], colour: [u8; 4]| match format {
            // A fully transparent pixel has no colour.
            Format::Png => pixel == colour || (pixel[3] == 0 && colour[3] == 0),
            // The renderer works in 8-bit premultiplied alpha: a step of rounding either way.
            Format::Svg => (premultiplied(pixel).into_iter().zip(premultiplied(colour)))
                .all(|(a, b)| a.abs_diff(b) <= 1),
        };
        match image
            .enumerate_pixels()
            .find(|(_, _, pixel)| !alike(pixel.0, dark) && !alike(pixel.0, light))
        {
            Some((x, y, pixel)) => Err(format!(
                "pixel ({x}, {y}) is {}, expected {} or {}",
                hex(pixel.0),
                hex(dark),
                hex(light)
            )),
            None => Ok(()),
        }
    }
}

/// Checks that with `margin` modules of quiet zone each pixel shows its module (see
/// [`Plan::check`]): pixels are dark or light by their luma over white (the midpoint of the
/// darkest and lightest pixels divides them), the quiet zone's pixels are light, the symbol's
/// first and last pixel rows and columns hold dark pixels, and every pixel equals its module's
/// first pixel.
fn check_modules(
    image: &RgbaImage,
    format: Format,
    modules: u32,
    margin: u32,
) -> Result<(), String> {
    let size = image.width();
    let across = u64::from(modules + 2 * margin);
    let module_of = |i: u32| -> u32 {
        let i = u64::from(i);
        let module = match format {
            Format::Png => i * across / u64::from(size),
            Format::Svg => (2 * i + 1) * across / (2 * u64::from(size)),
        };
        u32::try_from(module).expect("a module index")
    };
    // The first pixel of each module, and one past the last module.
    let mut starts = vec![size; modules as usize + 2 * margin as usize + 1];
    for i in (0..size).rev() {
        starts[module_of(i) as usize] = i;
    }
    let seen: Vec<u8> = image
        .pixels()
        .map(|&pixel| luma_over_white(pixel))
        .collect();
    let (darkest, lightest) = (seen.iter().min(), seen.iter().max());
    let threshold = (u16::from(*darkest.unwrap_or(&0)) + u16::from(*lightest.unwrap_or(&255))) / 2;
    let dark = |x: u32, y: u32| u16::from(seen[(y * size + x) as usize]) <= threshold;
    let symbol = margin..margin + modules;
    let (first, last) = (
        starts[margin as usize],
        starts[(margin + modules) as usize] - 1,
    );
    if first > last {
        return Err(format!(
            "{size} px cannot show {modules} modules with a margin of {margin}"
        ));
    }
    let mut edges = [false; 4];
    for y in 0..size {
        for x in 0..size {
            let (mx, my) = (module_of(x), module_of(y));
            if !symbol.contains(&mx) || !symbol.contains(&my) {
                if dark(x, y) {
                    return Err(format!(
                        "pixel ({x}, {y}) is dark in the quiet zone of {margin} modules: \
                         the symbol spans pixels {first} to {last}"
                    ));
                }
                continue;
            }
            let cell = image.get_pixel(starts[mx as usize], starts[my as usize]);
            if image.get_pixel(x, y) != cell {
                return Err(format!(
                    "pixel ({x}, {y}) is {}, but the first pixel of its module ({mx}, {my}) is {}: \
                     modules are not whole pixels where the plan puts them",
                    hex(image.get_pixel(x, y).0),
                    hex(cell.0)
                ));
            }
            if dark(x, y) {
                for (edge, at) in
                    edges
                        .iter_mut()
                        .zip([x == first, x == last, y == first, y == last])
                {
                    *edge |= at;
                }
            }
        }
    }
    if edges != [true; 4] {
        return Err(format!(
            "no dark pixel on an edge of the symbol (pixels {first} to {last} of {size}, left, \
             right, top, bottom: {edges:?}): the quiet zone is not {margin} modules"
        ));
    }
    Ok(())
}

/// `top` drawn over `bottom` (source-over), as a renderer composes an SVG's path over its rect.
fn over(top: [u8; 4], bottom: [u8; 4]) -> [u8; 4] {
    let alpha = |c: u8| f64::from(c) / 255.0;
    let (ta, ba) = (alpha(top[3]), alpha(bottom[3]));
    let out_alpha = ta + ba * (1.0 - ta);
    if out_alpha == 0.0 {
        return [0; 4];
    }
    let mut out = [0; 4];
    for i in 0..3 {
        let c = (f64::from(top[i]) * ta + f64::from(bottom[i]) * ba * (1.0 - ta)) / out_alpha;
        out[i] = c.round() as u8;
    }
    out[3] = (out_alpha * 255.0).round() as u8;
    out
}

/// The colour with its red, green and blue multiplied by its alpha.
fn premultiplied([r, g, b, a]: [u8; 4]) -> [u8; 4] {
    let times_alpha = |c: u8| ((u32::from(c) * u32::from(a) + 127) / 255) as u8;
    [times_alpha(r), times_alpha(g), times_alpha(b), a]
}

/// `rrggbbaa`.
fn hex([r, g, b, a]: [u8; 4]) -> String {
    format!("{r:02x}{g:02x}{b:02x}{a:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLACK: [u8; 4] = [0, 0, 0, 0xff];
    const WHITE: [u8; 4] = [0xff; 4];

    /// A symbol `modules` wide whose outermost modules are dark (it reaches its edges, as a QR
    /// code's finder patterns do), with `margin` modules of quiet zone, drawn `size` px wide by
    /// `module_of` (which module a pixel shows).
    fn frame(modules: u32, margin: u32, size: u32, module_of: impl Fn(u32) -> u32) -> RgbaImage {
        let symbol = margin..margin + modules;
        let edge = |m: u32| m == margin || m == margin + modules - 1;
        RgbaImage::from_fn(size, size, |x, y| {
            let (mx, my) = (module_of(x), module_of(y));
            let inside = symbol.contains(&mx) && symbol.contains(&my);
            Rgba(if inside && (edge(mx) || edge(my)) {
                BLACK
            } else {
                WHITE
            })
        })
    }

    fn png_rule(across: u32, size: u32) -> impl Fn(u32) -> u32 {
        move |i| i * across / size
    }

    #[test]
    fn each_pixel_must_show_its_module_by_the_format_s_rule() {
        let plan = Plan {
            size: Some(97),
            margin: Some(4),
            ..Plan::default()
        };
        // 29 modules across 97 px: modules of 3 and 4 px.
        let image = frame(21, 4, 97, png_rule(29, 97));
        assert_eq!(plan.check(&image, Format::Png, 21), Ok(()));
        assert!(
            plan.check(&image, Format::Png, 25).is_err(),
            "another symbol's modules"
        );
        let wider = Plan {
            margin: Some(5),
            ..plan
        };
        assert!(wider.check(&image, Format::Png, 21).is_err());
        let err = Plan {
            size: Some(98),
            ..plan
        }
        .check(&image, Format::Png, 21);
        assert!(err.unwrap_err().contains("expected 98x98"));

        let mut stray = image.clone();
        stray.put_pixel(96, 0, Rgba(BLACK));
        let err = plan.check(&stray, Format::Png, 21).unwrap_err();
        assert!(
            err.contains("pixel (96, 0) is dark in the quiet zone"),
            "{err}"
        );

        // A module that is not whole pixels: one pixel of a dark module left light.
        let mut broken = image.clone();
        broken.put_pixel(15, 14, Rgba(WHITE));
        let err = plan.check(&broken, Format::Png, 21).unwrap_err();
        assert!(err.contains("modules are not whole pixels"), "{err}");

        // A renderer samples pixel centres: the same SVG image fails the PNG rule, and back.
        let centres = frame(21, 4, 97, |i| (2 * i + 1) * 29 / (2 * 97));
        assert_eq!(plan.check(&centres, Format::Svg, 21), Ok(()));
        assert!(plan.check(&centres, Format::Png, 21).is_err());
        assert!(plan.check(&image, Format::Svg, 21).is_err());
    }

    #[test]
    fn the_only_colours_are_dark_and_light() {
        let dark = [0x0b, 0x3d, 0x91, 0xff];
        let transparent = [0xff, 0xff, 0xff, 0];
        let mut image = frame(21, 2, 100, png_rule(25, 100));
        for pixel in image.pixels_mut() {
            pixel.0 = if pixel.0 == BLACK { dark } else { [0, 0, 0, 0] };
        }
        let plan = Plan {
            margin: Some(2),
            dark: Some(dark),
            light: Some(transparent),
            ..Plan::default()
        };
        assert_eq!(
            plan.check(&image, Format::Png, 21),
            Ok(()),
            "transparent is transparent"
        );
        let opaque = Plan {
            light: Some(WHITE),
            ..plan
        };
        let err = opaque.check(&image, Format::Png, 21).unwrap_err();
        assert!(err.contains("expected 0b3d91ff or ffffffff"), "{err}");
        image.put_pixel(0, 0, Rgba([1, 1, 1, 1]));
        assert!(plan.check(&image, Format::Png, 21).is_err());
    }

    #[test]
    fn an_svg_is_rasterised_at_its_size_and_its_dark_drawn_over_its_light() {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50" viewBox="0 0 25 25" shape-rendering="crispEdges"><rect width="25" height="25" fill="#ffeedd"/><path fill="#0b3d91" fill-opacity="0.502" d="M2 2h21v1h-21zM2 3h1v19h-1zM22 3h1v19h-1zM2 22h21v1h-21z"/></svg>"##;
        let image = rgba(svg, Format::Svg).unwrap();
        assert_eq!(image.dimensions(), (50, 50));
        let plan = Plan {
            size: Some(50),
            min_size: None,
            margin: Some(2),
            dark: Some([0x0b, 0x3d, 0x91, 0x80]),
            light: Some([0xff, 0xee, 0xdd, 0xff]),
        };
        assert_eq!(plan.check(&image, Format::Svg, 21), Ok(()));
        assert_eq!(image.get_pixel(0, 0).0, [0xff, 0xee, 0xdd, 0xff]);
        assert!(
            rgba(b"<svg", Format::Svg)
                .unwrap_err()
                .starts_with("not an SVG")
        );
        assert!(rgba(svg, Format::Png).unwrap_err().starts_with("not a PNG"));
    }

    #[test]
    fn a_phone_sees_transparency_over_white_and_small_codes_magnified() {
        let mut image = RgbaImage::from_pixel(29, 29, Rgba([0, 0, 0, 0]));
        image.put_pixel(0, 0, Rgba(BLACK));
        image.put_pixel(1, 0, Rgba([0, 0, 0, 0x80]));
        let seen = as_seen(&image);
        assert_eq!(seen.dimensions(), (203, 203), "7 px for each pixel");
        assert_eq!(seen.get_pixel(6, 6).0, [0]);
        assert_eq!(seen.get_pixel(7, 0).0, [127]);
        assert_eq!(seen.get_pixel(14, 0).0, [255]);
        let large = RgbaImage::from_pixel(200, 200, Rgba(WHITE));
        assert_eq!(as_seen(&large).dimensions(), (200, 200));
    }
}
