//! An image's answer and its HTTP caching: the `ETag` (the first half of the body's SHA-256),
//! `Cache-Control`, and a 304 without the image when the request's `If-None-Match` already has
//! it; with `NoBody`, the empty body of a 304 or a 204.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Frame;
use qr_core::Format;
use sha2::{Digest, Sha256};

/// Every image's `Cache-Control`: the answer is a pure function of the request (and the server's
/// version), so any cache may keep it as long.
const CACHE_CONTROL: &str = "public, max-age=86400";

/// An image and the headers that go with it.
#[derive(Clone)]
pub(crate) struct Image {
    body: Bytes,
    content_type: &'static str,
    /// `"` + the first 32 hex digits of the body's SHA-256 + `"`.
    etag: HeaderValue,
}

impl Image {
    pub(crate) fn new(body: Vec<u8>, format: Format) -> Image {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(&body);
        let mut etag = [b'"'; 34];
        for (pair, byte) in etag[1..33].chunks_exact_mut(2).zip(&digest[..16]) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
        Image {
            body: Bytes::from(body),
            content_type: format.content_type(),
            etag: HeaderValue::from_bytes(&etag).expect("hex digits and quotes"),
        }
    }

    /// 200 with the image, or 304 without it when `request` already has it.
    pub(crate) fn answer(self, request: &HeaderMap) -> Response {
        let not_modified = has_etag(request, &self.etag);
        let cache = [
            (header::ETAG, self.etag),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_CONTROL),
            ),
        ];
        if not_modified {
            return (StatusCode::NOT_MODIFIED, cache, Body::new(NoBody)).into_response();
        }
        let content_type = [(header::CONTENT_TYPE, self.content_type)];
        (cache, content_type, self.body).into_response()
    }
}

/// The body of a 204 or a 304: none, of no stated length, so that axum adds no
/// `content-length: 0` (a 304's length would be the image's; hyper drops it on a GET's 304 and a
/// 204, not on a HEAD's 304).
pub(crate) struct NoBody;

impl hyper::body::Body for NoBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }
}

/// Whether the request's `If-None-Match` is `*` alone or lists `etag` (a weak `W/` tag matches by
/// its quoted part, as RFC 9110 compares for `If-None-Match`). Repeated headers are one list, as
/// the Node and Python hosts join them.
fn has_etag(request: &HeaderMap, etag: &HeaderValue) -> bool {
    if !request.contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    let values: Vec<&[u8]> = (request.get_all(header::IF_NONE_MATCH).iter())
        .map(HeaderValue::as_bytes)
        .collect();
    let list = values.join(&b","[..]);
    list.trim_ascii() == b"*" || entity_tags(&list).any(|tag| tag == etag.as_bytes())
}

/// The quoted tags of an `If-None-Match` list, `W/` left out; stops at what is not a tag.
fn entity_tags(mut list: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        list = list.trim_ascii_start();
        while let Some(rest) = list.strip_prefix(b",") {
            list = rest.trim_ascii_start();
        }
        let tag = list.strip_prefix(b"W/").unwrap_or(list);
        let end = 1 + tag.strip_prefix(b"\"")?.iter().position(|&b| b == b'"')?;
        let (tag, rest) = tag.split_at(end + 1);
        list = rest;
        Some(tag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_is_the_first_half_of_the_body_s_sha256_quoted() {
        let image = Image::new(b"abc".to_vec(), Format::Svg);
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(image.etag, "\"ba7816bf8f01cfea414140de5dae2223\"");
        assert_eq!(image.content_type, "image/svg+xml");
    }

    #[test]
    fn if_none_match_is_a_star_or_a_list_of_tags_weak_or_strong() {
        let etag = HeaderValue::from_static("\"0123456789abcdef0123456789abcdef\"");
        let matches = |values: &[&str]| {
            let mut request = HeaderMap::new();
            for value in values {
                let value = HeaderValue::from_str(value).unwrap();
                request.append(header::IF_NONE_MATCH, value);
            }
            has_etag(&request, &etag)
        };
        let tag = etag.to_str().unwrap();
        for yes in [
            vec!["*"],
            vec![" * "],
            vec![tag],
            vec![&format!("W/{tag}")],
            vec![&format!("\"x\", W/\"y\" ,{tag}")],
            vec![&format!(",, {tag} ,")],
            vec!["\"x\"", tag],
        ] {
            assert!(matches(&yes), "{yes:?}");
        }
        for no in [
            vec![],
            vec![""],
            vec!["\"x\""],
            vec!["0123456789abcdef0123456789abcdef"],
            vec!["\"0123456789ABCDEF0123456789ABCDEF\""],
            vec!["w/\"0123456789abcdef0123456789abcdef\""],
            vec!["\"0123456789abcdef0123456789abcdef"],
            vec!["*x"],
            vec!["x, \"0123456789abcdef0123456789abcdef\""],
            // Repeated headers are one list: `*` is no longer the whole value, and junk ends it.
            vec!["*", "\"x\""],
            vec!["\"x\" junk", tag],
        ] {
            assert!(!matches(&no), "{no:?}");
        }
    }
}
