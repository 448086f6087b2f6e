//! The contract's own query parsing: `text` and the image options of a raw query string, in one
//! pass, as bytes until each rule (not axum's `Query`, which would decode lossily and take the last
//! of repeated params). The rules themselves are qr-contract's: [`qr_core::text`] and
//! [`Options::set`].

use std::borrow::Cow;
use std::fmt;

use qr_core::{OptionName, Options, QrError};

/// What a `/qrcode` query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrQuery {
    /// The text to encode.
    pub text: String,
    /// The options it gave, the others at their defaults (with the default engine).
    pub options: Options,
}

/// Why a query asks for no image. `Display` is the exact 400 body of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// This param (`text` or an option) was repeated, or given as `name[...]`.
    NotOnce(&'static str),
    /// A value breaks its rule: the text's (missing, too long, not UTF-8) or an option's.
    Invalid(QrError),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::NotOnce(name) => {
                write!(
                    f,
                    "\"{name}\" query param must be given once, as a plain string"
                )
            }
            QueryError::Invalid(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for QueryError {}

impl From<QrError> for QueryError {
    fn from(err: QrError) -> Self {
        QueryError::Invalid(err)
    }
}

/// How often a param was given, and its raw value when once.
#[derive(Debug, Clone, Copy, Default)]
enum Given<'a> {
    #[default]
    Absent,
    Once(&'a [u8]),
    NotOnce,
}

impl<'a> Given<'a> {
    /// One more occurrence: `Some(value)` plain, `None` bracketed.
    fn add(&mut self, value: Option<&'a [u8]>) {
        *self = match (*self, value) {
            (Given::Absent, Some(value)) => Given::Once(value),
            _ => Given::NotOnce,
        };
    }

    /// The raw value given once (`None` when absent), or `NotOnce(name)`.
    fn once(self, name: &'static str) -> Result<Option<&'a [u8]>, QueryError> {
        match self {
            Given::Absent => Ok(None),
            Given::Once(value) => Ok(Some(value)),
            Given::NotOnce => Err(QueryError::NotOnce(name)),
        }
    }
}

/// Reads `raw_query` (the part after the first `?`): `text` and each option given at most once
/// (a `name[...]` counts as given again), then their rules in the contract's order, `text` first,
/// then [`OptionName::ALL`]'s. Names are exact after form-decoding; other params are ignored.
pub fn qrcode_query(raw_query: Option<&str>) -> Result<QrQuery, QueryError> {
    let mut text = Given::Absent;
    let mut options = [Given::Absent; OptionName::ALL.len()];
    for piece in raw_query.unwrap_or("").as_bytes().split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        let name = form_decode_name(name);
        let (name, value) = match name.iter().position(|&b| b == b'[') {
            Some(bracket) => (&name[..bracket], None),
            None => (&name[..], Some(value)),
        };
        if name == b"text" {
            text.add(value);
        } else if let Some(option) = OptionName::from_param(name) {
            options[option as usize].add(value);
        }
    }
    let text = form_decode(text.once("text")?.unwrap_or_default());
    let text = qr_core::text(&text)?.to_owned();
    let mut chosen = Options::default();
    for option in OptionName::ALL {
        if let Some(value) = options[option as usize].once(option.name())? {
            chosen.set(option, &form_decode(value))?;
        }
    }
    Ok(QrQuery {
        text,
        options: chosen,
    })
}

/// A param's name, form-decoded (copied only when it has something to decode).
fn form_decode_name(name: &[u8]) -> Cow<'_, [u8]> {
    if name.iter().any(|&b| b == b'%' || b == b'+') {
        Cow::Owned(form_decode(name))
    } else {
        Cow::Borrowed(name)
    }
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
    use qr_core::{EcLevel, Format, MAX_TEXT_BYTES, Rgba};

    fn query(query: &str) -> Result<QrQuery, QueryError> {
        qrcode_query(Some(query))
    }

    fn text(query: &str) -> Result<String, QueryError> {
        self::query(query).map(|q| q.text)
    }

    fn options(query: &str) -> Result<Options, QueryError> {
        self::query(query).map(|q| q.options)
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
        assert_eq!(form_decode_name(b"text"), Cow::Borrowed(b"text"));
        assert_eq!(
            form_decode_name(b"te%78t+"),
            Cow::<[u8]>::Owned(b"text ".to_vec())
        );
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
        assert_eq!(text("te[xt=1&text]=2&text=x").as_deref(), Ok("x"));
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
            assert_eq!(text(query), Err(QueryError::NotOnce("text")), "{query}");
        }
    }

    #[test]
    fn missing() {
        assert_eq!(
            qrcode_query(None),
            Err(QueryError::Invalid(QrError::Missing))
        );
        for query in [
            "", "&", "text", "text=", "foo=bar", "TEXT=a", "texts=a", " text=a", "text+=a",
        ] {
            assert_eq!(
                text(query),
                Err(QueryError::Invalid(QrError::Missing)),
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
            Err(QueryError::Invalid(QrError::TooLong))
        );
        // 171 CJK characters = 513 bytes; 170 = 510 bytes fits.
        let cjk = |n| "%E6%BC%A2".repeat(n);
        assert_eq!(text(&format!("text={}", cjk(170))), Ok("漢".repeat(170)));
        assert_eq!(
            text(&format!("text={}", cjk(171))),
            Err(QueryError::Invalid(QrError::TooLong))
        );
        // 512 escapes are 1536 raw characters but 512 bytes.
        assert!(text(&format!("text={}", "%41".repeat(512))).is_ok());
        assert_eq!(
            text(&format!("text={}", "%FF".repeat(513))),
            Err(QueryError::Invalid(QrError::TooLong))
        );
    }

    #[test]
    fn invalid_utf8() {
        for query in ["text=%FF", "text=a%C3", "text=%ED%A0%80", "text=%C0%80"] {
            assert_eq!(
                text(query),
                Err(QueryError::Invalid(QrError::NotUtf8)),
                "{query}"
            );
        }
    }

    #[test]
    fn no_options_are_the_defaults() {
        assert_eq!(options("text=a"), Ok(Options::default()));
        assert_eq!(
            options("text=a&eclevel=X&Size=1&sizes=2"),
            Ok(Options::default())
        );
    }

    #[test]
    fn every_option_is_read_by_its_rule() {
        let chosen =
            options("format=SVG&text=a&size=0300&margin=0&ecLevel=h&dark=%230B3D91&light=ffffff00")
                .unwrap();
        assert_eq!(chosen.format, Format::Svg);
        assert_eq!(chosen.size, Some(300));
        assert_eq!(chosen.margin, 0);
        assert_eq!(chosen.ec_level, EcLevel::H);
        assert_eq!(chosen.dark, Rgba([0x0b, 0x3d, 0x91, 0xff]));
        assert_eq!(chosen.light, Rgba([0xff, 0xff, 0xff, 0]));
        // Names are form-decoded like values, then exact.
        assert_eq!(options("text=a&ec%4Cevel=Q").unwrap().ec_level, EcLevel::Q);
    }

    #[test]
    fn an_option_breaking_its_rule_is_its_message() {
        for (query, option) in [
            ("text=a&format=gif", OptionName::Format),
            ("text=a&format=", OptionName::Format),
            ("text=a&format", OptionName::Format),
            ("text=a&size=20", OptionName::Size),
            ("text=a&size=+300", OptionName::Size),
            ("text=a&margin=21", OptionName::Margin),
            ("text=a&ecLevel=HQ", OptionName::EcLevel),
            ("text=a&dark=red", OptionName::Dark),
            ("text=a&light=%FF%FF%FF%FF%FF%FF", OptionName::Light),
        ] {
            assert_eq!(
                options(query),
                Err(QueryError::Invalid(QrError::BadOption(option))),
                "{query}"
            );
        }
    }

    #[test]
    fn each_option_is_given_once() {
        for option in OptionName::ALL {
            let name = option.name();
            for query in [
                format!("text=a&{name}=x&{name}=x"),
                format!("text=a&{name}[]=x"),
                format!("text=a&{name}%5B0%5D"),
            ] {
                assert_eq!(options(&query), Err(QueryError::NotOnce(name)), "{query}");
            }
        }
    }

    #[test]
    fn checks_run_in_the_contract_s_order() {
        for (query, first) in [
            (
                "size=1&format=gif&text=",
                QueryError::Invalid(QrError::Missing),
            ),
            ("size=1&text=a&text=b", QueryError::NotOnce("text")),
            (
                "text=a&size=1&format=gif",
                QrError::BadOption(OptionName::Format).into(),
            ),
            (
                "text=a&margin=99&size=1",
                QrError::BadOption(OptionName::Size).into(),
            ),
            (
                "text=a&margin=99&size=1&size=2",
                QueryError::NotOnce("size"),
            ),
            (
                "text=a&ecLevel=X&margin=99",
                QrError::BadOption(OptionName::Margin).into(),
            ),
            (
                "text=a&dark=no&ecLevel=X",
                QrError::BadOption(OptionName::EcLevel).into(),
            ),
            (
                "text=a&light=no&dark=no",
                QrError::BadOption(OptionName::Dark).into(),
            ),
            (
                "text=a&light=no&light=no&dark=no",
                QrError::BadOption(OptionName::Dark).into(),
            ),
        ] {
            assert_eq!(options(query), Err(first), "{query}");
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            QueryError::NotOnce("text").to_string(),
            "\"text\" query param must be given once, as a plain string"
        );
        assert_eq!(
            QueryError::NotOnce("ecLevel").to_string(),
            "\"ecLevel\" query param must be given once, as a plain string"
        );
        assert_eq!(
            QueryError::Invalid(QrError::TooLong).to_string(),
            QrError::TooLong.to_string()
        );
    }
}
