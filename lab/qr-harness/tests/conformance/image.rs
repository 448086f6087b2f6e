//! The conformance suite's judge of an image answer ([`image_check`]): decoders, pixels and byte
//! parity with the core, for the options of the case's query; and what a ceiling cannot answer.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use qr_core::{Format, MIN_DEFAULT_PX, Options, QrError};
use qr_harness::contract::{Case, Expect, Image};
use qr_harness::{CEILING_TEXT, ServerSpec};

/// The judge of an image answer to `case` from `spec`'s server: three decoders read its text at its
/// EC level (an SVG rasterised first), its pixels show what the case's `image` asks, and every tier
/// but tier-0 and py-tier-0 gives exactly the core's bytes for the server's engine and the options
/// of the case's query, as the Rust host's own parser reads them. A ceiling's answer is always the
/// PNG of [`CEILING_TEXT`] with the default options.
pub fn image_check(spec: ServerSpec, case: &Case) -> impl Fn(&Image, &[u8]) -> Result<(), String> {
    move |image, body| {
        let ceiling = spec.tier.is_ceiling();
        let text = if ceiling { CEILING_TEXT } else { &image.text };
        let format = match image.format {
            Format::Png => qr_decode::Format::Png,
            Format::Svg => qr_decode::Format::Svg,
        };
        let ec_level = image.pixels.ec_level.unwrap_or_default().name().parse()?;
        let tier0 = !spec.tier.uses_rust_core();
        let symbol = qr_decode::check_image(body, format, text, ec_level, tier0)?;
        let asked = if ceiling {
            Options::default()
        } else {
            query_options(&case.target)?
        };
        let plan = qr_decode::Plan {
            size: image.pixels.size,
            // Without `size`, at least the contract's 200 px (a Rust tier's exact width is held by
            // byte parity below).
            min_size: asked.size.is_none().then_some(MIN_DEFAULT_PX),
            margin: image.pixels.margin,
            dark: image.pixels.dark.map(|colour| colour.0),
            light: image.pixels.light.map(|colour| colour.0),
        };
        qr_decode::check_pixels(body, format, &plan, symbol.modules())?;
        if spec.tier.uses_rust_core() {
            let mut options = asked;
            options.engine = spec.engine.unwrap_or_default();
            let expected = core_image(text, &options)?;
            if body != expected {
                return Err(format!(
                    "the image ({} bytes) differs from qr_core::generate with {} ({} bytes)",
                    body.len(),
                    options.engine,
                    expected.len()
                ));
            }
        }
        Ok(())
    }
}

/// `qr_core::generate(text, options)`, made once per process for each text and options: every
/// Rust tier and mode is held to the same images.
fn core_image(text: &str, options: &Options) -> Result<Vec<u8>, String> {
    type Made = HashMap<(String, Options), Vec<u8>>;
    static MADE: LazyLock<Mutex<Made>> = LazyLock::new(Mutex::default);
    let made = || MADE.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (text.to_owned(), *options);
    if let Some(image) = made().get(&key) {
        return Ok(image.clone());
    }
    let image = qr_core::generate(text, options).map_err(|e| e.to_string())?;
    made().insert(key, image.clone());
    Ok(image)
}

/// The options the query of `target` asks for, read by qr-server's parser (the Rust host's own).
fn query_options(target: &str) -> Result<Options, String> {
    qr_server::qrcode_query(query_of(target))
        .map(|asked| asked.options)
        .map_err(|e| format!("qr-server's parser refuses {target:?}: {e}"))
}

/// The query of a request target: after the first `?`, up to a `#`.
fn query_of(target: &str) -> Option<&str> {
    let query = target.split_once('?').map(|(_, query)| query);
    query.map(|query| query.split('#').next().unwrap_or_default())
}

/// Whether `case` asks what a ceiling, which answers one fixed PNG to every valid request without
/// building a symbol, cannot give: an SVG, pixels (size, margin, EC level, colours), or the `400`
/// of a `size` too small for the symbol the text needs. Ceilings measure the host's HTTP layer and
/// keep the rest of the table.
pub fn beyond_a_ceiling(case: &Case) -> bool {
    match &case.expect {
        Expect::Image(image) => image.format != Format::Png || !image.pixels.is_empty(),
        Expect::Answer(_) => qr_server::qrcode_query(query_of(&case.target)).is_ok_and(|asked| {
            let refused = qr_core::generate(&asked.text, &asked.options);
            matches!(refused, Err(QrError::SizeTooSmall { .. }))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use qr_core::Engine;
    use qr_harness::contract::Contract;
    use qr_harness::{Mode, Stack, Tier};

    use super::*;

    #[test]
    #[ignore = "needs `cargo xtask build` (the Node decoders); run by `cargo xtask test`"]
    fn the_image_check_accepts_the_core_and_rejects_the_wrong_text_bytes_or_pixels() {
        // The suite's own checks must be able to fail.
        let contract = Contract::load().unwrap();
        let case = |name: &str| {
            let found = contract
                .cases(Stack::Axum)
                .into_iter()
                .find(|case| case.name == name);
            found.unwrap_or_else(|| panic!("contract/cases.json has no case {name:?}"))
        };
        let image = |case: &Case| match &case.expect {
            Expect::Image(image) => image.clone(),
            other => panic!("{}: {other:?}", case.name),
        };
        // The core's image for a request target, as qr-server's parser reads it.
        let generate = |target: &str, engine| {
            let asked = qr_server::qrcode_query(query_of(target)).unwrap();
            let mut options = asked.options;
            options.engine = engine;
            qr_core::generate(&asked.text, &options).unwrap()
        };
        let tier4 = ServerSpec {
            engine: Some(Engine::Fast),
            ..ServerSpec::new(Tier::Tier4, Mode::Single)
        };
        let tier0 = ServerSpec::new(Tier::Tier0, Mode::Single);

        let hello = Case::png("hello", "hello");
        let png = generate("/qrcode?text=hello", Engine::Fast);
        assert_eq!(image_check(tier4, &hello)(&image(&hello), &png), Ok(()));
        let wrong_text = Image::png("hellO");
        assert!(image_check(tier4, &hello)(&wrong_text, &png).is_err());
        let article = generate("/qrcode?text=hello", Engine::Article);
        let err = image_check(tier4, &hello)(&image(&hello), &article).unwrap_err();
        assert!(
            err.contains("differs from qr_core::generate with fast"),
            "{err}"
        );
        assert_eq!(image_check(tier0, &hello)(&image(&hello), &article), Ok(()));
        assert!(image_check(tier0, &hello)(&image(&hello), b"not a png").is_err());
        let small = generate("/qrcode?text=hello&size=100", Engine::Fast);
        let err = image_check(tier0, &hello)(&image(&hello), &small).unwrap_err();
        assert!(err.contains("expected at least 200x200"), "{err}");

        // The options of the query, the EC level ZXing reads, the pixels, the SVG.
        let high = case("ecLevel=H");
        let at_h = generate(&high.target, Engine::Fast);
        assert_eq!(image_check(tier4, &high)(&image(&high), &at_h), Ok(()));
        let at_l = generate("/qrcode?text=hello+world", Engine::Fast);
        let err = image_check(tier0, &high)(&image(&high), &at_l).unwrap_err();
        assert!(
            err.contains("expected \"hello world\" at EC level H"),
            "{err}"
        );
        let sized = case("size=300");
        let wide = generate(&sized.target, Engine::Fast);
        assert_eq!(image_check(tier4, &sized)(&image(&sized), &wide), Ok(()));
        let err = image_check(tier0, &sized)(&image(&sized), &png).unwrap_err();
        assert!(err.contains("expected 300x300"), "{err}");
        let margin = case("margin=0");
        assert!(
            image_check(tier0, &margin)(&image(&margin), &png).is_err(),
            "a margin of 4"
        );
        let brand = case("brand colours");
        let err = image_check(tier0, &brand)(&image(&brand), &png).unwrap_err();
        assert!(err.contains("expected 0b3d91ff or ffeeddff"), "{err}");
        let svg = case("an SVG at ecLevel=H in brand colours");
        let drawn = generate(&svg.target, Engine::Fast);
        assert_eq!(image_check(tier4, &svg)(&image(&svg), &drawn), Ok(()));
        assert!(
            image_check(tier4, &svg)(&image(&sized), &drawn).is_err(),
            "an SVG is no PNG"
        );

        // A ceiling answers the PNG of its one text, and is not asked for pixels or SVGs.
        let ceiling = ServerSpec {
            engine: Some(Engine::Article),
            ..ServerSpec::new(Tier::RustCeiling, Mode::Single)
        };
        let fixed = generate(&Case::png("", CEILING_TEXT).target, Engine::Article);
        assert_eq!(
            image_check(ceiling, &sized)(&Image::png("any"), &fixed),
            Ok(())
        );
        assert!(beyond_a_ceiling(&sized) && beyond_a_ceiling(&svg));
        assert!(beyond_a_ceiling(&case(
            "size=28 is one short of version 1 with its margin"
        )));
        assert!(!beyond_a_ceiling(&case(
            "format=png is the default's bytes"
        )));
        assert!(
            !beyond_a_ceiling(&case("size=20 (below 21)")),
            "the options' own rules"
        );
    }
}
