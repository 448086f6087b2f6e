//! The wire protocol of `qr-cli --serve`: length-prefixed binary frames on stdin (requests) and
//! stdout (responses), modelled on esbuild's service protocol. The layout, the limits and the
//! lifecycle are in this crate's README.md ("The sidecar protocol").
//!
//! ```text
//! u32 LE  len   bytes after this field: tag + payload
//! u32 LE  tag   id << 1 | is_response   (ids are 31 bits: 0 ..= MAX_ID)
//! request payload:   the 16-byte options record (qr_core's `record`) + the text's bytes
//!                    (any bytes; the text rule, then the record, are checked on receipt)
//! response payload:  u8 status (Status) + body (the image, or a one-line UTF-8 message)
//! ```
//!
//! [`decode`] and [`decode_request`] are pure functions over bytes so that a fuzzer can drive
//! them; they never panic. The record is only cut out here: the sidecar decodes it, with its
//! engine, after the text rule (`record::decode`).

use qr_core::record;

/// Bytes of the length field.
const LEN_BYTES: usize = 4;
/// Bytes of the tag (`id << 1 | is_response`).
const TAG_BYTES: usize = 4;
/// Bytes of a request's options record, before its text.
pub const RECORD_LEN: usize = record::LEN;
/// The largest request id: the tag keeps one bit for the response flag.
pub const MAX_ID: u32 = u32::MAX >> 1;
/// The largest `len` of a request frame (tag + record + text): far above the contract's 512 bytes of text,
/// so a too-long text is a [`Status::BadInput`] answer, while a larger `len` is a broken stream.
pub const MAX_REQUEST_LEN: u32 = 64 * 1024;
/// The largest `len` of a response frame (tag + status + body): the largest image the contract
/// allows is about 52 KB (512 bytes of text at `ecLevel=H` as an SVG, or as the article engine's
/// 1000-pixel RGBA PNG; a test holds it under this). Node refuses (and kills) a sidecar that
/// announces more.
pub const MAX_RESPONSE_LEN: u32 = 1024 * 1024;

/// What a response says about its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// The body is the image (PNG or SVG, as the record asked).
    Image = 0,
    /// The text or the options broke the contract's rules, or the size is too small for the
    /// symbol; the body is the core's message, the contract's 400 body.
    BadInput = 1,
    /// The engine failed; the body is the core's message (an HTTP 500).
    Failed = 2,
}

impl Status {
    /// The status of a status byte, if it is one.
    fn from_byte(byte: u8) -> Option<Status> {
        [Status::Image, Status::BadInput, Status::Failed]
            .into_iter()
            .find(|status| *status as u8 == byte)
    }
}

/// One decoded frame, borrowing its payload from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Node -> sidecar: render `text` with the options `record`.
    Request {
        id: u32,
        record: &'a [u8; RECORD_LEN],
        text: &'a [u8],
    },
    /// Sidecar -> Node: the answer to request `id`.
    Response {
        id: u32,
        status: Status,
        body: &'a [u8],
    },
}

/// Why a stream of frames is broken. After one of these the stream cannot be resynchronised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// `len` is too small to hold the frame's fixed fields: a tag, then a request's options record
    /// or a response's status.
    TooShort { len: u32 },
    /// `len` is above the limit the decoder was given.
    TooLong { len: u32, max: u32 },
    /// A response's status byte is not a [`Status`].
    BadStatus(u8),
    /// [`decode_request`] met a frame with the response bit set.
    NotARequest { id: u32 },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooShort { len } => write!(f, "frame length {len} is too short"),
            FrameError::TooLong { len, max } => write!(f, "frame length {len} is above {max}"),
            FrameError::BadStatus(byte) => write!(f, "unknown status byte {byte}"),
            FrameError::NotARequest { id } => write!(f, "frame {id} has the response bit set"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Decodes the first frame of `buf`: `Ok(None)` until the whole frame is there, then the frame and
/// how many bytes it took. A `len` above `max_len` (or too short) is an error as soon as the length
/// field is in, without waiting for the rest.
pub fn decode(buf: &[u8], max_len: u32) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
    let Some(len) = read_u32(buf, 0) else {
        return Ok(None);
    };
    if len > max_len {
        return Err(FrameError::TooLong { len, max: max_len });
    }
    if (len as usize) < TAG_BYTES {
        return Err(FrameError::TooShort { len });
    }
    let Some(tag) = read_u32(buf, LEN_BYTES) else {
        return Ok(None);
    };
    let (id, is_response) = (tag >> 1, tag & 1 == 1);
    let fixed = if is_response { 1 } else { RECORD_LEN };
    if (len as usize) < TAG_BYTES + fixed {
        return Err(FrameError::TooShort { len });
    }
    let end = LEN_BYTES + len as usize;
    let Some(payload) = buf.get(LEN_BYTES + TAG_BYTES..end) else {
        return Ok(None);
    };
    let frame = if is_response {
        let status = Status::from_byte(payload[0]).ok_or(FrameError::BadStatus(payload[0]))?;
        Frame::Response {
            id,
            status,
            body: &payload[1..],
        }
    } else {
        let (record, text) = payload
            .split_first_chunk()
            .expect("len holds the record: checked above");
        Frame::Request { id, record, text }
    };
    Ok(Some((frame, end)))
}

/// A request frame, as the sidecar reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub id: u32,
    /// The options record, for `qr_core::record::decode`.
    pub record: &'a [u8; RECORD_LEN],
    pub text: &'a [u8],
}

/// [`decode`] for the sidecar's side of the stream: requests of at most [`MAX_REQUEST_LEN`], and
/// how many bytes each took.
pub fn decode_request(buf: &[u8]) -> Result<Option<(Request<'_>, usize)>, FrameError> {
    match decode(buf, MAX_REQUEST_LEN)? {
        None => Ok(None),
        Some((Frame::Request { id, record, text }, used)) => {
            Ok(Some((Request { id, record, text }, used)))
        }
        Some((Frame::Response { id, .. }, _)) => Err(FrameError::NotARequest { id }),
    }
}

/// The header (len, tag, status) of a response whose body has `body_len` bytes; the body follows it.
///
/// Panics if `id` is above [`MAX_ID`] or the frame would be longer than [`MAX_RESPONSE_LEN`].
pub fn response_header(id: u32, status: Status, body_len: usize) -> [u8; 9] {
    let len = u32::try_from(TAG_BYTES + 1 + body_len)
        .ok()
        .filter(|len| *len <= MAX_RESPONSE_LEN)
        .expect("a response fits MAX_RESPONSE_LEN");
    let mut header = [0; 9];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[4..8].copy_from_slice(&tag(id, true).to_le_bytes());
    header[8] = status as u8;
    header
}

/// A whole request frame for `id`, the options `record` and `text` (Node's side, in Rust: tests
/// and tools).
///
/// Panics if `id` is above [`MAX_ID`] or the frame would be longer than [`MAX_REQUEST_LEN`].
pub fn encode_request(id: u32, record: &[u8; RECORD_LEN], text: &[u8]) -> Vec<u8> {
    let len = u32::try_from(TAG_BYTES + RECORD_LEN + text.len())
        .ok()
        .filter(|len| *len <= MAX_REQUEST_LEN)
        .expect("a request fits MAX_REQUEST_LEN");
    let mut frame = Vec::with_capacity(LEN_BYTES + len as usize);
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&tag(id, false).to_le_bytes());
    frame.extend_from_slice(record);
    frame.extend_from_slice(text);
    frame
}

/// `id << 1 | is_response`.
fn tag(id: u32, is_response: bool) -> u32 {
    assert!(id <= MAX_ID, "frame id {id} is above {MAX_ID}");
    id << 1 | u32::from(is_response)
}

/// The little-endian u32 at `at`, if `buf` holds it.
fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response frame: the header and the body.
    fn response(id: u32, status: Status, body: &[u8]) -> Vec<u8> {
        let mut frame = response_header(id, status, body.len()).to_vec();
        frame.extend_from_slice(body);
        frame
    }

    /// Raw bytes: `len`, `tag`, then `rest`.
    fn raw(len: u32, tag: u32, rest: &[u8]) -> Vec<u8> {
        [&len.to_le_bytes()[..], &tag.to_le_bytes(), rest].concat()
    }

    /// A record with every byte different, to see it carried whole and in place.
    const RECORD: [u8; RECORD_LEN] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

    fn request(id: u32, text: &[u8]) -> Vec<u8> {
        encode_request(id, &RECORD, text)
    }

    #[test]
    fn request_round_trip() {
        let frame = request(7, b"hello");
        assert_eq!(frame, raw(25, 14, &[&RECORD[..], b"hello"].concat()));
        assert_eq!(
            decode_request(&frame),
            Ok(Some((
                Request {
                    id: 7,
                    record: &RECORD,
                    text: &b"hello"[..]
                },
                29
            )))
        );
    }

    #[test]
    fn response_round_trip() {
        for status in [Status::Image, Status::BadInput, Status::Failed] {
            let frame = response(9, status, b"body");
            assert_eq!(frame, raw(9, 19, &[&[status as u8][..], b"body"].concat()));
            let expected = Frame::Response {
                id: 9,
                status,
                body: b"body",
            };
            assert_eq!(
                decode(&frame, MAX_RESPONSE_LEN),
                Ok(Some((expected, frame.len())))
            );
        }
        // An empty body is well-formed (Node judges whether it is a PNG).
        let empty = response(1, Status::Image, b"");
        assert!(matches!(decode(&empty, MAX_RESPONSE_LEN), Ok(Some((_, 9)))));
    }

    #[test]
    fn every_short_read_waits_for_more() {
        let frame = request(3, b"some text");
        for cut in 0..frame.len() {
            assert_eq!(decode_request(&frame[..cut]), Ok(None), "{cut} bytes");
        }
        let reply = response(3, Status::Image, b"png");
        for cut in 0..reply.len() {
            assert_eq!(decode(&reply[..cut], MAX_RESPONSE_LEN), Ok(None));
        }
    }

    #[test]
    fn decodes_one_frame_at_a_time() {
        let mut stream = request(1, b"a");
        stream.extend(encode_request(2, &[0; RECORD_LEN], b"bc"));
        stream.extend_from_slice(&[0, 0]); // the start of a third
        let (first, used) = decode_request(&stream).unwrap().unwrap();
        assert_eq!(
            (first.id, first.record, first.text, used),
            (1, &RECORD, &b"a"[..], 25)
        );
        let (second, used2) = decode_request(&stream[used..]).unwrap().unwrap();
        assert_eq!(
            (second.id, second.record, second.text, used2),
            (2, &[0; RECORD_LEN], &b"bc"[..], 26)
        );
        assert_eq!(decode_request(&stream[used + used2..]), Ok(None));
    }

    #[test]
    fn empty_text_is_a_request_the_text_rule_judges() {
        assert_eq!(
            decode_request(&raw(20, 0, &RECORD)),
            Ok(Some((
                Request {
                    id: 0,
                    record: &RECORD,
                    text: &b""[..]
                },
                24
            )))
        );
    }

    #[test]
    fn length_below_the_fixed_fields_is_an_error_at_once() {
        for len in 0..4_u32 {
            // Only the length field has arrived: the error does not wait for the rest.
            assert_eq!(
                decode_request(&len.to_le_bytes()),
                Err(FrameError::TooShort { len })
            );
        }
        // A request needs its whole record: known from the length and the tag.
        for len in 4..20_u32 {
            assert_eq!(
                decode_request(&raw(len, 2, b"")),
                Err(FrameError::TooShort { len })
            );
        }
        // A response needs its status byte.
        assert_eq!(
            decode(&raw(4, 1, b""), MAX_RESPONSE_LEN),
            Err(FrameError::TooShort { len: 4 })
        );
    }

    #[test]
    fn max_length_is_allowed_one_more_is_an_error_at_once() {
        let text = vec![b'x'; MAX_REQUEST_LEN as usize - 4 - RECORD_LEN];
        let frame = request(5, &text);
        assert_eq!(frame.len(), 4 + MAX_REQUEST_LEN as usize);
        assert_eq!(
            decode_request(&frame),
            Ok(Some((
                Request {
                    id: 5,
                    record: &RECORD,
                    text: &text[..]
                },
                frame.len()
            )))
        );
        for len in [MAX_REQUEST_LEN + 1, u32::MAX] {
            let err = Err(FrameError::TooLong {
                len,
                max: MAX_REQUEST_LEN,
            });
            assert_eq!(decode_request(&len.to_le_bytes()), err);
        }
        assert_eq!(
            decode(&(MAX_RESPONSE_LEN + 1).to_le_bytes(), MAX_RESPONSE_LEN),
            Err(FrameError::TooLong {
                len: MAX_RESPONSE_LEN + 1,
                max: MAX_RESPONSE_LEN
            })
        );
    }

    #[test]
    fn bad_status_byte() {
        for byte in [3, 0x80, 0xff] {
            assert_eq!(
                decode(&raw(5, 1, &[byte]), MAX_RESPONSE_LEN),
                Err(FrameError::BadStatus(byte))
            );
        }
    }

    #[test]
    fn response_bit_on_a_request_is_an_error() {
        assert_eq!(
            decode_request(&response(4, Status::Image, b"x")),
            Err(FrameError::NotARequest { id: 4 })
        );
        assert_eq!(
            decode_request(&raw(5, u32::MAX, b"\0")),
            Err(FrameError::NotARequest { id: MAX_ID })
        );
    }

    #[test]
    fn ids_at_the_edges() {
        for id in [0, 1, MAX_ID - 1, MAX_ID] {
            let frame = request(id, b"t");
            let (request, _) = decode_request(&frame).unwrap().unwrap();
            assert_eq!(request.id, id);
            let frame = response(id, Status::Failed, b"m");
            assert!(matches!(
                decode(&frame, MAX_RESPONSE_LEN),
                Ok(Some((Frame::Response { id: got, .. }, _))) if got == id
            ));
        }
        // The top tag of a request: id MAX_ID, response bit clear.
        assert_eq!(
            decode_request(&raw(20, u32::MAX - 1, &RECORD)),
            Ok(Some((
                Request {
                    id: MAX_ID,
                    record: &RECORD,
                    text: &b""[..]
                },
                24
            )))
        );
    }

    #[test]
    #[should_panic(expected = "is above")]
    fn ids_above_max_id_are_refused_when_encoding() {
        request(MAX_ID + 1, b"t");
    }

    #[test]
    fn errors_read_as_one_line() {
        let err = decode_request(&u32::MAX.to_le_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "frame length 4294967295 is above 65536");
    }
}
