//! Tier 2 of rusty-qr: `qr_core::generate` compiled to WebAssembly behind a hand-written ABI (no wasm-bindgen).
//!
//! Run with `cargo xtask build` (builds `node/build/qr_wasm.wasm` for `node/tiers/tier-2.js`).
//!
//! # The ABI (wasm32: pointers and lengths are `i32`; every multi-byte value is little-endian)
//!
//! * `alloc(len) -> ptr`: `len` bytes for the caller to fill (`0` = out of memory). Free with
//!   `dealloc(ptr, len)`, passing the same `len`.
//! * `generate(text_ptr, text_len, engine_ptr, engine_len) -> result`: `text` must be UTF-8;
//!   `engine_ptr == 0` means the core's default engine, otherwise the engine's name in UTF-8, parsed
//!   with `qr_core::Engine::from_str` (so a new engine needs no ABI change). The input buffers stay
//!   owned by the caller. `result` points to a [`GenerateResult`]: on wasm32 three `u32` at offsets
//!   0, 4, 8: `status`, `data_ptr`, `data_len`. Status [`STATUS_OK`]: data is the PNG; [`STATUS_ERROR`]:
//!   data is the error's one-line message in UTF-8 (the core's `Display`). Copy the data out, then
//!   call `free_result(result)`, which frees the data and the struct.
//!
//! Panics: the core is panic-free; on wasm32-unknown-unknown a panic would abort, i.e. trap
//! (`WebAssembly.RuntimeError`), which the host survives by dropping this instance for a new one.
//! There is no other logic here: only conversions around `qr_core::generate`.

use std::alloc::{Layout, alloc as raw_alloc, dealloc as raw_dealloc};
use std::ptr::{self, NonNull};

use qr_core::{Engine, Options};

/// `GenerateResult::status`: `data` holds the PNG.
pub const STATUS_OK: u32 = 0;
/// `GenerateResult::status`: `data` holds the error message (UTF-8, one line).
pub const STATUS_ERROR: u32 = 1;

/// What `generate` returns a pointer to; freed by `free_result`.
#[repr(C)]
#[derive(Debug)]
pub struct GenerateResult {
    /// [`STATUS_OK`] or [`STATUS_ERROR`].
    pub status: u32,
    /// The PNG or the message; owned by this struct.
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

/// Makes the PNG of `text` with the named engine (see the crate doc). Never returns null.
///
/// # Safety
/// `text_ptr` must be valid for `text_len` bytes; `engine_ptr` must be null or valid for
/// `engine_len` bytes. Both are only read, during this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn generate(
    text_ptr: *const u8,
    text_len: usize,
    engine_ptr: *const u8,
    engine_len: usize,
) -> *mut GenerateResult {
    // SAFETY: forwarded from this function's contract.
    let text = unsafe { bytes(text_ptr, text_len) };
    let engine = (!engine_ptr.is_null()).then(|| unsafe { bytes(engine_ptr, engine_len) });
    let (status, data) = match generate_bytes(text, engine) {
        Ok(png) => (STATUS_OK, png),
        Err(message) => (STATUS_ERROR, message.into_bytes()),
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

/// Only conversions: the core's text rule on the bytes, the engine by name, the core call;
/// errors as their message.
fn generate_bytes(text: &[u8], engine: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let text = qr_core::text(text).map_err(|e| e.to_string())?;
    let engine = engine.map(String::from_utf8_lossy);
    let engine = Engine::from_name(engine.as_deref()).map_err(|e| e.to_string())?;
    qr_core::generate(text, &Options::with_engine(engine)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls the ABI the way tier-2.js does: alloc + copy in, generate, copy out, free everything.
    fn call(text: &[u8], engine: Option<&str>) -> (u32, Vec<u8>) {
        unsafe {
            let text_ptr = alloc(text.len());
            ptr::copy_nonoverlapping(text.as_ptr(), text_ptr, text.len());
            let (engine_ptr, engine_len) = match engine {
                Some(name) => {
                    let p = alloc(name.len());
                    ptr::copy_nonoverlapping(name.as_ptr(), p, name.len());
                    (p, name.len())
                }
                None => (ptr::null_mut(), 0),
            };
            let result = generate(text_ptr, text.len(), engine_ptr, engine_len);
            let out = std::slice::from_raw_parts((*result).data_ptr, (*result).data_len).to_vec();
            let status = (*result).status;
            free_result(result);
            dealloc(text_ptr, text.len());
            dealloc(engine_ptr, engine_len);
            (status, out)
        }
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
    fn errors_carry_the_message() {
        let message = |text: &[u8], engine| {
            let (status, data) = call(text, engine);
            assert_eq!(status, STATUS_ERROR);
            String::from_utf8(data).unwrap()
        };
        assert_eq!(message(b"", None), qr_core::QrError::Missing.to_string());
        assert_eq!(
            message(&[b'a'; 513], None),
            qr_core::QrError::TooLong.to_string()
        );
        assert_eq!(
            message(b"a", Some("nope")),
            "nope".parse::<Engine>().unwrap_err().to_string()
        );
        assert_eq!(
            message(b"a", Some("")),
            "".parse::<Engine>().unwrap_err().to_string()
        );
        assert_eq!(
            message(&[0xff], None),
            qr_core::QrError::NotUtf8.to_string()
        );
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
