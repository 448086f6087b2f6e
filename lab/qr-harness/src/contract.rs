//! The HTTP contract as data: `contract/cases.json` (format in `contract/README.md`) loaded into
//! requests and expected answers, the one check of an answer against them (`check`), and a case's
//! whole exchange (`run`: HEAD, `same_as`, `not_modified`, `revalidate`). The conformance suite
//! and qr-server's own tests use it; the Node and Python tests read the same file.

mod check;
mod parse;
mod run;

pub use check::{CACHE_CONTROL, TEXT_PLAIN, check, etag_of};
pub use run::run;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use qr_contract::{EcLevel, Format, Rgba};

use crate::http::percent_encode;
use crate::paths::repo_root;
use crate::tier::Stack;

/// A named answer of the contract (an error, or `/healthz`'s): status, exact one-line body, required
/// headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// The exact body, `text/plain; charset=utf-8`; empty when `no_body`.
    pub body: String,
    /// A `null` body in the data: no body, and no Content-Type (the `204` of a CORS preflight).
    pub no_body: bool,
    /// Header names in lower case, with their exact values (`allow` on a 405).
    pub headers: Vec<(String, String)>,
}

/// What a request must get back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// 200, a PNG or an SVG of the QR code of exactly this text, and what else it must show.
    Image(Image),
    /// This named answer.
    Answer(Reply),
    /// 200, `application/json`, byte for byte this file of the repository (`/openapi.json`).
    File(File),
    /// Only this status: the HTTP layer's answer, whose body the contract leaves open.
    Status(u16),
}

/// An image answer (`png` or `svg`, and the fields that go with them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub format: Format,
    /// The text the QR code holds.
    pub text: String,
    /// What the pixels must show (`image`).
    pub pixels: Pixels,
    /// A query (after `/qrcode?`) whose answer has exactly the same bytes.
    pub same_as: Option<String>,
    /// The request is conditional: the answer is `304`, no body, with the image's `ETag`.
    pub not_modified: bool,
    /// The image's `ETag` sent back as `If-None-Match` (alone, weak, in a list, on HEAD) is a
    /// `304` each time.
    pub revalidate: bool,
}

impl Image {
    /// The PNG of `text`, with nothing else to check.
    pub fn png(text: impl Into<String>) -> Image {
        Image {
            format: Format::Png,
            text: text.into(),
            pixels: Pixels::default(),
            same_as: None,
            not_modified: false,
            revalidate: false,
        }
    }
}

/// What an image's pixels must show (a case's `image`); each check runs when its value is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pixels {
    /// The exact width and height.
    pub size: Option<u32>,
    /// The light quiet zone, in modules, and no more.
    pub margin: Option<u32>,
    /// The level ZXing reports (without it: L, the default).
    pub ec_level: Option<EcLevel>,
    /// The dark colour: with `light`, the only two colours of the image.
    pub dark: Option<Rgba>,
    pub light: Option<Rgba>,
}

impl Pixels {
    /// Whether nothing but the text is asked.
    pub fn is_empty(&self) -> bool {
        *self == Pixels::default()
    }
}

/// A file of the repository, served as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Its path from the repository root.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// One request and its expected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub method: String,
    /// The raw request target, sent as it is.
    pub target: String,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Response headers that must not be there (lower case).
    pub absent_headers: Vec<String>,
    /// Also send it as HEAD: same status and headers, no body.
    pub head: bool,
    /// The stacks whose tiers answer it so (`None`: every stack); the table's `hosts` names hosts,
    /// each standing for all its stacks, or single stacks.
    pub hosts: Option<Vec<Stack>>,
    pub expect: Expect,
}

impl Case {
    /// `GET /qrcode?text=<text, percent-encoded>`, answered with the PNG of `text`.
    pub fn png(name: impl Into<String>, text: &str) -> Case {
        Case {
            name: name.into(),
            method: "GET".into(),
            target: format!("/qrcode?text={}", percent_encode(text.as_bytes())),
            headers: Vec::new(),
            absent_headers: Vec::new(),
            head: false,
            hosts: None,
            expect: Expect::Image(Image::png(text)),
        }
    }

    /// Whether the answer is the app's (every kind but `status`) to `/qrcode` or `/openapi.json`,
    /// which carries `Access-Control-Allow-Origin: *`.
    pub fn is_cors(&self) -> bool {
        let path = match self.target.split_once("://") {
            // The absolute form: the path starts after the authority.
            Some((_, rest)) => rest.find('/').map_or("", |slash| &rest[slash..]),
            None => &self.target,
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        !matches!(self.expect, Expect::Status(_)) && ["/qrcode", "/openapi.json"].contains(&path)
    }
}

/// The loaded contract.
#[derive(Debug, Clone)]
pub struct Contract {
    answers: BTreeMap<String, Reply>,
    texts: BTreeMap<String, Vec<String>>,
    cases: Vec<Case>,
}

impl Contract {
    /// `contract/cases.json` of this repository.
    pub fn load() -> Result<Contract> {
        let path = repo_root().join("contract/cases.json");
        let json = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Contract::parse(&json, repo_root()).with_context(|| format!("in {}", path.display()))
    }

    /// Parses the JSON; files a text set or a case names are read relative to `root`.
    pub fn parse(json: &str, root: &Path) -> Result<Contract> {
        parse::contract(json, root)
    }

    /// Every case the tiers on `stack` answer: the table's, then one PNG case for each text of
    /// every text set.
    pub fn cases(&self, stack: Stack) -> Vec<Case> {
        let mut cases: Vec<Case> = (self.cases.iter())
            .filter(|case| {
                case.hosts
                    .as_ref()
                    .is_none_or(|stacks| stacks.contains(&stack))
            })
            .cloned()
            .collect();
        for (set, texts) in &self.texts {
            for (i, text) in texts.iter().enumerate() {
                let preview: String = text.chars().take(24).collect();
                cases.push(Case::png(
                    format!("{set} text {}: {preview:?}", i + 1),
                    text,
                ));
            }
        }
        cases
    }

    /// The texts of one set (`article`, `edge`, `scan`).
    pub fn texts(&self, set: &str) -> &[String] {
        self.texts
            .get(set)
            .unwrap_or_else(|| panic!("contract/cases.json has no text set {set:?}"))
    }

    /// The answer named `key` (`missing`, `notOnce`, `healthy`, ...).
    pub fn answer(&self, key: &str) -> &Reply {
        self.answers
            .get(key)
            .unwrap_or_else(|| panic!("contract/cases.json has no answer {key:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_contract_loads() {
        let contract = Contract::load().unwrap();
        let cases = contract.cases(Stack::Express);
        assert!(cases.len() > 100, "{}", cases.len());
        let named = |stack, name: &str| contract.cases(stack).iter().any(|case| case.name == name);
        assert!(
            named(Stack::Axum, "metrics (tier 4)") && !named(Stack::Express, "metrics (tier 4)")
        );
        for stack in [Stack::Fastify, Stack::Gunicorn, Stack::Granian] {
            assert!(
                named(stack, "no metrics on the Node and Python hosts"),
                "{stack}"
            );
        }
        assert!(
            named(Stack::Express, "health while serving")
                && named(Stack::Axum, "health while serving")
        );
        assert_eq!(contract.texts("article").len(), 10);
        assert_eq!(
            contract.answer("missing").body,
            "missing \"text\" query param"
        );
        assert_eq!(
            contract.answer("missing").body,
            qr_contract::QrError::Missing.to_string(),
            "the data and the core word it the same"
        );
        assert_eq!(
            contract.answer("notUtf8").body,
            qr_contract::QrError::NotUtf8.to_string()
        );
        assert_eq!(
            contract.answer("tooLong").body,
            qr_contract::QrError::TooLong.to_string()
        );
        let names: std::collections::HashSet<&str> =
            cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), cases.len(), "case names are unique");
    }
}
