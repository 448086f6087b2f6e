//! Tier 2 of rusty-qr: `qr_core::generate` compiled to WebAssembly behind a hand-written ABI (no wasm-bindgen).
//!
//! Run with `cargo xtask build` (builds `node/build/qr_wasm.wasm` for `node/tiers/tier-2.js`).
//!
//! # The ABI (wasm32: pointers and lengths are `i32`; every multi-byte value is little-endian)
//!
//! * `alloc(len) -> ptr`: `len` bytes for the caller to fill (`0` = out of memory). Free with
//!   `dealloc(ptr, len)`, passing the same `len`.
//! * `generate(text_ptr, text_len, engine_ptr, engine_len, options_ptr) -> result`: `text` must be
//!   UTF-8; `engine_ptr == 0` means the core's default engine, otherwise the engine's name in
//!   UTF-8, parsed with `qr_core::Engine::from_str` (so a new engine needs no ABI change);
//!   `options_ptr == 0` means every image option at its default, otherwise it points to the
//!   16-byte options record below. The input buffers stay owned by the caller. `result` points to
//!   a [`GenerateResult`]: on wasm32 three `u32` at offsets 0, 4, 8: `status`, `data_ptr`,
//!   `data_len`. Status [`STATUS_OK`]: data is the image (PNG or SVG, as the record asked);
//!   [`STATUS_BAD_INPUT`]: data is the contract's one-line message for a text or an option that
//!   breaks its rule, or a size too small for the symbol (an HTTP 400 body); [`STATUS_FAILED`]:
//!   data is the one-line message of any other failure (an unknown engine, the engine failing).
//!   Copy the data out, then call `free_result(result)`, which frees the data and the struct.
//!
//! Checked in this order: the text rule, the engine's name, the record, then the core's own
//! checks (the size against the symbol).
//!
//! # The options record
//!
//! `qr_core`'s `record` (the sidecar's request frames carry the same bytes; a JS host writes it
//! with `node/tiers/options-record.js`). `record::decode` checks it, so a byte no option has, or a
//! size or margin out of its bounds, is that option's bad input.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 1 | `format`: 0 png, 1 svg |
//! | 1 | 1 | `ecLevel`: 0 L, 1 M, 2 Q, 3 H |
//! | 2 | 1 | `margin`, in modules (0 to 20) |
//! | 3 | 1 | 0 (reserved) |
//! | 4 | 4 | `size` in pixels (21 to 1000), unsigned little-endian; 0 = the default |
//! | 8 | 4 | `dark`: red, green, blue, alpha |
//! | 12 | 4 | `light`: red, green, blue, alpha |
//!
//! Panics: the core is panic-free; on wasm32-unknown-unknown a panic would abort, i.e. trap
//! (`WebAssembly.RuntimeError`), which the host survives by dropping this instance for a new one.
//! There is no other logic here: only conversions around `qr_core::generate`.

use std::alloc::{Layout, alloc as raw_alloc, dealloc as raw_dealloc};
use std::ptr::{self, NonNull};

use qr_core::{Engine, Options, QrError, record};

/// `GenerateResult::status`: `data` holds the image.
pub const STATUS_OK: u32 = 0;
/// `GenerateResult::status`: `data` holds the message of a failure (UTF-8, one line).
pub const STATUS_FAILED: u32 = 1;
/// `GenerateResult::status`: `data` holds the contract's message for the input (UTF-8, one line).
pub const STATUS_BAD_INPUT: u32 = 2;

/// What `generate` returns a pointer to; freed by `free_result`.
#[repr(C)]
#[derive(Debug)]
pub struct GenerateResult {
    /// [`STATUS_OK`], [`STATUS_FAILED`] or [`STATUS_BAD_INPUT`].
    pub status: u32,
    /// The image or the message; owned by this struct.
    pub data_ptr: *mut u8,
    /// Length of `data_ptr` in bytes.
    pub data_len: usize,
}

/// Returns `len` writable bytes, or null when memory is exhausted. Never null for `len == 0`.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    match Layout::array::<u8>(len) {
        Ok(_) if len == 0 => NonNull::dangling().as_ptr(),
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { raw_alloc(layout) },
        Err(_) => ptr::null_mut(),
    }
}

/// Frees what [`alloc`] returned.
///
/// # Safety
/// `ptr` must come from `alloc(len)` with the same `len` and not have been freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    if len == 0 || ptr.is_null() {
        return;
    }
    // SAFETY: the caller passes what `alloc(len)` returned, so this layout is the one it used.
    unsafe { raw_dealloc(ptr, Layout::from_size_align_unchecked(len, 1)) }
}

/// Makes the image of `text` with the named engine and the options record (see the crate doc).
/// Never returns null.
///
/// # Safety
/// `text_ptr` must be valid for `text_len` bytes; `engine_ptr` must be null or valid for
/// `engine_len` bytes; `options_ptr` must be null or valid for `record::LEN` bytes. All are only
/// read, during this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn generate(
    text_ptr: *const u8,
    text_len: usize,
    engine_ptr: *const u8,
    engine_len: usize,
    options_ptr: *const u8,
) -> *mut GenerateResult {
    // SAFETY: forwarded from this function's contract.
    let text = unsafe { bytes(text_ptr, text_len) };
    let engine = (!engine_ptr.is_null()).then(|| unsafe { bytes(engine_ptr, engine_len) });
    // SAFETY: a non-null `options_ptr` is valid for `record::LEN` bytes, of alignment 1.
    let record = unsafe { options_ptr.cast::<[u8; record::LEN]>().as_ref() };
    let (status, data) = match generate_bytes(text, engine, record) {
        Ok(image) => (STATUS_OK, image),
        Err((status, message)) => (status, message.into_bytes()),
    };
    // A boxed slice's allocation is exactly `len` bytes with align 1: what `dealloc` frees.
    let data = Box::into_raw(data.into_boxed_slice());
    Box::into_raw(Box::new(GenerateResult {
        status,
        data_ptr: data.cast::<u8>(),
        data_len: data.len(),
    }))
}

/// Frees a result of [`generate`] and its data.
///
/// # Safety
/// `result` must come from `generate` and not have been freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free_result(result: *mut GenerateResult) {
    if result.is_null() {
        return;
    }
    // SAFETY: `generate` made both with `Box::into_raw`.
    unsafe {
        let result = Box::from_raw(result);
        drop(Box::from_raw(ptr::slice_from_raw_parts_mut(
            result.data_ptr,
            result.data_len,
        )));
    }
}

/// # Safety
/// `ptr` valid for `len` bytes (any pointer when `len == 0`).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// Only conversions: the core's text rule on the bytes, the engine by name, the options from
/// their record (none: the defaults), the core call; errors as their status and message.
fn generate_bytes(
    text: &[u8],
    engine: Option<&[u8]>,
    record: Option<&[u8; record::LEN]>,
) -> Result<Vec<u8>, (u32, String)> {
    let text = qr_core::text(text).map_err(core_error)?;
    let engine = engine.map(String::from_utf8_lossy);
    let engine =
        Engine::from_name(engine.as_deref()).map_err(|e| (STATUS_FAILED, e.to_string()))?;
    let options = match record {
        None => Options::with_engine(engine),
        Some(record) => record::decode(engine, record).map_err(core_error)?,
    };
    qr_core::generate(text, &options).map_err(core_error)
}

/// The status of a core error (the input's fault or not) and its message.
fn core_error(err: QrError) -> (u32, String) {
    let status = if err.is_bad_input() {
        STATUS_BAD_INPUT
    } else {
        STATUS_FAILED
    };
    (status, err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qr_core::{EcLevel, Format, OptionName, Rgba};

    /// Copies `bytes` into a fresh `alloc`, as the glue does; null for `None`.
    fn copy_in(bytes: Option<&[u8]>) -> (*mut u8, usize) {
        match bytes {
            Some(bytes) => {
                let p = alloc(bytes.len());
                // SAFETY: `p` holds `bytes.len()` fresh bytes.
                unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
                (p, bytes.len())
            }
            None => (ptr::null_mut(), 0),
        }
    }

    /// Calls the ABI the way tier-2.js does: alloc + copy in, generate, copy out, free everything.
    fn call_with(text: &[u8], engine: Option<&str>, record: Option<&[u8]>) -> (u32, Vec<u8>) {
        let (text_ptr, text_len) = copy_in(Some(text));
        let (engine_ptr, engine_len) = copy_in(engine.map(str::as_bytes));
        let (record_ptr, record_len) = copy_in(record);
        // SAFETY: every pointer is null or alloc'd and filled for its length.
        unsafe {
            let result = generate(text_ptr, text_len, engine_ptr, engine_len, record_ptr);
            let out = std::slice::from_raw_parts((*result).data_ptr, (*result).data_len).to_vec();
            let status = (*result).status;
            free_result(result);
            dealloc(text_ptr, text_len);
            dealloc(engine_ptr, engine_len);
            dealloc(record_ptr, record_len);
            (status, out)
        }
    }

    fn call(text: &[u8], engine: Option<&str>) -> (u32, Vec<u8>) {
        call_with(text, engine, None)
    }

    #[test]
    fn ok_is_the_cores_png_for_every_engine() {
        let (status, png) = call(b"https://tourofrust.com", None);
        assert_eq!(status, STATUS_OK);
        assert_eq!(
            png,
            qr_core::generate("https://tourofrust.com", &Options::default()).unwrap()
        );
        for engine in Engine::ALL {
            let (status, png) = call("h\u{e9}".as_bytes(), Some(engine.name()));
            assert_eq!(status, STATUS_OK, "{engine}");
            let expected = qr_core::generate("h\u{e9}", &Options::with_engine(*engine)).unwrap();
            assert_eq!(png, expected, "{engine}");
        }
    }

    #[test]
    fn the_options_record_gives_the_cores_bytes_svg_too() {
        for &engine in Engine::ALL {
            let mut options = Options::with_engine(engine);
            // The defaults' record is the bytes of no record.
            let defaults = record::encode(&options);
            let (status, png) = call_with(b"hello", Some(engine.name()), Some(&defaults));
            assert_eq!((status, png), call(b"hello", Some(engine.name())));
            options.format = Format::Svg;
            options.size = Some(300);
            options.margin = 2;
            options.ec_level = EcLevel::H;
            options.dark = Rgba([0x0b, 0x3d, 0x91, 0xff]);
            options.light = Rgba([0xff, 0xff, 0xff, 0]);
            for format in [Format::Svg, Format::Png] {
                options.format = format;
                let record = record::encode(&options);
                let (status, image) = call_with(b"hello", Some(engine.name()), Some(&record));
                assert_eq!(status, STATUS_OK, "{}", String::from_utf8_lossy(&image));
                assert_eq!(image, qr_core::generate("hello", &options).unwrap());
                assert_eq!(image.starts_with(b"<svg"), format == Format::Svg);
            }
        }
    }

    #[test]
    fn bad_input_and_failures_carry_their_status_and_message() {
        let message = |status: u32, text: &[u8], engine, record: Option<&[u8]>| {
            let (got, data) = call_with(text, engine, record);
            assert_eq!(got, status, "{}", String::from_utf8_lossy(&data));
            String::from_utf8(data).unwrap()
        };
        let bad = |text: &[u8], record| message(STATUS_BAD_INPUT, text, None, record);
        assert_eq!(bad(b"", None), QrError::Missing.to_string());
        assert_eq!(bad(&[b'a'; 513], None), QrError::TooLong.to_string());
        assert_eq!(bad(&[0xff], None), QrError::NotUtf8.to_string());
        let mut too_small = Options::default();
        too_small.size = Some(28);
        let too_small = record::encode(&too_small);
        assert_eq!(
            bad(b"hello", Some(&too_small)),
            "\"size\" must be at least 29 pixels for this text, ecLevel and margin"
        );
        let mut broken = record::encode(&Options::default());
        broken[1] = 4;
        assert_eq!(bad(b"hello", Some(&broken)), OptionName::EcLevel.rule());
        // The text rule comes first.
        assert_eq!(bad(b"", Some(&broken)), QrError::Missing.to_string());

        let failed = |engine| message(STATUS_FAILED, b"a", Some(engine), None);
        assert_eq!(
            failed("nope"),
            "nope".parse::<Engine>().unwrap_err().to_string()
        );
        assert_eq!(failed(""), "".parse::<Engine>().unwrap_err().to_string());
    }

    #[test]
    fn alloc_zero_is_not_null_and_free_of_null_is_a_no_op() {
        let p = alloc(0);
        assert!(!p.is_null());
        unsafe {
            dealloc(p, 0);
            dealloc(ptr::null_mut(), 5);
            free_result(ptr::null_mut());
        }
    }
}
