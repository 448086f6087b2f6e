//! What the fuzz targets share: the core's property, checked for one engine with any image
//! options. Each target in `fuzz_targets/` is a thin `fuzz_target!` over a check; lab/fuzz/README.md
//! says what each checks.

use std::collections::HashMap;

use qr_core::{
    EcLevel, Engine, Format, MAX_MARGIN, MAX_SIZE, MAX_TEXT_BYTES, MIN_DEFAULT_PX, MIN_SIZE,
    Options, QrError, Rgba,
};
use qr_decode::grid::ModuleGrid;
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};

/// One fuzz target per engine (`core_fast`, `core_article`): a new engine fails to compile here
/// until it has its own target.
pub const fn target_of(engine: Engine) -> &'static str {
    match engine {
        Engine::Fast => "core_fast",
        Engine::Article => "core_article",
    }
}

/// Any bytes: the image options they ask for (a first byte of `0x80` or more, see
/// [`options_and_text`]; otherwise none) and a text. The contract's text rule gives a typed input
/// error (empty, then too long, then not UTF-8, in that order); out-of-bounds options and a size
/// too small for the symbol give theirs (`BadOption`, `SizeTooSmall` with the exact minimum);
/// otherwise the image exists and shows exactly the text. Panics otherwise.
///
/// The symbol is read from the plain image (the same text and EC level, every other option at its
/// default): `qr_decode::grid::ModuleGrid` reads that PNG module by module, checking every pixel
/// (a square of at least 200 px made of whole `s` x `s` cells of pure black or white, `s` the
/// smallest module size reaching 200 px, a white quiet zone of 4 modules, a symbol of a QR size),
/// and rqrr's decoder reads its modules (format, the EC level asked for, Reed-Solomon, byte
/// segments) without its search for a code in a photo (milliseconds per image; `qr_decode::decode`,
/// which the conformance suite runs). For the fast engine, the modules must also equal those of
/// qrcodegen at that level, the reference encoder of qr-core's differential tests (same version,
/// same mask choice): rqrr corrects errors, so that catches a wrong module that reading back would
/// hide. The image with the options must then show those modules: a PNG pixel for pixel (its exact
/// size, pixel `i` showing module `floor(i * W / size)` of the `W` across, quiet zone included,
/// each pixel exactly the dark or the light colour), an SVG by its attributes and by the modules
/// its path covers (see [`check_svg`]).
pub fn core(data: &[u8], engine: Engine) {
    let (options, text_bytes) = options_and_text(data, engine);
    let text = match qr_core::text(text_bytes) {
        Ok(text) => text,
        Err(error) => {
            assert!(error.is_bad_input(), "{error:?} is not an input error");
            let expected = if text_bytes.is_empty() {
                QrError::Missing
            } else if text_bytes.len() > MAX_TEXT_BYTES {
                QrError::TooLong
            } else {
                QrError::NotUtf8
            };
            assert_eq!(error, expected, "{} bytes", text_bytes.len());
            return;
        }
    };
    let mut plain_options = Options::with_engine(engine);
    plain_options.ec_level = options.ec_level;
    let plain = match qr_core::generate(text, &plain_options) {
        Ok(png) => png,
        Err(error) => panic!(
            "{engine}: a valid text of {} bytes failed: {error:?}",
            text_bytes.len()
        ),
    };
    let modules = read_plain(&plain, text_bytes, options.ec_level, engine);
    let result = qr_core::generate(text, &options);
    match expected_error(&options, modules.size()) {
        Some(error) => assert_eq!(result, Err(error), "{options:?}"),
        None => {
            let image = result.unwrap_or_else(|e| panic!("{engine}: {options:?} failed: {e:?}"));
            let plan = Plan::new(&options, &modules);
            match options.format {
                Format::Png => plan.check_png(&image),
                Format::Svg => plan.check_svg(&image),
            }
        }
    }
}

/// The options and the text of a fuzz input. A first byte under `0x80` (ASCII, as most texts
/// start) asks for no options: the whole input is the text. Otherwise its bits pick the format
/// (bit 0), the EC level (bits 1-2), and whether the colours (bit 3: dark then light, 4 bytes
/// each), a size (bit 4: a little-endian u16, taken modulo 1100, so out of bounds at times) and a
/// margin (bit 5: a byte modulo 24, out of bounds at times) follow; the rest is the text.
pub fn options_and_text(data: &[u8], engine: Engine) -> (Options, &[u8]) {
    let mut options = Options::with_engine(engine);
    let Some((&first, mut rest)) = data.split_first().filter(|(first, _)| **first >= 0x80) else {
        return (options, data);
    };
    let mut take = |n: usize| {
        let (taken, after) = rest.split_at(n.min(rest.len()));
        rest = after;
        let mut bytes = [0; 4];
        bytes[..taken.len()].copy_from_slice(taken);
        bytes
    };
    if first & 1 != 0 {
        options.format = Format::Svg;
    }
    options.ec_level = EcLevel::ALL[usize::from(first >> 1 & 3)];
    if first & 8 != 0 {
        options.dark = Rgba(take(4));
        options.light = Rgba(take(4));
    }
    if first & 16 != 0 {
        let [lo, hi, ..] = take(2);
        options.size = Some(u32::from(u16::from_le_bytes([lo, hi])) % 1100);
    }
    if first & 32 != 0 {
        options.margin = u32::from(take(1)[0]) % 24;
    }
    (options, rest)
}

/// The modules of the plain PNG (see [`core`]), read and checked.
fn read_plain(png: &[u8], data: &[u8], ec_level: EcLevel, engine: Engine) -> ModuleGrid {
    let modules =
        ModuleGrid::read(png).unwrap_or_else(|e| panic!("{engine}: the PNG of {data:?}: {e}"));
    let grid = rqrr::Grid::new(rqrr::SimpleGrid::from_func(modules.size(), |x, y| {
        modules.dark(x, y)
    }));
    let mut read = Vec::new();
    let meta = grid
        .decode_to(&mut read)
        .unwrap_or_else(|e| panic!("{engine}: rqrr cannot read the PNG of {data:?}: {e}"));
    assert!(
        read == data,
        "{engine}: the PNG of {data:?} reads back as {read:?}"
    );
    // The format information's two level bits (ISO/IEC 18004 Table 12): L 01, M 00, Q 11, H 10.
    let bits = [EcLevel::M, EcLevel::L, EcLevel::H, EcLevel::Q];
    assert_eq!(
        bits.get(usize::from(meta.ecc_level)),
        Some(&ec_level),
        "EC level"
    );
    if engine == Engine::Fast {
        let ecc = match ec_level {
            EcLevel::L => QrCodeEcc::Low,
            EcLevel::M => QrCodeEcc::Medium,
            EcLevel::Q => QrCodeEcc::Quartile,
            EcLevel::H => QrCodeEcc::High,
        };
        let reference = QrCode::encode_segments_advanced(
            &[QrSegment::make_bytes(data)],
            ecc,
            Version::MIN,
            Version::MAX,
            None,
            false,
        )
        .expect("512 bytes fit");
        assert_eq!(
            modules.size() as i32,
            reference.size(),
            "size against qrcodegen"
        );
        for y in 0..modules.size() {
            for x in 0..modules.size() {
                let expected = reference.get_module(x as i32, y as i32);
                assert_eq!(
                    modules.dark(x, y),
                    expected,
                    "module ({x}, {y}) against qrcodegen"
                );
            }
        }
    }
    modules
}

/// The error the contract gives for `options` with a symbol `symbol` modules wide, if any:
/// `size` and `margin` out of their bounds, in that order, then a size below one pixel per module.
fn expected_error(options: &Options, symbol: usize) -> Option<QrError> {
    if options
        .size
        .is_some_and(|size| !(MIN_SIZE..=MAX_SIZE).contains(&size))
    {
        return Some(QrError::BadOption(qr_core::OptionName::Size));
    }
    if options.margin > MAX_MARGIN {
        return Some(QrError::BadOption(qr_core::OptionName::Margin));
    }
    let across = symbol as u32 + 2 * options.margin;
    options
        .size
        .filter(|&size| size < across)
        .map(|_| QrError::SizeTooSmall { min: across })
}

/// Where the modules must land: `across` modules (quiet zone included) on `size` pixels.
struct Plan<'a> {
    options: &'a Options,
    modules: &'a ModuleGrid,
    margin: usize,
    across: usize,
    size: usize,
}

impl<'a> Plan<'a> {
    fn new(options: &'a Options, modules: &'a ModuleGrid) -> Plan<'a> {
        let margin = options.margin as usize;
        let across = modules.size() + 2 * margin;
        let default_size = across * (MIN_DEFAULT_PX as usize).div_ceil(across);
        Plan {
            options,
            modules,
            margin,
            across,
            size: options.size.map_or(default_size, |size| size as usize),
        }
    }

    /// Whether module (`x`, `y`) of the image, quiet zone included, is dark.
    fn dark(&self, x: usize, y: usize) -> bool {
        let symbol = self.margin..self.margin + self.modules.size();
        symbol.contains(&x)
            && symbol.contains(&y)
            && self.modules.dark(x - self.margin, y - self.margin)
    }

    /// Every pixel of the PNG: `size` x `size`, pixel `i` showing module `floor(i * W / size)`,
    /// exactly the dark or the light colour (alpha 0 is alpha 0, whatever its colour).
    fn check_png(&self, png: &[u8]) {
        let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .unwrap_or_else(|e| panic!("not a PNG: {e}"))
            .to_rgba8();
        assert_eq!(
            image.dimensions(),
            (self.size as u32, self.size as u32),
            "{:?}",
            self.options
        );
        let module = |i: u32| i as usize * self.across / self.size;
        for (x, y, pixel) in image.enumerate_pixels() {
            let colour = if self.dark(module(x), module(y)) {
                self.options.dark
            } else {
                self.options.light
            };
            assert!(
                pixel.0 == colour.0 || (pixel.0[3] == 0 && colour.0[3] == 0),
                "pixel ({x}, {y}) is {:?}, expected {colour} ({:?})",
                pixel.0,
                self.options
            );
        }
    }

    /// The SVG: the root's `width` and `height` are the size, its `viewBox` the modules across,
    /// `shape-rendering="crispEdges"`; a `<rect>` covering it in the light colour unless that is
    /// fully transparent; one `<path>` in the dark colour whose subpaths (`M`, then `h`, `v`, `H`,
    /// `V` moves, closed by `z`) are rectangles on whole modules, each dark module covered once and
    /// no light one; and nothing else.
    fn check_svg(&self, svg: &[u8]) {
        let svg = std::str::from_utf8(svg).expect("an SVG is UTF-8");
        let elements = elements(svg);
        let names: Vec<&str> = elements.iter().map(|(name, _)| *name).collect();
        let light_shown = self.options.light.0[3] > 0;
        let expected: &[&str] = if light_shown {
            &["svg", "rect", "path", "/svg"]
        } else {
            &["svg", "path", "/svg"]
        };
        assert_eq!(names, expected, "{svg}");
        let across = self.across.to_string();
        let root = &elements[0].1;
        assert_eq!(root["width"], self.size.to_string());
        assert_eq!(root["height"], self.size.to_string());
        assert_eq!(root["viewBox"], format!("0 0 {across} {across}"));
        assert_eq!(root["shape-rendering"], "crispEdges");
        if light_shown {
            let rect = &elements[1].1;
            assert_eq!((&rect["width"], &rect["height"]), (&across, &across));
            assert_eq!(rect.get("x").map_or("0", String::as_str), "0");
            assert_eq!(rect.get("y").map_or("0", String::as_str), "0");
            check_fill(rect, self.options.light);
        }
        let path = &elements[names.len() - 2].1;
        check_fill(path, self.options.dark);
        let mut covered = vec![false; self.across * self.across];
        for (x, y) in rectangles(&path["d"]).into_iter().flat_map(cells) {
            assert!(x < self.across && y < self.across, "({x}, {y}) is outside");
            let cell = &mut covered[y * self.across + x];
            assert!(!*cell, "module ({x}, {y}) is covered twice");
            *cell = true;
        }
        for y in 0..self.across {
            for x in 0..self.across {
                assert_eq!(
                    covered[y * self.across + x],
                    self.dark(x, y),
                    "module ({x}, {y})"
                );
            }
        }
    }
}

/// `fill` is the colour's `#rrggbb`, with `fill-opacity` (3 decimals) exactly when it is not opaque.
fn check_fill(attributes: &HashMap<String, String>, colour: Rgba) {
    let [r, g, b, a] = colour.0;
    assert_eq!(attributes["fill"], format!("#{r:02x}{g:02x}{b:02x}"));
    match attributes.get("fill-opacity") {
        None => assert_eq!(a, 0xff, "an opaque fill, yet alpha {a}"),
        Some(opacity) => {
            let opacity: f64 = opacity.parse().expect("fill-opacity is a number");
            assert!(
                a < 0xff && (opacity - f64::from(a) / 255.0).abs() <= 0.0005,
                "fill-opacity {opacity} for alpha {a}"
            );
        }
    }
}

/// The SVG's tags in order, each with its attributes (`/svg` for the closing tag). Only what the
/// core writes: no text, comments or nesting beyond the root.
fn elements(svg: &str) -> Vec<(&str, HashMap<String, String>)> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        assert!(
            rest[..start].is_empty(),
            "text in the SVG: {:?}",
            &rest[..start]
        );
        let end = rest[start..].find('>').expect("a closed tag") + start;
        let tag = rest[start + 1..end].trim_end_matches('/');
        let (name, mut attributes) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut parsed = HashMap::new();
        while let Some((key, after)) = attributes.trim_start().split_once("=\"") {
            let (value, after) = after.split_once('"').expect("a quoted value");
            assert!(
                parsed.insert(key.to_owned(), value.to_owned()).is_none(),
                "{key} twice"
            );
            attributes = after;
        }
        assert!(attributes.trim().is_empty(), "unparsed: {attributes:?}");
        out.push((name, parsed));
        rest = &rest[end + 1..];
    }
    assert!(rest.is_empty(), "text after the SVG: {rest:?}");
    out
}

/// The rectangles `[x0, y0, x1, y1)` of a path's data: each subpath an `M x y` then axis-aligned
/// moves back to its start, `z`.
fn rectangles(d: &str) -> Vec<[i64; 4]> {
    let mut tokens = Tokens(d);
    let mut out = Vec::new();
    while let Some(command) = tokens.command() {
        assert_eq!(command, 'M', "a subpath starts with M: {d}");
        let start = (tokens.number(), tokens.number());
        let mut at = start;
        let mut corners = vec![start];
        loop {
            match tokens.command().expect("a closed subpath") {
                'h' => at.0 += tokens.number(),
                'v' => at.1 += tokens.number(),
                'H' => at.0 = tokens.number(),
                'V' => at.1 = tokens.number(),
                'z' | 'Z' => break,
                other => panic!("path command {other} in {d}"),
            }
            corners.push(at);
        }
        let xs = corners.iter().map(|c| c.0);
        let ys = corners.iter().map(|c| c.1);
        let rectangle = [
            xs.clone().min().unwrap(),
            ys.clone().min().unwrap(),
            xs.max().unwrap(),
            ys.max().unwrap(),
        ];
        let [x0, y0, x1, y1] = rectangle;
        assert!(x0 < x1 && y0 < y1, "an empty subpath in {d}");
        // Four distinct corners of the bounding box, joined by horizontal and vertical moves.
        let on_edge = |&(x, y): &(i64, i64)| (x == x0 || x == x1) && (y == y0 || y == y1);
        let distinct = (1..corners.len()).all(|i| !corners[..i].contains(&corners[i]));
        assert!(
            corners.len() == 4 && corners.iter().all(on_edge) && distinct,
            "a subpath that is not a rectangle: {corners:?}"
        );
        out.push(rectangle);
    }
    out
}

/// The modules a rectangle covers.
fn cells([x0, y0, x1, y1]: [i64; 4]) -> impl Iterator<Item = (usize, usize)> {
    let whole = |v: i64| usize::try_from(v).expect("a module inside the image");
    (whole(y0)..whole(y1)).flat_map(move |y| (whole(x0)..whole(x1)).map(move |x| (x, y)))
}

/// A path's data, read as commands and whole numbers.
struct Tokens<'a>(&'a str);

impl Tokens<'_> {
    fn command(&mut self) -> Option<char> {
        let rest = self.0.trim_start();
        let command = rest.chars().next()?;
        assert!(command.is_ascii_alphabetic(), "a command, not {rest:?}");
        self.0 = &rest[1..];
        Some(command)
    }

    fn number(&mut self) -> i64 {
        let rest = self.0.trim_start_matches([' ', ',']);
        let end = rest
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
            .map_or(rest.len(), |(i, _)| i);
        self.0 = &rest[end..];
        rest[..end]
            .parse()
            .unwrap_or_else(|_| panic!("a whole number at {rest:?}"))
    }
}
