//! Fuzz target: tier 2's hand-written Wasm ABI (crates/qr-wasm/src/lib.rs, compiled natively
//! here from the same source) driven as node/tiers/tier-2.js drives it: `alloc` and copy in,
//! `generate`, read the result's status, pointer and length, copy out, `free_result`, `dealloc`.
//! The input picks the edges: text and engine of zero length behind a null or a dangling
//! pointer, a null engine with any length (the default engine), engine names that are real,
//! arbitrary or not UTF-8, texts of any bytes up to about 1 MiB, an options pointer that is null
//! (the defaults) or holds the defaults' record, a valid record or 16 arbitrary bytes, and `alloc`
//! sizes no allocator can give. The result must be what `qr_core` says for those bytes (the image,
//! or the error's status and message: bad input for the text, a record `record::decode` refuses or
//! a size too small, a failure for an unknown engine), and the call must free everything it
//! allocated: a counting global allocator checks that a repeated call leaves no allocation behind.
//! Never a panic.

#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use libfuzzer_sys::fuzz_target;
use qr_core::{Engine, Options, QrError, record};

#[path = "../../../crates/qr-wasm/src/lib.rs"]
mod qr_wasm;

use qr_wasm::{STATUS_BAD_INPUT, STATUS_FAILED, STATUS_OK, alloc, dealloc, free_result, generate};

/// Live allocations and bytes, to find what a call leaves behind.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(1, Relaxed);
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        LIVE.fetch_sub(1, Relaxed);
        LIVE_BYTES.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How a buffer is handed to `generate`.
#[derive(Debug, Clone)]
enum Arg {
    /// A null pointer with this length (for the engine: "the default", whatever the length).
    Null(usize),
    /// `alloc(0)`'s dangling pointer, length 0.
    Empty,
    /// These bytes, copied into `alloc(len)` as the glue does.
    Bytes(Vec<u8>),
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte();
    let engine = match flags & 3 {
        0 => Arg::Null(usize::from_le_bytes(input.array())),
        1 => {
            let engine = Engine::ALL[usize::from(input.byte()) % Engine::ALL.len()];
            Arg::Bytes(engine.name().as_bytes().to_vec())
        }
        2 => {
            let len = usize::from(input.byte() % 16);
            Arg::Bytes(input.take(len).to_vec())
        }
        _ => Arg::Empty,
    };
    let options = options(&mut input, flags);
    let text = text(&mut input, flags);
    if flags & 16 != 0 {
        alloc_edges();
    }

    let expected = expected(&text, &engine, options.as_ref());
    // The first call may fill the core's per-thread caches; the second must leave nothing.
    let first = call(&text, &engine, options.as_ref());
    let before = (LIVE.load(Relaxed), LIVE_BYTES.load(Relaxed));
    let second = call(&text, &engine, options.as_ref());
    assert!(first == second, "two calls on the same input differ");
    drop(second);
    let after = (LIVE.load(Relaxed), LIVE_BYTES.load(Relaxed));
    assert_eq!(before, after, "(allocations, bytes) left behind by a call");
    let (status, bytes) = first;
    match expected {
        Ok(image) => {
            assert_eq!(status, STATUS_OK, "{}", String::from_utf8_lossy(&bytes));
            assert!(bytes == image, "the ABI's image is not the core's");
        }
        Err((expected_status, message)) => {
            assert_eq!(status, expected_status, "{message}");
            assert_eq!(String::from_utf8(bytes).as_deref(), Ok(&*message));
        }
    }
});

/// The options record the input's flags pick (bits 5 and 6): none (a null pointer), the
/// defaults', 16 arbitrary bytes, or a record of valid fields (its size may be too small).
fn options(input: &mut Input<'_>, flags: u8) -> Option<Arg> {
    let bytes = match flags >> 5 & 3 {
        0 => return None,
        1 => record::encode(&Options::default()),
        2 => input.array(),
        _ => {
            let mut bytes: [u8; record::LEN] = input.array();
            bytes[0] %= 2;
            bytes[1] %= 4;
            bytes[2] %= 21;
            bytes[3] = 0;
            let size = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            let size = if size.is_multiple_of(4) {
                0
            } else {
                21 + size % 980
            };
            bytes[4..8].copy_from_slice(&size.to_le_bytes());
            bytes
        }
    };
    Some(Arg::Bytes(bytes.to_vec()))
}

/// The text the input's flags pick (bits 2 and 3).
fn text(input: &mut Input<'_>, flags: u8) -> Arg {
    match flags >> 2 & 3 {
        0 => Arg::Null(0),
        1 => Arg::Empty,
        2 => {
            // Long texts: the rest of the input repeated to 0 ..= 1 MiB (the limit is 512).
            let len = usize::from(u16::from_le_bytes(input.array())) * 16;
            let rest = input.rest();
            let bytes = if rest.is_empty() {
                vec![b'a'; len]
            } else {
                rest.iter().copied().cycle().take(len).collect()
            };
            Arg::Bytes(bytes)
        }
        _ => Arg::Bytes(input.rest().to_vec()),
    }
}

/// One call as tier-2.js makes it: the inputs allocated and copied in, `generate`, the result
/// read and copied out, then the result and the inputs freed. Returns the status and the data.
fn call(text: &Arg, engine: &Arg, options: Option<&Arg>) -> (u32, Vec<u8>) {
    let (text_ptr, text_len, text_owned) = pass(text);
    let (engine_ptr, engine_len, engine_owned) = pass(engine);
    let (options_ptr, _, options_owned) = pass(options.unwrap_or(&Arg::Null(0)));
    // SAFETY: each pointer is null, dangling with length 0, or alloc'd and filled for its length
    // (the options' for the record's 16 bytes).
    unsafe {
        let result = generate(text_ptr, text_len, engine_ptr, engine_len, options_ptr);
        assert!(!result.is_null(), "generate returned null");
        let r = &*result;
        assert!(!r.data_ptr.is_null(), "data pointer is null");
        let out = std::slice::from_raw_parts(r.data_ptr, r.data_len).to_vec();
        let status = r.status;
        free_result(result);
        for (ptr, len) in [text_owned, engine_owned, options_owned]
            .into_iter()
            .flatten()
        {
            dealloc(ptr, len);
        }
        (status, out)
    }
}

/// The pointer and length `generate` is given for `arg`, and what to `dealloc` afterwards.
fn pass(arg: &Arg) -> (*const u8, usize, Option<(*mut u8, usize)>) {
    match arg {
        Arg::Null(len) => (ptr::null(), *len, None),
        Arg::Empty => {
            let p = alloc(0);
            assert!(!p.is_null(), "alloc(0) is null");
            (p, 0, Some((p, 0)))
        }
        Arg::Bytes(bytes) => {
            let p = alloc(bytes.len());
            assert!(!p.is_null(), "alloc({}) is null", bytes.len());
            // SAFETY: `p` holds `bytes.len()` bytes, fresh.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
            (p, bytes.len(), Some((p, bytes.len())))
        }
    }
}

/// What the ABI must answer, from `qr_core` directly: the text rule first, then the engine
/// (a null pointer is the default; otherwise its name, lossily UTF-8), then the options (a null
/// pointer is the defaults; otherwise `record::decode`), then the image.
fn expected(text: &Arg, engine: &Arg, options: Option<&Arg>) -> Result<Vec<u8>, (u32, String)> {
    let bad_input = |e: QrError| (STATUS_BAD_INPUT, e.to_string());
    let failed = |e: qr_core::UnknownEngine| (STATUS_FAILED, e.to_string());
    let text_bytes = match text {
        Arg::Null(_) | Arg::Empty => &[][..],
        Arg::Bytes(bytes) => bytes,
    };
    let text = qr_core::text(text_bytes).map_err(bad_input)?;
    let engine = match engine {
        Arg::Null(_) => Engine::default(),
        Arg::Empty => "".parse().map_err(failed)?,
        Arg::Bytes(name) => String::from_utf8_lossy(name).parse().map_err(failed)?,
    };
    let options = match options {
        Some(Arg::Bytes(bytes)) => {
            let bytes = bytes.as_slice().try_into().expect("a record's 16 bytes");
            record::decode(engine, bytes).map_err(bad_input)?
        }
        _ => Options::with_engine(engine),
    };
    let image = qr_core::generate(text, &options);
    // A valid text fails only for its options (a size too small), never in the engine.
    assert!(
        image.as_ref().is_ok_and(|image| !image.is_empty())
            || image.as_ref().is_err_and(QrError::is_bad_input),
        "{image:?}"
    );
    image.map_err(bad_input)
}

/// `alloc` at sizes no allocator gives (its `Layout` refuses them, or no address space holds
/// them) returns null, and the frees of null or of zero bytes do nothing.
fn alloc_edges() {
    for len in [usize::MAX, isize::MAX as usize + 1, isize::MAX as usize] {
        // black_box: an allocation whose pointer is unused may be elided, and its null check
        // folded to false.
        let p = std::hint::black_box(alloc(std::hint::black_box(len)));
        assert!(p.is_null(), "alloc({len}) is not null");
    }
    // SAFETY: null and zero-length frees are no-ops by the ABI's contract.
    unsafe {
        dealloc(ptr::null_mut(), 5);
        dealloc(ptr::null_mut(), usize::MAX);
        free_result(ptr::null_mut());
    }
}

/// The fuzzer's bytes, read front to back; zeros once they run out.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        taken
    }

    fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let taken = self.take(N);
        out[..taken.len()].copy_from_slice(taken);
        out
    }

    fn rest(&mut self) -> &'a [u8] {
        self.take(self.0.len())
    }
}
