//! The API as the real `qr-server` binary serves it over a socket: caching (`ETag`, 304),
//! CORS and the preflight, `/openapi.json`, raw characters a URI may not carry, and option requests
//! byte for byte with `qr_core::generate`.
//!
//! Run with `cargo test -p qr-server --test api`.

mod common;

use std::net::SocketAddr;
use std::process::Child;

use common::*;
use qr_core::{EcLevel, Engine, Format, Options, Rgba};
use qr_harness::http::{self, Response};
use sha2::{Digest, Sha256};

/// The binary on an ephemeral port, stopped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let (child, addr) = start(args);
        Server { child, addr }
    }

    /// `method target` with `headers`, on a connection of its own.
    fn send(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        let headers: Vec<(String, String)> = (headers.iter())
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        http::send(self.addr, method, target, &headers)
            .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        signal(&self.child, "TERM");
        let _ = self.child.wait();
    }
}

/// The contract's `ETag` of `body`: the first 32 hex digits of its SHA-256, quoted.
fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[test]
fn an_image_has_a_strong_etag_and_cache_control_and_its_etag_is_a_304() {
    let server = Server::start(&[]);
    let png = qr_core::generate("cache me", &Options::default()).unwrap();
    let etag = etag_of(&png);
    let target = "/qrcode?text=cache+me";
    let got = server.send("GET", target, &[]);
    assert_eq!((got.status, &got.body), (200, &png));
    let expected = [
        ("content-type", "image/png"),
        ("etag", etag.as_str()),
        ("cache-control", "public, max-age=86400"),
        ("access-control-allow-origin", "*"),
        ("content-length", &png.len().to_string()),
    ];
    for (name, value) in expected {
        assert_eq!(got.header(name).as_deref(), Some(value), "{name}");
    }
    let head = server.send("HEAD", target, &[]);
    assert_eq!(head.status, 200);
    for (name, value) in expected {
        assert_eq!(head.header(name).as_deref(), Some(value), "HEAD: {name}");
    }

    let weak = format!("W/{etag}");
    let listed = format!("\"00000000000000000000000000000000\", {weak}");
    for if_none_match in [etag.as_str(), &weak, &listed, "*"] {
        for method in ["GET", "HEAD"] {
            let got = server.send(method, target, &[("If-None-Match", if_none_match)]);
            let case = format!("{method} with If-None-Match: {if_none_match}");
            assert_eq!((got.status, got.body.len()), (304, 0), "{case}");
            for (name, value) in &expected[1..4] {
                assert_eq!(got.header(name).as_deref(), Some(*value), "{case}: {name}");
            }
            for name in ["content-type", "content-length"] {
                assert_eq!(got.header(name), None, "{case}: {name}");
            }
        }
    }
    let other = server.send("GET", target, &[("If-None-Match", "\"x\", W/\"y\"")]);
    assert_eq!((other.status, &other.body), (200, &png));

    // Another option set is another image, with its own tag.
    let svg = server.send("GET", "/qrcode?text=cache+me&format=svg", &[]);
    assert_eq!(svg.header("etag"), Some(etag_of(&svg.body)));
    assert_ne!(svg.header("etag"), Some(etag));
}

#[test]
fn a_preflight_is_a_204_and_every_qrcode_answer_allows_any_origin() {
    let server = Server::start(&[]);
    let preflight = [
        ("Origin", "https://example.com"),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "if-none-match"),
    ];
    for target in ["/qrcode?text=a", "/qrcode"] {
        let got = server.send("OPTIONS", target, &preflight);
        assert_eq!((got.status, got.body.len()), (204, 0), "{target}");
        for (name, value) in [
            ("access-control-allow-origin", Some("*")),
            ("access-control-allow-methods", Some("GET, HEAD, OPTIONS")),
            ("access-control-allow-headers", Some("*")),
            ("access-control-max-age", Some("86400")),
            ("allow", Some("GET, HEAD, OPTIONS")),
            ("content-type", None),
            ("content-length", None),
        ] {
            assert_eq!(got.header(name).as_deref(), value, "{target}: {name}");
        }
    }
    for (method, target, status, allow) in [
        ("GET", "/qrcode", 400, None),
        ("GET", "/qrcode?text=a&size=1", 400, None),
        ("POST", "/qrcode?text=a", 405, Some("GET, HEAD, OPTIONS")),
        ("DELETE", "/qrcode", 405, Some("GET, HEAD, OPTIONS")),
        ("POST", "/openapi.json", 405, Some("GET, HEAD")),
    ] {
        let got = server.send(method, target, &[]);
        assert_eq!(got.status, status, "{method} {target}");
        assert_eq!(got.header("allow").as_deref(), allow, "{method} {target}");
        let any = got.header("access-control-allow-origin");
        assert_eq!(any.as_deref(), Some("*"), "{method} {target}");
    }
    // /healthz keeps its methods, and no CORS.
    let got = server.send("OPTIONS", "/healthz", &[]);
    assert_eq!(got.status, 405);
    assert_eq!(got.header("allow").as_deref(), Some("GET, HEAD"));
    assert_eq!(got.header("access-control-allow-origin"), None);
}

#[test]
fn openapi_json_is_the_contract_s_document_byte_for_byte() {
    let server = Server::start(&[]);
    let path = qr_harness::paths::repo_root().join("contract/openapi.json");
    let document = std::fs::read(path).unwrap();
    for method in ["GET", "HEAD"] {
        let got = server.send(method, "/openapi.json", &[]);
        assert_eq!(got.status, 200, "{method}");
        let body = if method == "GET" { &document[..] } else { &[] };
        assert!(got.body == body, "{method}: the body");
        let length = document.len().to_string();
        for (name, value) in [
            ("content-type", "application/json"),
            ("content-length", &length),
            ("access-control-allow-origin", "*"),
        ] {
            assert_eq!(got.header(name).as_deref(), Some(value), "{method}: {name}");
        }
    }
}

#[test]
fn raw_characters_a_uri_may_not_carry_are_served_as_if_percent_encoded() {
    let server = Server::start(&[]);
    for raw in ['<', '>', '"', '{', '}', '|', '\\', '^', '`'] {
        let text = format!("a{raw}b{raw}");
        let got = server.send("GET", &format!("/qrcode?text={text}"), &[]);
        let png = qr_core::generate(&text, &Options::default()).unwrap();
        assert_eq!(got.status, 200, "{text}");
        assert!(got.body == png, "{text}: not the core's bytes");
    }
    let all = "<b>\"{a}|b\"\\^`";
    let got = server.send("GET", &format!("/qrcode?text={all}&format=svg"), &[]);
    let mut svg = Options::default();
    svg.format = Format::Svg;
    assert_eq!(got.body, qr_core::generate(all, &svg).unwrap());
    // In a path they make another path; other raw bytes keep their answers.
    for (target, status) in [
        ("/qr<code?text=a", 404),
        ("/qrcode?text=é<", 400),
        ("/qrcode?text=<\x7f", 400),
    ] {
        assert_eq!(server.send("GET", target, &[]).status, status, "{target}");
    }
}

#[test]
fn options_answer_exactly_the_core_s_bytes_for_each_engine() {
    for &engine in Engine::ALL {
        let server = Server::start(&["--engine", engine.name()]);
        let mut brand = Options::with_engine(engine);
        brand.format = Format::Svg;
        brand.ec_level = EcLevel::H;
        brand.dark = Rgba([0x0b, 0x3d, 0x91, 0xff]);
        brand.light = Rgba([0xff, 0xff, 0xff, 0]);
        brand.size = Some(300);
        brand.margin = 2;
        let mut sized = Options::with_engine(engine);
        sized.size = Some(97);
        sized.ec_level = EcLevel::Q;
        sized.light = Rgba([0xff, 0xee, 0xdd, 0xff]);
        for (query, text, options) in [
            (
                "text=rusty-qr&format=svg&ecLevel=H&dark=0b3d91&light=ffffff00&size=300&margin=2",
                "rusty-qr",
                brand,
            ),
            (
                "ecLevel=q&size=97&light=%23FFEEDD&text=hello",
                "hello",
                sized,
            ),
            (
                "text=hello&format=png&margin=4",
                "hello",
                Options::with_engine(engine),
            ),
        ] {
            let got = server.send("GET", &format!("/qrcode?{query}"), &[]);
            let expected = qr_core::generate(text, &options).unwrap();
            assert_eq!(got.status, 200, "{engine}: {query}");
            assert!(
                got.body == expected,
                "{engine}: {query}: not the core's bytes"
            );
            let content_type = options.format.content_type();
            assert_eq!(got.header("content-type").as_deref(), Some(content_type));
        }
        let too_small = server.send("GET", "/qrcode?text=hello&size=28", &[]);
        assert_eq!(too_small.status, 400, "{engine}");
        assert_eq!(
            String::from_utf8_lossy(&too_small.body),
            "\"size\" must be at least 29 pixels for this text, ecLevel and margin"
        );
    }
}
