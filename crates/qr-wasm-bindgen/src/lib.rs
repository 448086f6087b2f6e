//! Tier 2 of rusty-qr, wasm-bindgen flavour: `qr_core::generate` exported to JS through generated glue.
//!
//! Run with `cargo xtask build` (wasm-bindgen --target nodejs writes `node/build/bindgen/`, loaded by
//! `node/tiers/tier-2-bindgen.js`). Only conversions live here: all logic is in qr-core.
//!
//! The image options arrive as a plain JS object, `QrOptions`: an imported duck-typed interface
//! whose getters read each property (wasm-bindgen's "structural" imports; no serde, no js-sys),
//! typed in the generated `.d.ts` by the custom section below. Each value is applied the way the
//! core's rules say (`Options::set` for the strings, `Options::check` for the numbers), in the
//! contract's order.

use qr_core::{Engine, OptionName, Options, QrError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const QR_OPTIONS_TS: &str = r#"
/** The image options of docs/api.md ("Options"), each optional: absent means its default. */
export interface QrOptions {
  /** `png` (the default) or `svg`, any case. */
  format?: string;
  /** The image's exact width and height in pixels, 21 to 1000. */
  size?: number;
  /** The quiet zone in modules, 0 to 20 (default 4). */
  margin?: number;
  /** `L` (the default), `M`, `Q` or `H`, any case. */
  ecLevel?: string;
  /** The dark modules' colour: RRGGBB or RRGGBBAA hex, with or without a leading #. */
  dark?: string;
  /** The light modules' and quiet zone's colour, as `dark`. */
  light?: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// Any JS object with some of the image options (see `QrOptions` in the `.d.ts`).
    #[wasm_bindgen(typescript_type = "QrOptions")]
    pub type QrOptions;

    #[wasm_bindgen(method, getter, structural)]
    fn format(this: &QrOptions) -> Option<String>;
    #[wasm_bindgen(method, getter, structural)]
    fn size(this: &QrOptions) -> Option<u32>;
    #[wasm_bindgen(method, getter, structural)]
    fn margin(this: &QrOptions) -> Option<u32>;
    #[wasm_bindgen(method, getter = ecLevel, structural)]
    fn ec_level(this: &QrOptions) -> Option<String>;
    #[wasm_bindgen(method, getter, structural)]
    fn dark(this: &QrOptions) -> Option<String>;
    #[wasm_bindgen(method, getter, structural)]
    fn light(this: &QrOptions) -> Option<String>;

    /// JS's own error for a value outside what is allowed: what bad input throws.
    type RangeError;
    #[wasm_bindgen(constructor)]
    fn new(message: &str) -> RangeError;
}

impl QrOptions {
    /// The options for `engine`, each property given applied in the contract's order (so the
    /// first that breaks its rule is the one reported).
    fn to_options(&self, engine: Engine) -> Result<Options, QrError> {
        let mut options = Options::with_engine(engine);
        if let Some(format) = self.format() {
            options.set(OptionName::Format, format.as_bytes())?;
        }
        if let Some(size) = self.size() {
            options.size = Some(size);
        }
        if let Some(margin) = self.margin() {
            options.margin = margin;
        }
        options.check()?;
        let strings = [
            (OptionName::EcLevel, self.ec_level()),
            (OptionName::Dark, self.dark()),
            (OptionName::Light, self.light()),
        ];
        for (option, value) in strings {
            if let Some(value) = value {
                options.set(option, value.as_bytes())?;
            }
        }
        Ok(options)
    }
}

/// The image of `text` (a `Uint8Array` copied out of Wasm memory by the glue): a PNG, or an SVG
/// document with `format: 'svg'`. `engine` is an engine name parsed by `qr_core::Engine::from_str`
/// (`undefined` = the core's default); `options` any of the image options (`undefined` = all at
/// their defaults). Bad input (a text or an option that breaks its rule, a size too small for the
/// symbol) throws a `RangeError` whose message is the contract's 400 body; any other failure (an
/// unknown engine, the engine failing) an `Error` with the core's message. Tested through the real
/// glue by node/tests/tier-2-bindgen.test.js.
#[wasm_bindgen]
pub fn generate(
    text: &str,
    engine: Option<String>,
    options: Option<QrOptions>,
) -> Result<Vec<u8>, JsValue> {
    let engine = Engine::from_name(engine.as_deref()).map_err(JsError::from)?;
    let options = match options {
        None => Ok(Options::with_engine(engine)),
        Some(options) => options.to_options(engine),
    };
    options
        .and_then(|options| qr_core::generate(text, &options))
        .map_err(|err| {
            if err.is_bad_input() {
                RangeError::new(&err.to_string()).into()
            } else {
                JsError::from(err).into()
            }
        })
}
