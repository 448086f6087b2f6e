//! The one check of an answer against a case of the contract: status, Content-Type, exact body
//! and its length, required and absent headers; a PNG's content is judged by the caller.

use super::{Case, Expect};
use crate::http::Response;

/// The Content-Type of every named answer's body.
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// Checks `response` against `case`: status, Content-Type, exact body and its Content-Length,
/// required and absent headers. `head` says it answers a HEAD (no body). A PNG's content is
/// judged by `png(body, text)` (decoders, byte parity), which the caller provides.
pub fn check(
    case: &Case,
    response: &Response,
    head: bool,
    png: impl Fn(&[u8], &str) -> Result<(), String>,
) -> Result<(), String> {
    let got = || describe(response);
    let content_length = response.header("content-length");
    match &case.expect {
        Expect::Png(text) => {
            if response.status != 200
                || response.header("content-type").as_deref() != Some("image/png")
            {
                return Err(format!("expected 200 image/png, got {}", got()));
            }
            if !head {
                if content_length != Some(response.body.len().to_string()) {
                    return Err(format!("Content-Length {content_length:?}, got {}", got()));
                }
                png(&response.body, text).map_err(|e| format!("{e}; got {}", got()))?;
            }
        }
        Expect::Answer(reply) => {
            let body: &[u8] = if head { b"" } else { reply.body.as_bytes() };
            let headers_ok = reply
                .headers
                .iter()
                .all(|(name, value)| response.header(name).as_deref() == Some(value));
            if response.status != reply.status
                || response.header("content-type").as_deref() != Some(TEXT_PLAIN)
                || response.body != body
                || content_length != Some(reply.body.len().to_string())
                || !headers_ok
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
        &Expect::Status(status) => {
            if response.status != status {
                return Err(format!("expected status {status}, got {}", got()));
            }
        }
    }
    for name in &case.absent_headers {
        if let Some(value) = response.header(name) {
            return Err(format!("must not send {name}, but sent {value:?}"));
        }
    }
    Ok(())
}

/// A response in one line, for failure messages.
fn describe(response: &Response) -> String {
    let content_type = response.header("content-type");
    let body = if content_type.as_deref() == Some("image/png") {
        format!("<{} bytes of PNG>", response.body.len())
    } else {
        let text = String::from_utf8_lossy(&response.body);
        let short: String = text.chars().take(200).collect();
        let more = if short.len() < text.len() { "..." } else { "" };
        format!("{short:?}{more}")
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
mod tests {
    use super::*;
    use crate::contract::Contract;

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

    #[test]
    fn the_check_can_fail() {
        let contract = Contract::load().unwrap();
        let missing = Case {
            expect: Expect::Answer(contract.answer("missing").clone()),
            ..Case::png("m", "x")
        };
        let body = contract.answer("missing").body.as_bytes();
        let ok = |_: &[u8], _: &str| Ok(());
        assert_eq!(
            check(&missing, &response(400, TEXT_PLAIN, body), false, ok),
            Ok(())
        );
        let with_newline = [body, b"\n"].concat();
        assert!(
            check(
                &missing,
                &response(400, TEXT_PLAIN, &with_newline),
                false,
                ok
            )
            .is_err()
        );
        assert!(check(&missing, &response(404, TEXT_PLAIN, body), false, ok).is_err());
        assert!(check(&missing, &response(400, "text/plain", body), false, ok).is_err());

        let png = Case::png("p", "hello");
        let image = response(200, "image/png", b"\x89PNG");
        assert_eq!(check(&png, &image, false, ok), Ok(()));
        let wrong = |_: &[u8], _: &str| Err("decodes to something else".to_owned());
        assert!(check(&png, &image, false, wrong).is_err());
        assert!(check(&png, &response(200, "image/jpeg", b"x"), false, ok).is_err());

        let mut absent = png.clone();
        absent.absent_headers = vec!["etag".into()];
        let mut tagged = image.clone();
        tagged.headers.push(("etag".into(), "\"1\"".into()));
        assert!(check(&absent, &tagged, false, ok).is_err());
    }
}
