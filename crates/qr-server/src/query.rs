//! The contract's own query parsing: the one `text` param of a raw query string, as bytes until the
//! UTF-8 check (not axum's `Query`, which would decode lossily and take the last of repeated params).

use std::fmt;

use qr_core::QrError;

/// Why a query has no usable `text`. `Display` is the exact 400 body of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// `text` was repeated, or given as `text[...]`.
    NotOnce,
    /// The one `text` breaks the core's text rule (missing, too long, not UTF-8).
    Invalid(QrError),
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::NotOnce => {
                f.write_str("\"text\" query param must be given once, as a plain string")
            }
            TextError::Invalid(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for TextError {}

/// Returns the `text` param of `raw_query` (the part after the first `?`): given once, then the
/// core's text rule ([`qr_core::text`]) on its form-decoded bytes.
pub fn text_param(raw_query: Option<&str>) -> Result<String, TextError> {
    let mut texts = 0;
    let mut bracketed = false;
    let mut value: &[u8] = b"";
    for piece in raw_query.unwrap_or("").as_bytes().split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (name, rest) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        let name = form_decode(name);
        if name == b"text" {
            texts += 1;
            value = rest;
        } else if name.starts_with(b"text[") {
            bracketed = true;
        }
    }
    if bracketed || texts > 1 {
        return Err(TextError::NotOnce);
    }
    let value = form_decode(value);
    qr_core::text(&value)
        .map(str::to_owned)
        .map_err(TextError::Invalid)
}

/// Decodes `application/x-www-form-urlencoded` bytes: `+` is a space, `%XX` a byte, and a malformed
/// `%` escape stays as it is.
pub fn form_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = input.get(i + 1).and_then(|&b| hex_value(b));
                let lo = input.get(i + 2).and_then(|&b| hex_value(b));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|value| value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qr_core::MAX_TEXT_BYTES;

    fn text(query: &str) -> Result<String, TextError> {
        text_param(Some(query))
    }

    #[test]
    fn decoding() {
        assert_eq!(form_decode(b"a+b%20c"), b"a b c");
        assert_eq!(form_decode(b"%2B%2b%41%61"), b"++Aa");
        assert_eq!(form_decode(b"%F0%9F%A6%80"), "🦀".as_bytes());
        assert_eq!(form_decode(b"%00"), b"\0");
        assert_eq!(form_decode(b"%FF%fe"), b"\xff\xfe");
        // Malformed escapes stay literally; the next characters are read as usual.
        assert_eq!(form_decode(b"%"), b"%");
        assert_eq!(form_decode(b"%4"), b"%4");
        assert_eq!(form_decode(b"%zz"), b"%zz");
        assert_eq!(form_decode(b"%%41"), b"%A");
        assert_eq!(form_decode(b"%4+"), b"%4 ");
        assert_eq!(form_decode(b"100%"), b"100%");
        assert_eq!(form_decode(b""), b"");
    }

    #[test]
    fn one_plain_text() {
        assert_eq!(text("text=hello").as_deref(), Ok("hello"));
        assert_eq!(text("text=hello+world").as_deref(), Ok("hello world"));
        assert_eq!(text("text=a%2Bb%26c%3Dd").as_deref(), Ok("a+b&c=d"));
        assert_eq!(text("text=a=b").as_deref(), Ok("a=b"));
        assert_eq!(text("text=%zz%4").as_deref(), Ok("%zz%4"));
        assert_eq!(text("&&foo=1&text=x&bar&&").as_deref(), Ok("x"));
        assert_eq!(text("te%78t=x").as_deref(), Ok("x"));
        assert_eq!(text("text=a%00b").as_deref(), Ok("a\0b"));
        assert_eq!(text("textual=1&text=x&xtext=2").as_deref(), Ok("x"));
        assert_eq!(text("text=?x?").as_deref(), Ok("?x?"));
    }

    #[test]
    fn given_more_than_once() {
        for query in [
            "text=a&text=b",
            "text=a&text=a",
            "text&text",
            "text=&text=",
            "text[]=a",
            "text[0]=a",
            "text[=a",
            "text%5B%5D=a",
            "text=a&text[x]=b",
            "text[]=",
        ] {
            assert_eq!(text(query), Err(TextError::NotOnce), "{query}");
        }
    }

    #[test]
    fn missing() {
        assert_eq!(text_param(None), Err(TextError::Invalid(QrError::Missing)));
        for query in [
            "", "&", "text", "text=", "foo=bar", "TEXT=a", "texts=a", " text=a", "text+=a",
        ] {
            assert_eq!(
                text(query),
                Err(TextError::Invalid(QrError::Missing)),
                "{query}"
            );
        }
    }

    #[test]
    fn too_long_is_counted_in_decoded_bytes_before_the_utf8_check() {
        let max = "a".repeat(MAX_TEXT_BYTES);
        assert_eq!(text(&format!("text={max}")), Ok(max.clone()));
        assert_eq!(
            text(&format!("text={max}a")),
            Err(TextError::Invalid(QrError::TooLong))
        );
        // 171 CJK characters = 513 bytes; 170 = 510 bytes fits.
        let cjk = |n| "%E6%BC%A2".repeat(n);
        assert_eq!(text(&format!("text={}", cjk(170))), Ok("漢".repeat(170)));
        assert_eq!(
            text(&format!("text={}", cjk(171))),
            Err(TextError::Invalid(QrError::TooLong))
        );
        // 512 escapes are 1536 raw characters but 512 bytes.
        assert!(text(&format!("text={}", "%41".repeat(512))).is_ok());
        assert_eq!(
            text(&format!("text={}", "%FF".repeat(513))),
            Err(TextError::Invalid(QrError::TooLong))
        );
    }

    #[test]
    fn invalid_utf8() {
        for query in ["text=%FF", "text=a%C3", "text=%ED%A0%80", "text=%C0%80"] {
            assert_eq!(
                text(query),
                Err(TextError::Invalid(QrError::NotUtf8)),
                "{query}"
            );
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            TextError::NotOnce.to_string(),
            "\"text\" query param must be given once, as a plain string"
        );
        assert_eq!(
            TextError::Invalid(QrError::TooLong).to_string(),
            QrError::TooLong.to_string()
        );
    }
}
