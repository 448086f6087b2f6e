//! A case's whole exchange with a server ([`run`]): the request, HEAD, and what an image's fields
//! add (`same_as`, `not_modified`, `revalidate`), each answer checked by [`check`].

use super::{Case, Expect, Image, check};
use crate::http::{Headers, Response};

/// The headers a HEAD must answer exactly as the GET did.
const HEAD_AS_GET: [&str; 5] = [
    "content-type",
    "content-length",
    "etag",
    "cache-control",
    "access-control-allow-origin",
];

/// An `If-None-Match` that lists no answer's tag, before the real one in [`run`]'s list.
const OTHER_TAG: &str = "\"00000000000000000000000000000000\"";

/// Sends `case` through `send(method, target, headers)` and checks every answer ([`check`], with
/// `judge` for an image's content): the request, then as HEAD when `head` (and its headers equal
/// the GET's), and for an image what its fields add:
/// - `not_modified`: the same request without its headers is the image, whose `ETag` the `304`
///   carries;
/// - `same_as`: `GET /qrcode?<same_as>` answers exactly the image's bytes;
/// - `revalidate`: the image's `ETag` sent back as `If-None-Match`, alone, weak (`W/`), in a list,
///   and on HEAD, is a `304` with that `ETag` each time.
pub fn run(
    case: &Case,
    mut send: impl FnMut(&str, &str, &Headers) -> Result<Response, String>,
    judge: impl Fn(&Image, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let response = send(&case.method, &case.target, &case.headers)?;
    check(case, &response, false, &judge)?;
    if case.head {
        let head = send("HEAD", &case.target, &case.headers)?;
        check(case, &head, true, &judge).map_err(|e| format!("HEAD: {e}"))?;
        for name in HEAD_AS_GET {
            if head.header(name) != response.header(name) {
                return Err(format!(
                    "HEAD's {name} is {:?}, GET's is {:?}",
                    head.header(name),
                    response.header(name)
                ));
            }
        }
    }
    let Expect::Image(image) = &case.expect else {
        return Ok(());
    };
    let with = |not_modified: bool, headers: Vec<(String, String)>| Case {
        headers,
        expect: Expect::Image(Image {
            not_modified,
            ..image.clone()
        }),
        ..case.clone()
    };
    let image_answer = if image.not_modified {
        let plain = with(false, Vec::new());
        let answer = send(&plain.method, &plain.target, &plain.headers)?;
        check(&plain, &answer, false, &judge).map_err(|e| format!("without its headers: {e}"))?;
        if answer.header("etag") != response.header("etag") {
            return Err(format!(
                "the 304's ETag is {:?}, the image's {:?}",
                response.header("etag"),
                answer.header("etag")
            ));
        }
        answer
    } else {
        response
    };
    if let Some(query) = &image.same_as {
        let target = format!("/qrcode?{query}");
        let other = send("GET", &target, &[])?;
        if other.status != 200 || other.body != image_answer.body {
            return Err(format!(
                "GET {target} is {} with {} bytes, not the {} bytes of this answer",
                other.status,
                other.body.len(),
                image_answer.body.len()
            ));
        }
    }
    if image.revalidate {
        let tag = image_answer.header("etag").unwrap_or_default();
        for (method, condition) in [
            ("GET", tag.clone()),
            ("GET", format!("W/{tag}")),
            ("GET", format!("{OTHER_TAG}, {tag}")),
            ("HEAD", tag.clone()),
        ] {
            let mut headers = case.headers.clone();
            headers.push(("If-None-Match".to_owned(), condition.clone()));
            let revalidation = with(true, headers);
            let answer = send(method, &revalidation.target, &revalidation.headers)?;
            check(&revalidation, &answer, method == "HEAD", &judge)
                .map_err(|e| format!("{method} with If-None-Match: {condition}: {e}"))?;
            if answer.header("etag").as_deref() != Some(&tag) {
                return Err(format!(
                    "{method} with If-None-Match: {condition}: ETag {:?}, expected {tag}",
                    answer.header("etag")
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::check::tests::{image, ok};
    use crate::contract::etag_of;

    #[test]
    fn run_revalidates_and_compares_with_same_as() {
        let body = b"\x89PNG image".to_vec();
        let tag = etag_of(&body);
        let case = Case {
            expect: Expect::Image(Image {
                revalidate: true,
                same_as: Some("text=same".into()),
                ..Image::png("hello")
            }),
            head: true,
            ..Case::png("r", "hello")
        };
        // A server that keeps the contract, and one that answers If-None-Match with a 200.
        let server = |honours_tags: bool| {
            let (body, tag) = (body.clone(), tag.clone());
            move |method: &str, _: &str, headers: &Headers| -> Result<Response, String> {
                let conditional = headers
                    .iter()
                    .any(|(name, value)| name == "If-None-Match" && value.contains(&tag[1..33]));
                let mut answer = image("image/png", &body);
                if honours_tags && conditional {
                    answer.status = 304;
                    answer.headers.retain(|(name, _)| name != "content-length");
                }
                if method == "HEAD" || answer.status == 304 {
                    answer.body.clear();
                }
                Ok(answer)
            }
        };
        assert_eq!(run(&case, server(true), ok), Ok(()));
        let err = run(&case, server(false), ok).unwrap_err();
        assert!(err.contains("If-None-Match"), "{err}");

        let mut sent = Vec::new();
        let recording = |method: &str, target: &str, headers: &Headers| {
            let condition: Vec<String> = headers.iter().map(|(_, value)| value.clone()).collect();
            sent.push((method.to_owned(), target.to_owned(), condition));
            server(true)(method, target, headers)
        };
        run(&case, recording, ok).unwrap();
        let request = |method: &str, target: &str, condition: &[&str]| {
            let condition: Vec<String> = condition.iter().map(|value| value.to_string()).collect();
            (method.to_owned(), target.to_owned(), condition)
        };
        let hello = "/qrcode?text=hello";
        assert_eq!(
            sent,
            [
                request("GET", hello, &[]),
                request("HEAD", hello, &[]),
                request("GET", "/qrcode?text=same", &[]),
                request("GET", hello, &[&tag]),
                request("GET", hello, &[&format!("W/{tag}")]),
                request("GET", hello, &[&format!("{OTHER_TAG}, {tag}")]),
                request("HEAD", hello, &[&tag]),
            ]
        );

        let different = |method: &str, target: &str, headers: &Headers| {
            let mut answer = server(true)(method, target, headers)?;
            if target.contains("same") {
                answer.body.push(0);
            }
            Ok(answer)
        };
        let err = run(&case, different, ok).unwrap_err();
        assert!(err.contains("GET /qrcode?text=same"), "{err}");
    }
}
