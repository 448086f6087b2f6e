//! The one check of an answer against a case of the contract: status, Content-Type, exact body
//! and its length, the caching and CORS headers, required and absent headers; an image's content
//! is judged by the caller.

use sha2::{Digest, Sha256};

use super::{Case, Expect, Image};
use crate::http::Response;

/// The Content-Type of every named answer's body.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// The `Cache-Control` of every image (and of its `304`).
pub const CACHE_CONTROL: &str = "public, max-age=86400";

/// The `ETag` of an image: `"`, the first 32 hex digits of the body's SHA-256, `"`.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Checks `response` against `case`: status, Content-Type, exact body and its Content-Length,
/// an image's `ETag` and `Cache-Control`, `Access-Control-Allow-Origin: *` on the app's answers
/// to `/qrcode` and `/openapi.json`, required and absent headers. `head` says it answers a HEAD
/// (no body). An image's content is judged by `judge(image, body)` (decoders, pixels, byte
/// parity), which the caller provides. A case's other requests are [`super::run`]'s.
pub fn check(
    case: &Case,
    response: &Response,
    head: bool,
    judge: impl Fn(&Image, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let got = || describe(response);
    let content_length = response.header("content-length");
    match &case.expect {
        Expect::Image(image) if image.not_modified => {
            if response.status != 304 || !response.body.is_empty() {
                return Err(format!("expected 304 with no body, got {}", got()));
            }
            check_caching(response, None)?;
        }
        Expect::Image(image) => {
            let content_type = image.format.content_type();
            if response.status != 200
                || response.header("content-type").as_deref() != Some(content_type)
            {
                return Err(format!("expected 200 {content_type}, got {}", got()));
            }
            check_caching(response, (!head).then_some(&response.body[..]))?;
            if !head {
                if content_length != Some(response.body.len().to_string()) {
                    return Err(format!("Content-Length {content_length:?}, got {}", got()));
                }
                judge(image, &response.body).map_err(|e| format!("{e}; got {}", got()))?;
            }
        }
        Expect::Answer(reply) if reply.no_body => {
            let headers_ok = has_headers(response, &reply.headers);
            if response.status != reply.status
                || !response.body.is_empty()
                || response.header("content-type").is_some()
                || content_length.is_some()
                || !headers_ok
            {
                return Err(format!(
                    "expected {} with no body, no Content-Type or Content-Length, and {:?}, got {}",
                    reply.status,
                    reply.headers,
                    got()
                ));
            }
        }
        Expect::Answer(reply) => {
            let body: &[u8] = if head { b"" } else { reply.body.as_bytes() };
            if response.status != reply.status
                || response.header("content-type").as_deref() != Some(TEXT_PLAIN)
                || response.body != body
                || content_length != Some(reply.body.len().to_string())
                || !has_headers(response, &reply.headers)
            {
                return Err(format!(
                    "expected {} {TEXT_PLAIN:?} {:?} {:?}, got {}",
                    reply.status,
                    reply.body,
                    reply.headers,
                    got()
                ));
            }
        }
        Expect::File(file) => {
            let body: &[u8] = if head { b"" } else { &file.bytes };
            if response.status != 200
                || response.header("content-type").as_deref() != Some("application/json")
                || response.body != body
                || content_length != Some(file.bytes.len().to_string())
            {
                return Err(format!(
                    "expected 200 \"application/json\" with the {} bytes of {}, got {}",
                    file.bytes.len(),
                    file.path,
                    got()
                ));
            }
        }
        &Expect::Status(status) => {
            if response.status != status {
                return Err(format!("expected status {status}, got {}", got()));
            }
        }
    }
    if case.is_cors() && response.header("access-control-allow-origin").as_deref() != Some("*") {
        return Err(format!(
            "expected Access-Control-Allow-Origin: *, got {:?}",
            response.header("access-control-allow-origin")
        ));
    }
    for name in &case.absent_headers {
        if let Some(value) = response.header(name) {
            return Err(format!("must not send {name}, but sent {value:?}"));
        }
    }
    Ok(())
}

/// The headers every image answer carries, its `304` included: an `ETag` of the contract's form
/// (the tag of `body`, when there is one) and `Cache-Control`.
fn check_caching(response: &Response, body: Option<&[u8]>) -> Result<(), String> {
    let etag = response.header("etag").unwrap_or_default();
    let well_formed = etag.len() == 34
        && etag.starts_with('"')
        && etag.ends_with('"')
        && etag[1..33]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(format!(
            "expected an ETag of 32 lowercase hex digits in quotes, got {etag:?}"
        ));
    }
    if let Some(body) = body
        && etag != etag_of(body)
    {
        return Err(format!(
            "ETag {etag} is not the body's ({}: the first 32 hex digits of its SHA-256)",
            etag_of(body)
        ));
    }
    match response.header("cache-control") {
        Some(value) if value == CACHE_CONTROL => Ok(()),
        other => Err(format!(
            "expected Cache-Control: {CACHE_CONTROL}, got {other:?}"
        )),
    }
}

fn has_headers(response: &Response, headers: &[(String, String)]) -> bool {
    (headers.iter()).all(|(name, value)| response.header(name).as_deref() == Some(value))
}

/// A response in one line, for failure messages.
fn describe(response: &Response) -> String {
    let content_type = response.header("content-type");
    let body = match content_type.as_deref() {
        Some(image @ ("image/png" | "image/svg+xml")) => {
            format!("<{} bytes of {image}>", response.body.len())
        }
        _ => {
            let text = String::from_utf8_lossy(&response.body);
            let short: String = text.chars().take(200).collect();
            let more = if short.len() < text.len() { "..." } else { "" };
            format!("{short:?}{more}")
        }
    };
    let allow = response
        .header("allow")
        .map(|a| format!(", Allow: {a:?}"))
        .unwrap_or_default();
    format!(
        "{} {:?} {body}{allow}",
        response.status,
        content_type.unwrap_or_default()
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::contract::{Contract, File};

    fn response(status: u16, content_type: &str, body: &[u8]) -> Response {
        Response {
            status,
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-length".into(), body.len().to_string()),
            ],
            body: body.to_vec(),
        }
    }

    /// An image answer with the caching and CORS headers it owes.
    pub(in crate::contract) fn image(content_type: &str, body: &[u8]) -> Response {
        let mut answer = response(200, content_type, body);
        answer.headers.extend([
            ("etag".into(), etag_of(body)),
            ("cache-control".into(), CACHE_CONTROL.into()),
            ("access-control-allow-origin".into(), "*".into()),
        ]);
        answer
    }

    fn without(mut response: Response, name: &str) -> Response {
        response.headers.retain(|(n, _)| n != name);
        response
    }

    /// A judge that finds every image right.
    pub(in crate::contract) fn ok(_: &Image, _: &[u8]) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn the_etag_is_the_first_half_of_the_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
        assert_eq!(etag_of(b"abc"), "\"ba7816bf8f01cfea414140de5dae2223\"");
    }

    #[test]
    fn the_check_can_fail() {
        let contract = Contract::load().unwrap();
        let missing = Case {
            expect: Expect::Answer(contract.answer("missing").clone()),
            ..Case::png("m", "x")
        };
        let body = contract.answer("missing").body.as_bytes();
        let cors = |response: Response| {
            let mut response = response;
            response
                .headers
                .push(("access-control-allow-origin".into(), "*".into()));
            response
        };
        let error = cors(response(400, TEXT_PLAIN, body));
        assert_eq!(check(&missing, &error, false, ok), Ok(()));
        let no_cors = response(400, TEXT_PLAIN, body);
        assert!(
            check(&missing, &no_cors, false, ok).is_err(),
            "/qrcode answers need ACAO"
        );
        let with_newline = [body, b"\n"].concat();
        assert!(
            check(
                &missing,
                &cors(response(400, TEXT_PLAIN, &with_newline)),
                false,
                ok
            )
            .is_err()
        );
        assert!(check(&missing, &cors(response(404, TEXT_PLAIN, body)), false, ok).is_err());
        assert!(
            check(
                &missing,
                &cors(response(400, "text/plain", body)),
                false,
                ok
            )
            .is_err()
        );

        let png = Case::png("p", "hello");
        let answer = image("image/png", b"\x89PNG");
        assert_eq!(check(&png, &answer, false, ok), Ok(()));
        let wrong = |_: &Image, _: &[u8]| Err("decodes to something else".to_owned());
        assert!(check(&png, &answer, false, wrong).is_err());
        assert!(check(&png, &image("image/jpeg", b"x"), false, ok).is_err());
        for header in ["etag", "cache-control", "access-control-allow-origin"] {
            let err = check(&png, &without(answer.clone(), header), false, ok).unwrap_err();
            assert!(err.to_ascii_lowercase().contains(header), "{err}");
        }
        let mut other_tag = answer.clone();
        other_tag.headers[2].1 = etag_of(b"another body");
        assert!(check(&png, &other_tag, false, ok).is_err());
        assert_eq!(
            check(&png, &other_tag, true, ok),
            Ok(()),
            "HEAD has no body to hash"
        );

        let svg = Case {
            expect: Expect::Image(Image {
                format: qr_contract::Format::Svg,
                ..Image::png("hello")
            }),
            ..png.clone()
        };
        assert_eq!(
            check(&svg, &image("image/svg+xml", b"<svg/>"), false, ok),
            Ok(())
        );
        assert!(check(&svg, &answer, false, ok).is_err());

        let mut absent = png.clone();
        absent.absent_headers = vec!["last-modified".into()];
        let mut dated = answer.clone();
        dated.headers.push(("last-modified".into(), "x".into()));
        assert!(check(&absent, &dated, false, ok).is_err());
    }

    #[test]
    fn a_304_a_204_and_a_file_are_checked() {
        let contract = Contract::load().unwrap();
        let conditional = Case {
            expect: Expect::Image(Image {
                not_modified: true,
                ..Image::png("x")
            }),
            ..Case::png("c", "x")
        };
        let mut not_modified = without(image("image/png", b"x"), "content-length");
        not_modified.status = 304;
        not_modified.body.clear();
        assert_eq!(check(&conditional, &not_modified, false, ok), Ok(()));
        let mut with_body = not_modified.clone();
        with_body.body = b"x".to_vec();
        assert!(check(&conditional, &with_body, false, ok).is_err());
        assert!(check(&conditional, &without(not_modified, "etag"), false, ok).is_err());

        let preflight = Case {
            method: "OPTIONS".into(),
            expect: Expect::Answer(contract.answer("preflight").clone()),
            ..Case::png("o", "x")
        };
        let mut no_content = Response {
            status: 204,
            headers: contract.answer("preflight").headers.clone(),
            body: Vec::new(),
        };
        assert_eq!(check(&preflight, &no_content, false, ok), Ok(()));
        no_content
            .headers
            .push(("content-type".into(), TEXT_PLAIN.into()));
        assert!(check(&preflight, &no_content, false, ok).is_err());

        let file = Case {
            target: "/openapi.json".into(),
            expect: Expect::File(File {
                path: "contract/openapi.json".into(),
                bytes: b"{}".to_vec(),
            }),
            ..Case::png("f", "x")
        };
        let mut json = response(200, "application/json", b"{}");
        json.headers
            .push(("access-control-allow-origin".into(), "*".into()));
        assert_eq!(check(&file, &json, false, ok), Ok(()));
        let mut head = json.clone();
        head.body.clear();
        assert_eq!(check(&file, &head, true, ok), Ok(()));
        assert!(
            check(
                &file,
                &without(json.clone(), "access-control-allow-origin"),
                false,
                ok
            )
            .is_err()
        );
        json.body = b"{ }".to_vec();
        assert!(check(&file, &json, false, ok).is_err());
    }
}
