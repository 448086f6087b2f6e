//! Fuzz target: the sidecar's frame decoder (`qr_cli::wire`), over any bytes and any length
//! limit, and the options record each request carries. It never panics; a frame it decodes lies
//! within the buffer, re-encodes to exactly the bytes it consumed, and decodes the same from those
//! bytes alone; every shorter prefix asks for more; an error is decided on the bytes seen so far
//! (more bytes do not change it); and `decode_request` is `decode` at `MAX_REQUEST_LEN` that
//! refuses responses. A buffer of frames is decoded to its end, each step consuming at least one
//! frame header. A request's record, as the sidecar reads it (`record::decode`), is refused with
//! an option's own error, or gives options in their bounds that encode back to the same 16 bytes
//! (one record per set of options).

#![no_main]

use libfuzzer_sys::fuzz_target;
use qr_cli::wire::{
    Frame, FrameError, MAX_ID, MAX_REQUEST_LEN, MAX_RESPONSE_LEN, RECORD_LEN, Request, decode,
    decode_request, encode_request, response_header,
};
use qr_core::{Engine, QrError, record};

/// Bytes of the length field and the tag.
const HEADER: usize = 8;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the limit: the two the project uses, the edges, or one from the input.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (max_len, buf) = match pick % 6 {
        0 => (MAX_REQUEST_LEN, rest),
        1 => (MAX_RESPONSE_LEN, rest),
        2 => (0, rest),
        3 => (u32::MAX, rest),
        4 => (4, rest),
        _ => match rest.split_first_chunk::<4>() {
            Some((limit, buf)) => (u32::from_le_bytes(*limit), buf),
            None => (MAX_REQUEST_LEN, rest),
        },
    };

    let mut at = 0;
    loop {
        let stream = &buf[at..];
        let decoded = decode(stream, max_len);
        check_one(stream, max_len, decoded);
        match decoded {
            Ok(Some((_, used))) => at += used,
            Ok(None) | Err(_) => break,
        }
    }

    // decode_request is decode at MAX_REQUEST_LEN, refusing responses.
    let expected = match decode(buf, MAX_REQUEST_LEN) {
        Ok(Some((Frame::Request { id, record, text }, used))) => {
            Ok(Some((Request { id, record, text }, used)))
        }
        Ok(Some((Frame::Response { id, .. }, _))) => Err(FrameError::NotARequest { id }),
        Ok(None) => Ok(None),
        Err(error) => Err(error),
    };
    assert_eq!(decode_request(buf), expected);
});

/// The properties of one `decode(stream, max_len)`.
fn check_one(stream: &[u8], max_len: u32, decoded: Result<Option<(Frame<'_>, usize)>, FrameError>) {
    match decoded {
        Ok(Some((frame, used))) => {
            assert!(
                (HEADER..=stream.len()).contains(&used),
                "consumed {used} of {}",
                stream.len()
            );
            let consumed = &stream[..used];
            assert!(used - 4 <= max_len as usize, "a frame above the limit");
            if let Frame::Request { record, .. } = frame {
                assert!(
                    used >= HEADER + RECORD_LEN,
                    "a request without its whole record"
                );
                check_record(record);
            }
            if let Some(bytes) = encode(frame) {
                assert_eq!(bytes, consumed, "round trip");
            }
            assert_eq!(decode(consumed, max_len), Ok(Some((frame, used))), "alone");
            for cut in (0..used).rev().take(16).chain(0..used.min(16)) {
                assert_eq!(decode(&stream[..cut], max_len), Ok(None), "prefix {cut}");
            }
        }
        Ok(None) => {}
        Err(error) => {
            let mut more = stream.to_vec();
            more.extend_from_slice(&[0; 16]);
            assert_eq!(
                decode(&more, max_len),
                Err(error),
                "more bytes change the error"
            );
        }
    }
}

/// The options of a request's record, as the sidecar decodes them: an option's own error (the
/// contract's 400), or options within their bounds whose record is these very bytes.
fn check_record(bytes: &[u8; RECORD_LEN]) {
    for &engine in Engine::ALL {
        match record::decode(engine, bytes) {
            Ok(options) => {
                assert_eq!(options.engine, engine);
                assert_eq!(options.check(), Ok(()), "{options:?}");
                assert_eq!(&record::encode(&options), bytes, "{options:?}");
            }
            Err(error) => assert!(
                matches!(error, QrError::BadOption(_)) && error.is_bad_input(),
                "{error:?}"
            ),
        }
    }
}

/// The frame's bytes from the protocol's own encoders (`None` where they refuse it: a frame
/// above the limits the project uses, which `decode` accepts under a larger `max_len`).
fn encode(frame: Frame<'_>) -> Option<Vec<u8>> {
    match frame {
        Frame::Request { id, record, text } => {
            assert!(id <= MAX_ID);
            (4 + RECORD_LEN + text.len() <= MAX_REQUEST_LEN as usize)
                .then(|| encode_request(id, record, text))
        }
        Frame::Response { id, status, body } => {
            assert!(id <= MAX_ID);
            (5 + body.len() <= MAX_RESPONSE_LEN as usize).then(|| {
                let mut frame = response_header(id, status, body.len()).to_vec();
                frame.extend_from_slice(body);
                frame
            })
        }
    }
}
