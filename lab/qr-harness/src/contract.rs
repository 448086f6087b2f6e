//! The HTTP contract as data: `contract/cases.json` (format in `contract/README.md`) loaded into
//! requests and expected answers, and the one check of an answer against them (`check`). The
//! conformance suite and qr-server's own tests use it; the Node and Python tests read the same file.

mod check;

pub use check::check;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::http::percent_encode;
use crate::paths::repo_root;
use crate::tier::Host;

/// A named answer of the contract (an error, or `/healthz`'s): status, exact one-line body, required
/// headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Header names in lower case, with their exact values (`allow` on a 405).
    pub headers: Vec<(String, String)>,
}

/// What a request must get back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// 200, `image/png`, a PNG of the QR code of exactly this text.
    Png(String),
    /// This named answer.
    Answer(Reply),
    /// Only this status: the HTTP layer's answer, whose body the contract leaves open.
    Status(u16),
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
    /// The hosts whose tiers answer it so (`None`: every host).
    pub hosts: Option<Vec<Host>>,
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
            expect: Expect::Png(text.to_owned()),
        }
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

    /// Parses the JSON; files a text set names are read relative to `root`.
    pub fn parse(json: &str, root: &Path) -> Result<Contract> {
        let doc: Value = serde_json::from_str(json)?;
        let mut answers = BTreeMap::new();
        for (key, reply) in object(&doc["answers"], "answers")? {
            let headers = headers(reply)?
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect();
            let status = reply["status"].as_u64().context("an answer's status")?;
            answers.insert(
                key.clone(),
                Reply {
                    status: u16::try_from(status)?,
                    body: string(&reply["body"])?,
                    headers,
                },
            );
        }
        let mut texts = BTreeMap::new();
        for (set, value) in object(&doc["texts"], "texts")? {
            let list = match value.get("file") {
                Some(file) => {
                    let path = root.join(string(file)?);
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?
                        .lines()
                        .filter(|line| !line.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                None => array(value, "a text set")?
                    .iter()
                    .map(parts)
                    .collect::<Result<Vec<_>>>()?,
            };
            texts.insert(set.clone(), list);
        }
        let mut cases = Vec::new();
        for case in array(&doc["cases"], "cases")? {
            let name = string(&case["name"])?;
            cases.push(parse_case(case, &answers).with_context(|| format!("case {name:?}"))?);
        }
        Ok(Contract {
            answers,
            texts,
            cases,
        })
    }

    /// Every case `host`'s tiers answer: the table's, then one PNG case for each text of every
    /// text set.
    pub fn cases(&self, host: Host) -> Vec<Case> {
        let mut cases: Vec<Case> = (self.cases.iter())
            .filter(|case| {
                case.hosts
                    .as_ref()
                    .is_none_or(|hosts| hosts.contains(&host))
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

fn parse_case(case: &Value, answers: &BTreeMap<String, Reply>) -> Result<Case> {
    let name = string(&case["name"])?;
    let headers = headers(case)?;
    let absent_headers = match case.get("absent_headers") {
        None => Vec::new(),
        Some(names) => array(names, "absent_headers")?
            .iter()
            .map(|name| Ok(string(name)?.to_ascii_lowercase()))
            .collect::<Result<_>>()?,
    };
    let (target, mut expect) = match (case.get("text"), case.get("query"), case.get("target")) {
        (Some(text), None, None) => {
            let text = parts(text)?;
            let png = Case::png(&name, &text);
            (png.target, Some(Expect::Png(text)))
        }
        (None, Some(query), None) => (format!("/qrcode?{}", parts(query)?), None),
        (None, None, Some(target)) => (parts(target)?, None),
        _ => bail!("needs exactly one of text, query, target"),
    };
    for key in ["png", "answer", "status"] {
        let Some(value) = case.get(key) else { continue };
        let answer = match key {
            "png" => Expect::Png(parts(value)?),
            "answer" => {
                let name = string(value)?;
                let reply = answers
                    .get(&name)
                    .ok_or_else(|| anyhow!("no answer {name:?}"))?;
                Expect::Answer(reply.clone())
            }
            _ => Expect::Status(u16::try_from(
                value.as_u64().context("status is a number")?,
            )?),
        };
        if expect.replace(answer).is_some() {
            bail!("needs exactly one of png, answer, status (text implies png)");
        }
    }
    Ok(Case {
        method: case.get("method").map_or(Ok("GET".to_owned()), string)?,
        target,
        headers,
        absent_headers,
        head: case.get("head").and_then(Value::as_bool).unwrap_or(false),
        hosts: case.get("hosts").map(parse_hosts).transpose()?,
        expect: expect.context("needs one of png, answer, status")?,
        name,
    })
}

/// `["node", "rust"]`.
fn parse_hosts(value: &Value) -> Result<Vec<Host>> {
    (array(value, "hosts")?.iter())
        .map(|host| Ok(string(host)?.parse::<Host>()?))
        .collect()
}

/// The optional `headers` of `value`, as (name, value) pairs: an object, or a list where a name
/// is repeated, of `[name, value]` pairs and `[[name, value], count]` repeats.
fn headers(value: &Value) -> Result<Vec<(String, String)>> {
    match value.get("headers") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut pairs = Vec::new();
            for item in items {
                match item.as_array().map(Vec::as_slice) {
                    Some([Value::Array(pair), Value::Number(count)]) => {
                        let [name, value] = pair.as_slice() else {
                            bail!("a repeated header is [[name, value], count], not {item}");
                        };
                        let count = usize::try_from(count.as_u64().context("a repeat count")?)?;
                        let pair = (string(name)?, string(value)?);
                        pairs.extend(std::iter::repeat_n(pair, count));
                    }
                    Some([name, value]) => pairs.push((string(name)?, string(value)?)),
                    _ => bail!("a header is [name, value] or [[name, value], count], not {item}"),
                }
            }
            Ok(pairs)
        }
        Some(headers) => object(headers, "headers")?
            .iter()
            .map(|(name, value)| Ok((name.clone(), string(value)?)))
            .collect(),
    }
}

/// A string written as parts: a string, or an array of strings and `[string, count]` repeats.
fn parts(value: &Value) -> Result<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(repeat) => match repeat.as_slice() {
                    [Value::String(s), Value::Number(n)] => {
                        let count = n.as_u64().context("a repeat count")?;
                        Ok(s.repeat(usize::try_from(count)?))
                    }
                    _ => bail!("a repeat is [string, count], not {item}"),
                },
                other => string(other),
            })
            .collect(),
        other => bail!("expected a string or parts, got {other}"),
    }
}

fn string(value: &Value) -> Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("expected a string, got {value}"))
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a serde_json::Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| anyhow!("{what}: expected an object, got {value}"))
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>> {
    value
        .as_array()
        .ok_or_else(|| anyhow!("{what}: expected an array, got {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_contract_loads() {
        let contract = Contract::load().unwrap();
        let cases = contract.cases(Host::Node);
        assert!(cases.len() > 100, "{}", cases.len());
        let named = |host, name: &str| contract.cases(host).iter().any(|case| case.name == name);
        assert!(named(Host::Rust, "metrics (tier 4)") && !named(Host::Node, "metrics (tier 4)"));
        assert!(named(Host::Node, "no metrics on the Node and Python hosts"));
        assert!(named(
            Host::Python,
            "no metrics on the Node and Python hosts"
        ));
        assert!(
            named(Host::Node, "health while serving") && named(Host::Rust, "health while serving")
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

    #[test]
    fn parts_repeats_and_shorthands_expand() {
        let json = r#"{
            "answers": {"missing": {"status": 400, "body": "m"},
                       "notAllowed": {"status": 405, "body": "n", "headers": {"Allow": "GET"}}},
            "texts": {"few": ["a", [["b", 3], "c"]]},
            "cases": [
                {"name": "q", "query": ["text=", ["%41", 2]], "png": [["A", 2]]},
                {"name": "t", "text": "é", "head": true},
                {"name": "e", "method": "POST", "target": "/x", "answer": "notAllowed"},
                {"name": "s", "query": "x", "status": 431, "headers": {"If-None-Match": "*"},
                 "absent_headers": ["ETag"]},
                {"name": "l", "text": "l", "headers": [["Connection", "a"], ["Connection", "b"],
                 [["X-Pad", "p"], 3]]}
            ]}"#;
        let contract = Contract::parse(json, Path::new("/")).unwrap();
        let cases = contract.cases(Host::Node);
        assert_eq!(cases[0].target, "/qrcode?text=%41%41");
        assert_eq!(cases[0].expect, Expect::Png("AA".into()));
        assert_eq!(cases[1].target, "/qrcode?text=%C3%A9");
        assert!(cases[1].head);
        assert_eq!(cases[2].method, "POST");
        assert_eq!(
            cases[2].expect,
            Expect::Answer(Reply {
                status: 405,
                body: "n".into(),
                headers: vec![("allow".into(), "GET".into())]
            })
        );
        assert_eq!(cases[3].headers, [("If-None-Match".into(), "*".into())]);
        assert_eq!(cases[3].absent_headers, ["etag"]);
        let repeated = |value: &str| ("Connection".to_owned(), value.to_owned());
        let pad = ("X-Pad".to_owned(), "p".to_owned());
        assert_eq!(
            cases[4].headers,
            [repeated("a"), repeated("b"), pad.clone(), pad.clone(), pad]
        );
        assert_eq!(contract.texts("few"), ["a", "bbbc"]);
        assert_eq!(cases[6].expect, Expect::Png("bbbc".into()));

        for bad in [
            r#"{"name": "x", "query": "a", "target": "/b", "status": 1}"#,
            r#"{"name": "x", "query": "a"}"#,
            r#"{"name": "x", "text": "a", "status": 1}"#,
            r#"{"name": "x", "query": "a", "answer": "nope"}"#,
            r#"{"name": "x", "query": "a", "status": 1, "hosts": ["deno"]}"#,
            r#"{"name": "x", "query": [["a", "b"]], "status": 1}"#,
            r#"{"name": "x", "text": "a", "headers": [["Connection"]]}"#,
        ] {
            let json = format!(r#"{{"answers": {{}}, "texts": {{}}, "cases": [{bad}]}}"#);
            assert!(Contract::parse(&json, Path::new("/")).is_err(), "{bad}");
        }
    }
}
