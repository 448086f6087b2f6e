//! `contract/cases.json` read into a [`Contract`]: its format is `contract/README.md`'s (answers,
//! text sets, cases written as parts, the image fields).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail, ensure};
use qr_contract::{Format, OptionName, Rgba};
use serde_json::Value;

use super::{Case, Contract, Expect, File, Image, Pixels, Reply};
use crate::tier::{Host, Stack};

/// Parses the JSON; files a text set or a case names are read relative to `root`.
pub(super) fn contract(json: &str, root: &Path) -> Result<Contract> {
    let doc: Value = serde_json::from_str(json)?;
    let mut answers = BTreeMap::new();
    for (key, reply) in object(&doc["answers"], "answers")? {
        let headers = headers(reply)?
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        let status = reply["status"].as_u64().context("an answer's status")?;
        let no_body = reply["body"].is_null();
        answers.insert(
            key.clone(),
            Reply {
                status: u16::try_from(status)?,
                body: if no_body {
                    String::new()
                } else {
                    string(&reply["body"]).with_context(|| format!("answer {key:?}"))?
                },
                no_body,
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
        cases.push(parse_case(case, &answers, root).with_context(|| format!("case {name:?}"))?);
    }
    Ok(Contract {
        answers,
        texts,
        cases,
    })
}

fn parse_case(case: &Value, answers: &BTreeMap<String, Reply>, root: &Path) -> Result<Case> {
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
            let png = Case::png(&name, &parts(text)?);
            (png.target, Some(png.expect))
        }
        (None, Some(query), None) => (format!("/qrcode?{}", parts(query)?), None),
        (None, None, Some(target)) => (parts(target)?, None),
        _ => bail!("needs exactly one of text, query, target"),
    };
    for key in ["png", "svg", "answer", "file", "status"] {
        let Some(value) = case.get(key) else { continue };
        let answer = match key {
            "png" => Expect::Image(Image::png(parts(value)?)),
            "svg" => Expect::Image(Image {
                format: Format::Svg,
                ..Image::png(parts(value)?)
            }),
            "answer" => {
                let name = string(value)?;
                let reply = answers
                    .get(&name)
                    .ok_or_else(|| anyhow!("no answer {name:?}"))?;
                Expect::Answer(reply.clone())
            }
            "file" => {
                let path = string(value)?;
                let bytes = std::fs::read(root.join(&path))
                    .with_context(|| format!("reading {}", root.join(&path).display()))?;
                Expect::File(File { path, bytes })
            }
            _ => Expect::Status(u16::try_from(
                value.as_u64().context("status is a number")?,
            )?),
        };
        if expect.replace(answer).is_some() {
            bail!("needs exactly one of png, svg, answer, file, status (text implies png)");
        }
    }
    let mut expect = expect.context("needs one of png, svg, answer, file, status")?;
    let flag = |key: &str| case.get(key).and_then(Value::as_bool).unwrap_or(false);
    match &mut expect {
        Expect::Image(image) => {
            if let Some(pixels) = case.get("image") {
                image.pixels = parse_pixels(pixels)?;
            }
            image.same_as = case.get("same_as").map(parts).transpose()?;
            image.not_modified = flag("not_modified");
            image.revalidate = flag("revalidate");
        }
        _ => {
            let image_only = ["image", "same_as", "not_modified", "revalidate"];
            if let Some(key) = image_only.iter().find(|key| case.get(**key).is_some()) {
                bail!("{key} goes with png or svg only");
            }
        }
    }
    Ok(Case {
        method: case.get("method").map_or(Ok("GET".to_owned()), string)?,
        target,
        headers,
        absent_headers,
        head: flag("head"),
        hosts: case.get("hosts").map(parse_hosts).transpose()?,
        expect,
        name,
    })
}

/// A case's `image`: `{"size": 300, "margin": 4, "ecLevel": "H", "dark": "0b3d91ff", ...}`.
fn parse_pixels(value: &Value) -> Result<Pixels> {
    let mut pixels = Pixels::default();
    for (key, value) in object(value, "image")? {
        let number = || -> Result<Option<u32>> {
            let n = value
                .as_u64()
                .with_context(|| format!("{key} is a number"))?;
            Ok(Some(u32::try_from(n)?))
        };
        let colour = |option| -> Result<Option<Rgba>> {
            let hex = string(value)?;
            ensure!(hex.len() == 8, "{key} is rrggbbaa, not {hex:?}");
            Ok(Some(Rgba::from_hex(hex.as_bytes(), option)?))
        };
        match key.as_str() {
            "size" => pixels.size = number()?,
            "margin" => pixels.margin = number()?,
            "ecLevel" => pixels.ec_level = Some(string(value)?.parse()?),
            "dark" => pixels.dark = colour(OptionName::Dark)?,
            "light" => pixels.light = colour(OptionName::Light)?,
            _ => bail!("image has no check {key:?}"),
        }
    }
    Ok(pixels)
}

/// `["node", "rust", "gunicorn"]`: hosts (each standing for all its stacks) or stacks, as the
/// stacks they name.
fn parse_hosts(value: &Value) -> Result<Vec<Stack>> {
    let mut stacks = Vec::new();
    for name in array(value, "hosts")? {
        let name = string(name)?;
        match (name.parse::<Host>(), name.parse::<Stack>()) {
            (Ok(host), _) => stacks.extend_from_slice(host.stacks()),
            (_, Ok(stack)) => stacks.push(stack),
            (Err(_), Err(_)) => bail!("unknown host or stack {name:?} in \"hosts\""),
        }
    }
    Ok(stacks)
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
    use crate::paths::repo_root;
    use qr_contract::EcLevel;

    #[test]
    fn parts_repeats_and_shorthands_expand() {
        let json = r#"{
            "answers": {"missing": {"status": 400, "body": "m"},
                       "notAllowed": {"status": 405, "body": "n", "headers": {"Allow": "GET"}},
                       "preflight": {"status": 204, "body": null}},
            "texts": {"few": ["a", [["b", 3], "c"]]},
            "cases": [
                {"name": "q", "query": ["text=", ["%41", 2]], "png": [["A", 2]]},
                {"name": "t", "text": "é", "head": true},
                {"name": "e", "method": "POST", "target": "/x", "answer": "notAllowed"},
                {"name": "s", "query": "x", "status": 431, "headers": {"If-None-Match": "*"},
                 "absent_headers": ["ETag"]},
                {"name": "l", "text": "l", "headers": [["Connection", "a"], ["Connection", "b"],
                 [["X-Pad", "p"], 3]]},
                {"name": "v", "query": "text=v&format=svg", "svg": "v", "revalidate": true,
                 "image": {"size": 300, "margin": 2, "ecLevel": "h", "dark": "0b3d91ff",
                           "light": "ffffff00"}},
                {"name": "i", "text": "i", "same_as": ["text=", "i"], "not_modified": true},
                {"name": "f", "target": "/openapi.json", "file": "Cargo.toml", "head": true},
                {"name": "o", "method": "OPTIONS", "target": "/qrcode", "answer": "preflight"}
            ]}"#;
        let contract = Contract::parse(json, repo_root()).unwrap();
        let cases = contract.cases(Stack::Express);
        assert_eq!(cases[0].target, "/qrcode?text=%41%41");
        assert_eq!(cases[0].expect, Expect::Image(Image::png("AA")));
        assert_eq!(cases[1].target, "/qrcode?text=%C3%A9");
        assert!(cases[1].head);
        assert_eq!(cases[2].method, "POST");
        assert_eq!(
            cases[2].expect,
            Expect::Answer(Reply {
                status: 405,
                body: "n".into(),
                no_body: false,
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
        let Expect::Image(svg) = &cases[5].expect else {
            panic!("{:?}", cases[5].expect)
        };
        assert_eq!(
            (svg.format, svg.revalidate, svg.not_modified),
            (Format::Svg, true, false)
        );
        let colour = |hex: &str| Rgba::from_hex(hex.as_bytes(), OptionName::Dark).ok();
        assert_eq!(
            svg.pixels,
            Pixels {
                size: Some(300),
                margin: Some(2),
                ec_level: Some(EcLevel::H),
                dark: colour("0b3d91ff"),
                light: colour("ffffff00"),
            }
        );
        let Expect::Image(png) = &cases[6].expect else {
            panic!("{:?}", cases[6].expect)
        };
        assert_eq!(
            (png.same_as.as_deref(), png.not_modified),
            (Some("text=i"), true)
        );
        assert!(png.pixels.is_empty());
        let Expect::File(file) = &cases[7].expect else {
            panic!("{:?}", cases[7].expect)
        };
        assert_eq!(
            file.bytes,
            std::fs::read(repo_root().join("Cargo.toml")).unwrap()
        );
        assert!(cases[7].is_cors() && cases[0].is_cors() && !cases[2].is_cors());
        let Expect::Answer(preflight) = &cases[8].expect else {
            panic!("{:?}", cases[8].expect)
        };
        assert!(preflight.no_body && preflight.body.is_empty());
        assert_eq!(contract.texts("few"), ["a", "bbbc"]);
        assert_eq!(cases[10].expect, Expect::Image(Image::png("bbbc")));

        for bad in [
            r#"{"name": "x", "query": "a", "target": "/b", "status": 1}"#,
            r#"{"name": "x", "query": "a"}"#,
            r#"{"name": "x", "text": "a", "status": 1}"#,
            r#"{"name": "x", "query": "a", "answer": "nope"}"#,
            r#"{"name": "x", "query": "a", "status": 1, "hosts": ["deno"]}"#,
            r#"{"name": "x", "query": [["a", "b"]], "status": 1}"#,
            r#"{"name": "x", "text": "a", "headers": [["Connection"]]}"#,
            r#"{"name": "x", "text": "a", "svg": "a"}"#,
            r#"{"name": "x", "query": "a", "status": 1, "same_as": "text=a"}"#,
            r#"{"name": "x", "text": "a", "image": {"colour": "000000ff"}}"#,
            r#"{"name": "x", "text": "a", "image": {"dark": "000000"}}"#,
            r#"{"name": "x", "text": "a", "image": {"ecLevel": "X"}}"#,
            r#"{"name": "x", "target": "/x", "file": "no/such/file"}"#,
        ] {
            let json = format!(r#"{{"answers": {{}}, "texts": {{}}, "cases": [{bad}]}}"#);
            assert!(Contract::parse(&json, Path::new("/")).is_err(), "{bad}");
        }
    }
}
