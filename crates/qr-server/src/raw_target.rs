//! Printable ASCII that a URI may not carry raw (`curl '...?text=<b>'` sends `<` and `>` as they
//! are): served as if it had been percent-encoded, as the Node host's parser does.
//!
//! hyper reads the request line with httparse, which takes every printable byte, then builds an
//! `http::Uri`, which refuses some of them and leaves hyper nothing but a bare 400 (hyper has no
//! hook between the two). So the connection's socket is wrapped: [`EscapedTargets`] percent-encodes
//! those bytes inside each request line's target as hyper reads them, and nothing else. It follows
//! requests by their heads (a head ends with an empty line), so a request's body would look like
//! the next request line to it: a connection closes after a request that has one
//! ([`closes_connection`]; the server never reads bodies).
//!
//! hyper's head limit counts the head as it reaches hyper: each such byte counts three.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::Request;
use hyper::body::Body;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The bytes escaped in a request target: printable ASCII that RFC 3986 has no place for raw and
/// the `http` crate's `Uri` refuses (`"`, `<` and `>` in a query; `<`, `>` and `` ` `` in a path)
/// or might refuse one day. `%`, `#`, space and what is not printable ASCII keep their meaning.
const ESCAPED: &[u8] = b"\"<>\\^`{|}";

/// What ends a run of a target's bytes that pass as they are: its space, an LF, or a byte to
/// escape (a table, as the target is read byte by byte).
const TARGET_STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    stops[b' ' as usize] = true;
    stops[b'\n' as usize] = true;
    let mut i = 0;
    while i < ESCAPED.len() {
        stops[ESCAPED[i] as usize] = true;
        i += 1;
    }
    stops
};

/// `%XX`, as a client would have sent `byte`.
fn percent_encoded(byte: u8) -> [u8; 3] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [
        b'%',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 0xf)],
    ]
}

/// Where a connection's reading is, in the heads of its requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Phase {
    /// Before a request line, where hyper skips empty lines.
    #[default]
    Start,
    /// The method, up to its space.
    Method,
    /// The request target, up to its space: the bytes escaped.
    Target,
    /// The rest of the request line, up to its LF.
    Version,
    /// A header line, up to its LF.
    Header,
    /// The start of a line of the head (or a CR there): one more LF ends the head.
    LineStart,
}

/// Follows the heads of a connection's requests, byte by byte as they arrive.
#[derive(Debug, Default)]
struct Heads {
    phase: Phase,
}

impl Heads {
    /// Moves over `bytes` up to the first byte to escape and returns its index (the phase is then
    /// still the target's), or `None` after all of them.
    fn next_escape(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while let Some(&byte) = bytes.get(i) {
            let rest = &bytes[i..];
            match self.phase {
                Phase::Start if byte == b'\r' || byte == b'\n' => i += 1,
                Phase::Start => self.phase = Phase::Method,
                Phase::Method => {
                    let end = memchr::memchr2(b' ', b'\n', rest)?;
                    self.phase = match rest[end] {
                        b' ' => Phase::Target,
                        _ => Phase::LineStart,
                    };
                    i += end + 1;
                }
                Phase::Target => {
                    let end = rest.iter().position(|&b| TARGET_STOPS[usize::from(b)])?;
                    self.phase = match rest[end] {
                        b' ' => Phase::Version,
                        b'\n' => Phase::LineStart,
                        _ => return Some(i + end),
                    };
                    i += end + 1;
                }
                // The rest of a line is skipped at once: most of a head's bytes.
                Phase::Version | Phase::Header => {
                    i += memchr::memchr(b'\n', rest)? + 1;
                    self.phase = Phase::LineStart;
                }
                Phase::LineStart => {
                    self.phase = match byte {
                        b'\n' => Phase::Start,
                        b'\r' => Phase::LineStart,
                        _ => Phase::Header,
                    };
                    i += 1;
                }
            }
        }
        None
    }

    /// Appends `bytes` to `out`, each byte to escape percent-encoded.
    fn escape(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) {
        while let Some(at) = self.next_escape(bytes) {
            out.extend_from_slice(&bytes[..at]);
            out.extend_from_slice(&percent_encoded(bytes[at]));
            bytes = &bytes[at + 1..];
        }
        out.extend_from_slice(bytes);
    }
}

/// A connection's socket whose reads have the raw bytes of each request target percent-encoded
/// (see the module's documentation). Writes pass through.
#[derive(Debug)]
pub(crate) struct EscapedTargets<S> {
    inner: S,
    heads: Heads,
    /// What a read turned into once escaped, past what fit in the reader's buffer.
    pending: Vec<u8>,
    /// How much of `pending` has been handed on.
    handed: usize,
}

impl<S> EscapedTargets<S> {
    pub(crate) fn new(inner: S) -> Self {
        EscapedTargets {
            inner,
            heads: Heads::default(),
            pending: Vec::new(),
            handed: 0,
        }
    }

    /// Hands on as much of `pending` as `buf` takes.
    fn hand_on(&mut self, buf: &mut ReadBuf<'_>) {
        let rest = &self.pending[self.handed..];
        let n = rest.len().min(buf.remaining());
        buf.put_slice(&rest[..n]);
        self.handed += n;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for EscapedTargets<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.handed < this.pending.len() {
            this.hand_on(buf);
            return Poll::Ready(Ok(()));
        }
        // Read straight into the reader's buffer; only a read with a byte to escape is copied.
        let start = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let read = &buf.filled()[start..];
        if let Some(at) = this.heads.next_escape(read) {
            this.pending.clear();
            this.handed = 0;
            this.heads.escape(&read[at..], &mut this.pending);
            buf.set_filled(start + at);
            this.hand_on(buf);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EscapedTargets<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Whether the connection must close after answering `request`: when it has a body, as
/// [`EscapedTargets`] cannot tell a body from the next request (hyper would read a small one and
/// go on to the next request).
pub(crate) fn closes_connection<B: Body>(request: &Request<B>) -> bool {
    !request.body().is_end_stream()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What the reader gets when the connection carries `chunks`, one read each.
    fn escaped(chunks: &[&[u8]]) -> Vec<u8> {
        let mut heads = Heads::default();
        let mut out = Vec::new();
        for chunk in chunks {
            heads.escape(chunk, &mut out);
        }
        out
    }

    #[test]
    fn only_the_targets_raw_bytes_are_escaped() {
        assert_eq!(
            escaped(&[b"GET /qrcode?text=<b> HTTP/1.1\r\nX-A: <\"{}|\\^`>\r\n\r\n"]),
            b"GET /qrcode?text=%3Cb%3E HTTP/1.1\r\nX-A: <\"{}|\\^`>\r\n\r\n"
        );
        assert_eq!(
            escaped(&[b"GET /\"<>\\^`{|}#%20?+ HTTP/1.1\r\n\r\n"]),
            b"GET /%22%3C%3E%5C%5E%60%7B%7C%7D#%20?+ HTTP/1.1\r\n\r\n"
        );
        // Neither the method nor the version: their own parser refuses them, as before.
        assert_eq!(
            escaped(&[b"G<T /< HTTP/1.1<\r\n\r\n"]),
            b"G<T /%3C HTTP/1.1<\r\n\r\n"
        );
        let plain = b"GET /qrcode?text=a%3Cb+%C3%A9 HTTP/1.1\r\nHost: t\r\n\r\n";
        assert_eq!(escaped(&[plain]), plain);
    }

    #[test]
    fn what_a_uri_refuses_of_printable_ascii_is_escaped() {
        for byte in (b'!'..=b'~').filter(|&b| b != b'#' && b != b'%') {
            let raw = char::from(byte);
            let refused = ["/a{}?b", "/a?b{}"].iter().any(|target| {
                target
                    .replace("{}", &raw.to_string())
                    .parse::<axum::http::Uri>()
                    .is_err()
            });
            if refused {
                assert!(
                    ESCAPED.contains(&byte),
                    "{raw:?} is refused but not escaped"
                );
            }
            let target = format!("/a{raw}?b{raw}");
            let escaped = escaped(&[format!("GET {target} HTTP/1.1\r\n\r\n").as_bytes()]);
            let line = String::from_utf8(escaped).unwrap();
            let target = line.split(' ').nth(1).unwrap();
            assert!(target.parse::<axum::http::Uri>().is_ok(), "{target}");
        }
    }

    #[test]
    fn every_request_line_of_a_connection_is_escaped() {
        let pipelined = [
            &b"GET /qrcode?text=<1> HTTP/1.1\r\nHost: <t>\r\n\r\n"[..],
            b"\r\nGET /qrcode?text=<2> HTTP/1.1\nHost: t\n\n",
            b"HEAD /qrcode?text=<3> HTTP/1.1\r\n\r\n",
        ]
        .concat();
        let expected = [
            &b"GET /qrcode?text=%3C1%3E HTTP/1.1\r\nHost: <t>\r\n\r\n"[..],
            b"\r\nGET /qrcode?text=%3C2%3E HTTP/1.1\nHost: t\n\n",
            b"HEAD /qrcode?text=%3C3%3E HTTP/1.1\r\n\r\n",
        ]
        .concat();
        assert_eq!(escaped(&[&pipelined]), expected);
        // However the bytes are split into reads, one at a time included.
        let bytes: Vec<&[u8]> = pipelined.chunks(1).collect();
        assert_eq!(escaped(&bytes), expected);
        for at in 0..pipelined.len() {
            let (a, b) = pipelined.split_at(at);
            assert_eq!(escaped(&[a, b]), expected, "split at {at}");
        }
    }

    #[test]
    fn a_request_line_without_a_version_ends_at_its_lf() {
        assert_eq!(
            escaped(&[b"GET /<\r\nX: <\r\n\r\nGET /<\nX: <\n\n"]),
            b"GET /%3C\r\nX: <\r\n\r\nGET /%3C\nX: <\n\n"
        );
    }

    /// A reader that hands out its bytes `step` at a time, then the end of the stream.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            let n = this
                .step
                .min(buf.remaining())
                .min(this.bytes.len() - this.at);
            buf.put_slice(&this.bytes[this.at..this.at + n]);
            this.at += n;
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn reads_into_small_buffers_lose_nothing_and_end_where_the_stream_ends() {
        let raw = b"GET /qrcode?text=<<<<<<<<<<>>>>>>>>>> HTTP/1.1\r\n\r\n".repeat(3);
        let expected = escaped(&[&raw]);
        for step in [1, 2, 7, 64, 4096] {
            for buffer in [1, 2, 3, 5, 4096] {
                let mut stream = EscapedTargets::new(Trickle {
                    bytes: raw.clone(),
                    at: 0,
                    step,
                });
                let mut got = Vec::new();
                let mut chunk = vec![0; buffer];
                loop {
                    let n = stream.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&chunk[..n]);
                }
                assert_eq!(got, expected, "reads of {step}, a buffer of {buffer}");
            }
        }
    }

    #[tokio::test]
    async fn writes_and_half_closes_pass_through() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = EscapedTargets::new(server);
        let (mut client_read, mut client_write) = tokio::io::split(client);
        client_write
            .write_all(b"GET /<> HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        client_write.shutdown().await.unwrap();
        let mut read = Vec::new();
        server.read_to_end(&mut read).await.unwrap();
        assert_eq!(read, b"GET /%3C%3E HTTP/1.1\r\n\r\n");
        server.write_all(b"HTTP/1.1 404 <>").await.unwrap();
        server.shutdown().await.unwrap();
        let mut written = Vec::new();
        client_read.read_to_end(&mut written).await.unwrap();
        assert_eq!(written, b"HTTP/1.1 404 <>");
    }
}
