//! The SVG writer both engines share: `width` and `height` are the PNG's pixels, the `viewBox` is in
//! modules (so the image scales), a `<rect>` paints the light colour (none if fully transparent)
//! and one `<path>` holds every dark module, a run of them in a row at a time.

use std::fmt::Write;

use crate::geometry::Geometry;
use crate::{Options, Rgba};

/// The SVG of a symbol whose module (x, y) is dark when `dark(x, y)`.
pub(crate) fn svg(
    geometry: &Geometry,
    options: &Options,
    dark: impl Fn(usize, usize) -> bool,
) -> Vec<u8> {
    let (across, size, margin) = (geometry.across(), geometry.size, geometry.margin);
    let mut out = String::with_capacity(4096);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {across} {across}" shape-rendering="crispEdges">"#
    );
    if options.light.0[3] > 0 {
        let _ = write!(
            out,
            r#"<rect width="{across}" height="{across}"{}/>"#,
            Fill(options.light)
        );
    }
    let _ = write!(out, r#"<path{} d=""#, Fill(options.dark));
    for y in 0..geometry.symbol {
        let mut x = 0;
        while x < geometry.symbol {
            if !dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < geometry.symbol && dark(x, y) {
                x += 1;
            }
            let run = x - start;
            let _ = write!(out, "M{} {}h{run}v1h-{run}z", start + margin, y + margin);
        }
    }
    out.push_str(r#""/></svg>"#);
    out.into_bytes()
}

/// ` fill="#rrggbb"`, and ` fill-opacity` when the colour is not opaque.
struct Fill(Rgba);

impl std::fmt::Display for Fill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b, a] = self.0.0;
        write!(f, r##" fill="#{r:02x}{g:02x}{b:02x}""##)?;
        if a < 0xff {
            write!(f, r#" fill-opacity="{:.3}""#, f64::from(a) / 255.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_path_of_runs_in_a_module_viewbox() {
        let mut options = Options::default();
        options.dark = Rgba([0x0b, 0x3d, 0x91, 0x80]);
        let geometry = Geometry {
            symbol: 3,
            margin: 1,
            size: 50,
        };
        // Dark: the whole first row, and (1, 2).
        let svg = svg(&geometry, &options, |x, y| y == 0 || (x, y) == (1, 2));
        assert_eq!(
            String::from_utf8(svg).unwrap(),
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50" viewBox="0 0 5 5" shape-rendering="crispEdges">"#,
                r##"<rect width="5" height="5" fill="#ffffff"/>"##,
                r##"<path fill="#0b3d91" fill-opacity="0.502" d="M1 1h3v1h-3zM2 3h1v1h-1z"/></svg>"##
            )
        );
    }

    #[test]
    fn a_transparent_background_has_no_rect() {
        let mut options = Options::default();
        options.light = Rgba([0xff, 0xff, 0xff, 0]);
        let geometry = Geometry {
            symbol: 1,
            margin: 0,
            size: 21,
        };
        let svg = String::from_utf8(svg(&geometry, &options, |_, _| true)).unwrap();
        assert!(!svg.contains("<rect"));
        assert!(svg.contains(r##"<path fill="#000000" d="M0 0h1v1h-1z"/>"##));
    }
}
