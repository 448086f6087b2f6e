//! The one black-box conformance suite: every tier and mode gets the same HTTP cases over a real socket.
//!
//! Run with `cargo xtask test` (after `cargo xtask build`), or one tier with
//! `RUSTY_QR_TIERS=tier-0:single,tier-4 cargo test -p qr-harness --test conformance -- --include-ignored`.
//!
//! Each case asserts the exact status, Content-Type and body the contract gives, so the same request
//! gets the same answer from every tier by construction; every PNG is decoded back to its exact
//! text by rqrr and by jsqr, and the PNGs of tiers 1 to 4 must equal `qr_core::png` byte for byte.

#[path = "support/http.rs"]
mod http;
#[path = "support/jsqr.rs"]
mod jsqr;

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::{Response, SlowReader};
use qr_core::Options;
use qr_harness::{Mode, Server, ServerSpec, Tier, percent_encode as encode};

const TARGETS: &str = include_str!("../../../bench/targets.txt");

const ONCE: &str = "\"text\" query param must be given once, as a plain string";
const MISSING: &str = "missing \"text\" query param";
const TOO_LONG: &str = "text must be <= 512 bytes";
const NOT_UTF8: &str = "\"text\" query param must be valid UTF-8";
const NOT_FOUND: &str = "not found";
const NOT_ALLOWED: &str = "method not allowed";
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const ALLOW: &str = "GET, HEAD";

/// What a request must get back.
#[derive(Debug, Clone)]
enum Expect {
    /// 200, `image/png`, a square PNG >= 200 px that decodes (EC level L) to exactly this text.
    Png(String),
    /// This status, `text/plain; charset=utf-8`, exactly this body (405 also needs `Allow`).
    Error(u16, &'static str),
    /// Only this status: the HTTP layer's answer, whose body the contract leaves open.
    Status(u16),
}

/// One request and its expected answer.
struct Case {
    name: String,
    method: &'static str,
    target: String,
    expect: Expect,
}

fn case(
    name: impl Into<String>,
    method: &'static str,
    target: impl Into<String>,
    expect: Expect,
) -> Case {
    Case {
        name: name.into(),
        method,
        target: target.into(),
        expect,
    }
}

/// `GET /qrcode?QUERY`, with QUERY written exactly as given.
fn query(name: impl Into<String>, raw_query: impl AsRef<str>, expect: Expect) -> Case {
    case(
        name,
        "GET",
        format!("/qrcode?{}", raw_query.as_ref()),
        expect,
    )
}

/// `GET /qrcode?text=<text, percent-encoded>` expecting its PNG.
fn png(name: impl Into<String>, text: &str) -> Case {
    query(
        name,
        format!("text={}", encode(text.as_bytes())),
        Expect::Png(text.to_owned()),
    )
}

fn error(status: u16, body: &'static str) -> Expect {
    Expect::Error(status, body)
}

fn text(text: &str) -> Expect {
    Expect::Png(text.to_owned())
}

/// Texts sent percent-encoded, each answered with its PNG.
const TEXTS: &[(&str, &str)] = &[
    ("emoji", "🦀"),
    ("emoji in text", "🦀 rust 🚀"),
    ("emoji ZWJ sequence", "👨‍👩‍👧"),
    (
        "decomposed accent (bytes kept, no normalisation)",
        "e\u{301}",
    ),
    // Data that a command-line parser or a shell could misread.
    ("flag-like --help", "--help"),
    ("flag-like -", "-"),
    ("flag-like --", "--"),
    ("flag-like -h", "-h"),
    ("flag-like --version", "--version"),
    ("flag-like --engine=x", "--engine=x"),
    ("flag-like with a space", "--port 1"),
    ("shell $(id)", "$(id)"),
    ("shell ;rm -rf /", ";rm -rf /"),
    ("shell backticks", "`id`"),
    ("shell quotes", "'\""),
    ("shell &&", "a && b"),
    ("shell pipe", "| cat /etc/passwd"),
    ("shell redirect", "> /tmp/x"),
    ("shell variable", "$HOME"),
    ("shell backslash", "\\"),
    ("shell glob", "*"),
    ("a newline", "a\nb"),
    ("CRLF", "a\r\nb"),
    ("only a newline", "\n"),
    ("a NUL byte", "a\0b"),
    ("only a NUL byte", "\0"),
    ("NUL then a flag", "\0--help"),
];

/// Raw queries, written exactly as sent: `Ok(text)` is a 200 whose PNG decodes to `text`,
/// `Err(body)` a 400 with that body.
const QUERIES: &[(&str, &str, Result<&str, &str>)] = &[
    // A URL as a browser sends it: '?', ':', '/' and '=' stay raw in the value.
    (
        "raw URL as the value",
        "text=https://www.reddit.com/r/rust/top/?t=month",
        Ok("https://www.reddit.com/r/rust/top/?t=month"),
    ),
    // Missing and empty.
    ("empty query", "", Err(MISSING)),
    ("empty text", "text=", Err(MISSING)),
    ("text without '='", "text", Err(MISSING)),
    ("another param only", "other=hello", Err(MISSING)),
    ("'texts' is another param", "texts=hello", Err(MISSING)),
    ("names are case-sensitive", "Text=hello", Err(MISSING)),
    ("empty pieces are skipped", "&&text=hello&&", Ok("hello")),
    (
        "other params are ignored",
        "foo=1&text=hello&bar",
        Ok("hello"),
    ),
    ("the name is percent-decoded", "%74ext=hello", Ok("hello")),
    // Given once, as a plain string (checked before anything else).
    ("repeated text", "text=a&text=b", Err(ONCE)),
    ("repeated identical text", "text=a&text=a", Err(ONCE)),
    ("repeated, one empty", "text=&text=a", Err(ONCE)),
    ("repeated, both empty", "text=&text=", Err(ONCE)),
    ("repeated, the second without '='", "text=a&text", Err(ONCE)),
    ("bracketed text[x]", "text[x]=a", Err(ONCE)),
    ("bracketed text[]", "text[]=a", Err(ONCE)),
    ("bracketed text[] empty", "text[]=", Err(ONCE)),
    ("bracketed text[ unclosed", "text[=a", Err(ONCE)),
    ("plain and bracketed", "text=a&text[x]=b", Err(ONCE)),
    ("percent-encoded brackets", "text%5B%5D=a", Err(ONCE)),
    // Percent-decoding works on bytes; the UTF-8 check comes after it.
    ("invalid UTF-8 %FF", "text=%FF", Err(NOT_UTF8)),
    ("invalid UTF-8 %C3%28", "text=%C3%28", Err(NOT_UTF8)),
    ("UTF-8 surrogate %ED%A0%80", "text=%ED%A0%80", Err(NOT_UTF8)),
    ("overlong UTF-8 %C0%AF", "text=%C0%AF", Err(NOT_UTF8)),
    (
        "truncated UTF-8 at the end",
        "text=abc%E2%82",
        Err(NOT_UTF8),
    ),
    ("lowercase escapes", "text=%c3%a9", Ok("é")),
    ("'+' is a space", "text=hello+world", Ok("hello world")),
    ("a lone '+'", "text=+", Ok(" ")),
    ("%2B is a plus", "text=a%2Bb", Ok("a+b")),
    ("raw '=' in the value", "text=a=b", Ok("a=b")),
    (
        "flag-like with a raw '='",
        "text=--engine=x",
        Ok("--engine=x"),
    ),
    // A malformed escape stays as it is.
    ("malformed escape at the end", "text=100%", Ok("100%")),
    ("malformed escape %zz", "text=%zz", Ok("%zz")),
    ("half an escape", "text=%4", Ok("%4")),
    ("'%' before an escape", "text=%%41", Ok("%A")),
    ("a lone '%'", "text=%", Ok("%")),
];

/// Every case, in the order they are sent.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, target) in TARGETS.lines().enumerate() {
        cases.push(png(format!("target text {}", i + 1), target));
    }
    // The limit counts UTF-8 bytes, not characters: 512 is fine, 513 is too long.
    let ascii = |n: usize| (0..n).map(|i| char::from(b' ' + (i % 95) as u8)).collect();
    let cjk = |n: usize| "漢字仮名交じり文".chars().cycle().take(n).collect();
    let emoji = |n: usize| "🦀🚀🎉😀".chars().cycle().take(n).collect();
    let lengths: [(&str, String); 6] = [
        ("512 ASCII bytes", ascii(512)),
        ("513 ASCII bytes", ascii(513)),
        ("170 three-byte chars (510 bytes)", cjk(170)),
        ("171 three-byte chars (513 bytes)", cjk(171)),
        ("128 four-byte emoji (512 bytes)", emoji(128)),
        ("129 four-byte emoji (516 bytes)", emoji(129)),
    ];
    for (name, text) in lengths {
        cases.push(if text.len() <= 512 {
            png(name, &text)
        } else {
            let raw_query = format!("text={}", encode(text.as_bytes()));
            query(name, raw_query, error(400, TOO_LONG))
        });
    }
    cases.push(query(
        "repeated, one too long (checked before the length)",
        format!("text={}&text=b", "a".repeat(600)),
        error(400, ONCE),
    ));
    cases.push(query(
        "513 bytes of invalid UTF-8 (length is checked first)",
        "text=".to_owned() + &"%FF".repeat(513),
        error(400, TOO_LONG),
    ));
    cases.push(query(
        "20 KB URL",
        format!("text={}", "a".repeat(20_000)),
        error(400, TOO_LONG),
    ));
    cases.push(query(
        "20 KB URL of escapes",
        format!("text={}", "%C3%A9".repeat(3_400)),
        error(400, TOO_LONG),
    ));

    for &(name, text) in TEXTS {
        cases.push(png(name, text));
    }
    for &(name, raw_query, answer) in QUERIES {
        let expect = match answer {
            Ok(text) => Expect::Png(text.to_owned()),
            Err(body) => error(400, body),
        };
        cases.push(query(name, raw_query, expect));
    }
    cases.push(case("no query", "GET", "/qrcode", error(400, MISSING)));

    // Paths are exact and case-sensitive.
    for path in [
        "/nope",
        "/",
        "/qrcode/",
        "/qrcode/?text=a",
        "/QRCODE?text=a",
        "/qrcode/x",
        "/qrcodes?text=a",
        "/qrcode.png?text=a",
    ] {
        cases.push(case(
            format!("unknown path {path}"),
            "GET",
            path,
            error(404, NOT_FOUND),
        ));
    }
    cases.push(case(
        "POST to an unknown path",
        "POST",
        "/nope",
        error(404, NOT_FOUND),
    ));

    // Other methods on /qrcode.
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        cases.push(case(
            format!("{method} /qrcode"),
            method,
            "/qrcode?text=hello",
            error(405, NOT_ALLOWED),
        ));
    }
    cases.push(case(
        "POST /qrcode without text",
        "POST",
        "/qrcode",
        error(405, NOT_ALLOWED),
    ));

    // Over 64 KiB of request line: the HTTP layer refuses it.
    cases.push(query(
        "70 KB URL",
        format!("text={}", "a".repeat(70_000)),
        Expect::Status(431),
    ));
    cases
}

/// Checks `response` against `expect`; `tier` decides whether PNG bytes must equal `qr_core::png`.
fn check(tier: Tier, expect: &Expect, response: &Response, head: bool) -> Result<(), String> {
    let got = || describe(response);
    match expect {
        Expect::Png(text) => {
            if response.status != 200
                || response.header("content-type").as_deref() != Some("image/png")
            {
                return Err(format!("expected 200 image/png, got {}", got()));
            }
            if head {
                return Ok(());
            }
            let decoded = decode(&response.body, tier == Tier::Tier0)
                .map_err(|e| format!("{e}; got {}", got()))?;
            if decoded != text.as_bytes() {
                return Err(format!(
                    "the PNG decodes to {:?}, expected {text:?}",
                    String::from_utf8_lossy(&decoded)
                ));
            }
            if tier.uses_rust_core() {
                let expected =
                    qr_core::png(text, &Options::default()).map_err(|e| e.to_string())?;
                if response.body != expected {
                    return Err(format!(
                        "the PNG ({} bytes) differs from qr_core::png ({} bytes)",
                        response.body.len(),
                        expected.len()
                    ));
                }
            }
        }
        &Expect::Error(status, body) => {
            let expected_body: &[u8] = if head { b"" } else { body.as_bytes() };
            let allow_ok = status != 405 || response.header("allow").as_deref() == Some(ALLOW);
            if response.status != status
                || response.header("content-type").as_deref() != Some(TEXT_PLAIN)
                || response.body != expected_body
                || !allow_ok
            {
                let allow = if status == 405 {
                    format!(", Allow: {ALLOW:?}")
                } else {
                    String::new()
                };
                return Err(format!(
                    "expected {status} {TEXT_PLAIN:?} {body:?}{allow}, got {}",
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
        format!(
            "{short:?}{}",
            if short.len() < text.len() { "..." } else { "" }
        )
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

/// Decodes a PNG with two decoders independent of every encoder, which must agree: rqrr (through
/// qr-decode: square, >= 200 px, EC level L) and npm jsqr. Tier-0's npm `qrcode` draws 2 or 3 px
/// modules that both sometimes miss at that size: for tier-0 only (`tier0`), rqrr may retry at twice
/// the size and jsqr on resampled module centres.
fn decode(png: &[u8], tier0: bool) -> Result<Vec<u8>, String> {
    let by_rqrr = if tier0 {
        qr_decode::decode_allowing_upscale(png)
    } else {
        qr_decode::decode(png)
    }?;
    let by_jsqr = jsqr::decode(png, tier0)?;
    if by_jsqr != by_rqrr {
        return Err(format!(
            "rqrr reads {:?} but jsqr reads {:?}",
            String::from_utf8_lossy(&by_rqrr),
            String::from_utf8_lossy(&by_jsqr)
        ));
    }
    Ok(by_rqrr)
}

/// Sends `case` on its own connection and checks the answer.
fn run_case(tier: Tier, addr: SocketAddr, case: &Case) -> Result<(), String> {
    let response =
        http::send(addr, case.method, &case.target).map_err(|e| format!("request failed: {e}"))?;
    check(tier, &case.expect, &response, case.method == "HEAD")
}

/// HEAD is GET without a body: same status, Content-Type and Content-Length, no body bytes.
fn run_head(tier: Tier, addr: SocketAddr, case: &Case) -> Result<(), String> {
    let get = http::send(addr, "GET", &case.target).map_err(|e| format!("GET failed: {e}"))?;
    check(tier, &case.expect, &get, false).map_err(|e| format!("GET: {e}"))?;
    let head = http::send(addr, "HEAD", &case.target).map_err(|e| format!("HEAD failed: {e}"))?;
    check(tier, &case.expect, &head, true).map_err(|e| format!("HEAD: {e}"))?;
    for name in ["content-type", "content-length"] {
        if head.header(name) != get.header(name) {
            return Err(format!(
                "HEAD's {name} is {:?}, GET's is {:?}",
                head.header(name),
                get.header(name)
            ));
        }
    }
    Ok(())
}

/// How many requests the pipelining test writes at once on one connection.
const PIPELINED: usize = 40;
/// How many keep-alive requests run on a second connection meanwhile.
const CONCURRENT: usize = 15;

/// Writes [`PIPELINED`] requests on one connection at once and reads the answers slowly, while a
/// second connection runs requests; every answer must be its own request's, in order.
fn run_pipelining(tier: Tier, addr: SocketAddr) -> Vec<String> {
    let requests: Vec<(String, Expect)> = (0..PIPELINED)
        .map(|i| match i % 10 {
            3 => (format!("/qrcode?text=x{i}&text=y"), error(400, ONCE)),
            7 => ("/qrcode?text=".to_owned(), error(400, MISSING)),
            1 | 5 => {
                let long = format!("pipelined request {i}: {}", "0123456789abcdef".repeat(25));
                (
                    format!("/qrcode?text={}", encode(long.as_bytes())),
                    Expect::Png(long),
                )
            }
            _ => {
                let short = format!("pipelined request {i}");
                (
                    format!("/qrcode?text={}", encode(short.as_bytes())),
                    Expect::Png(short),
                )
            }
        })
        .collect();
    let mut failures = Vec::new();

    let concurrent = std::thread::spawn(move || -> Vec<String> {
        let mut failures = Vec::new();
        let stream = match http::connect(addr) {
            Ok(stream) => stream,
            Err(e) => return vec![format!("concurrent connection: {e}")],
        };
        let mut writer = stream.try_clone().expect("clone a TcpStream");
        let mut reader = BufReader::new(stream);
        for i in 0..CONCURRENT {
            let text = format!("concurrent request {i}");
            let target = format!("/qrcode?text={}", encode(text.as_bytes()));
            let result = writer
                .write_all(&http::request_bytes("GET", &target, addr, false))
                .and_then(|()| http::read_response(&mut reader, false))
                .map_err(|e| format!("request failed: {e}"))
                .and_then(|response| check(tier, &Expect::Png(text), &response, false));
            if let Err(e) = result {
                failures.push(format!("concurrent keep-alive request {i}: {e}"));
                break;
            }
        }
        failures
    });

    match http::connect(addr) {
        Err(e) => failures.push(format!("pipelined connection: {e}")),
        Ok(stream) => {
            let mut all = Vec::new();
            for (target, _) in &requests {
                all.extend(http::request_bytes("GET", target, addr, false));
            }
            let mut writer = stream.try_clone().expect("clone a TcpStream");
            let write = std::thread::spawn(move || writer.write_all(&all));
            let slow = SlowReader {
                inner: stream,
                chunk: 512,
                pause: Duration::from_millis(2),
            };
            let mut reader = BufReader::with_capacity(512, slow);
            for (i, (target, expect)) in requests.iter().enumerate() {
                let result = http::read_response(&mut reader, false)
                    .map_err(|e| format!("reading the answer failed: {e}"))
                    .and_then(|response| check(tier, expect, &response, false));
                if let Err(e) = result {
                    let short: String = target.chars().take(60).collect();
                    failures.push(format!("pipelined request {i} ({short}): {e}"));
                    break;
                }
            }
            match write.join().expect("the writer thread does not panic") {
                Ok(()) => {}
                Err(e) => failures.push(format!("writing the pipelined requests failed: {e}")),
            }
        }
    }
    failures.extend(
        concurrent
            .join()
            .expect("the concurrent thread does not panic"),
    );
    failures
}

/// Servers run one at a time: the machine has few cores, and ports and logs stay apart.
static ONE_SERVER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The configurations `RUSTY_QR_TIERS` selects (`tier-0:single,tier-4`; unset or empty: all).
fn selected(selection: &str, tier: Tier, mode: Mode) -> bool {
    let selection = selection.trim();
    if selection.is_empty() {
        return true;
    }
    selection
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .any(|entry| {
            let (tier_name, mode_name) = match entry.split_once(':') {
                Some((t, m)) => (t, Some(m)),
                None => (entry, None),
            };
            let wanted_tier: Tier = tier_name
                .parse()
                .unwrap_or_else(|e| panic!("RUSTY_QR_TIERS: {e}"));
            let wanted_mode: Option<Mode> =
                mode_name.map(|m| m.parse().unwrap_or_else(|e| panic!("RUSTY_QR_TIERS: {e}")));
            // Tier-4 has no modes: `tier-4` and `tier-4:single` both select it.
            wanted_tier == tier && (!tier.is_node() || wanted_mode.is_none_or(|m| m == mode))
        })
}

/// Starts `tier` in `mode`, runs every case, the HEAD checks and the pipelining test, checks it
/// still serves, stops it gracefully, and fails with every failure found.
fn conformance(tier: Tier, mode: Mode) {
    let spec = ServerSpec {
        workers: (tier.is_node() && mode == Mode::Cluster).then_some(2),
        ..ServerSpec::new(tier, mode)
    };
    let label = spec.label();
    let selection = std::env::var("RUSTY_QR_TIERS").unwrap_or_default();
    if !selected(&selection, tier, mode) {
        eprintln!("{label}: not selected by RUSTY_QR_TIERS={selection:?}; skipped");
        return;
    }
    let _one = ONE_SERVER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let server = Server::start(&spec).unwrap_or_else(|e| panic!("{e:#}"));
    let addr = server.addr();
    let mut failures = Vec::new();
    let mut record = |name: &str, result: Result<(), String>| {
        if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
    };

    let cases = cases();
    for case in &cases {
        record(&case.name, run_case(tier, addr, case));
    }
    for head in [
        png("HEAD of a PNG", "hello"),
        query("HEAD of a 400", "", error(400, MISSING)),
        case("HEAD of a 404", "HEAD", "/nope", error(404, NOT_FOUND)),
    ] {
        record(&head.name, run_head(tier, addr, &head));
    }
    let mut failures_pipelined = run_pipelining(tier, addr);
    // After all of that, the server (every worker) still answers normally.
    for i in 0..4 {
        let name = format!("still serving after every case ({i})");
        record(
            &name.clone(),
            run_case(tier, addr, &png(name, &format!("still serving {i}"))),
        );
    }
    failures.append(&mut failures_pipelined);

    // A server that died or would not stop explains every other failure: report it first.
    match server.stop() {
        Ok(status) if status.success() => {}
        Ok(status) => failures.insert(
            0,
            format!("graceful stop: expected exit status 0, got {status}"),
        ),
        Err(e) => failures.insert(0, format!("graceful stop: {e:#}")),
    }
    let requests = cases.len() + 6 + PIPELINED + CONCURRENT + 4;
    eprintln!("{label}: {requests} requests in {:.1?}", started.elapsed());
    const SHOWN: usize = 40;
    let more = match failures.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!("\n  ... and {n} more"),
    };
    assert!(
        failures.is_empty(),
        "{label}: {} failure(s):\n  {}{more}",
        failures.len(),
        failures[..failures.len().min(SHOWN)].join("\n  ")
    );
}

macro_rules! tiers {
    ($($name:ident: $tier:ident $mode:ident;)*) => {$(
        #[test]
        #[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
        fn $name() {
            conformance(Tier::$tier, Mode::$mode);
        }
    )*};
}

tiers! {
    tier_0_single: Tier0 Single;
    tier_0_cluster: Tier0 Cluster;
    tier_1_single: Tier1 Single;
    tier_1_cluster: Tier1 Cluster;
    tier_2_single: Tier2 Single;
    tier_2_cluster: Tier2 Cluster;
    tier_2_bindgen_single: Tier2Bindgen Single;
    tier_2_bindgen_cluster: Tier2Bindgen Cluster;
    tier_3_single: Tier3 Single;
    tier_3_cluster: Tier3 Cluster;
    tier_4: Tier4 Single;
}

#[test]
fn rusty_qr_tiers_selects_configurations() {
    assert!(selected("", Tier::Tier3, Mode::Cluster));
    let selection = "tier-0:single, tier-4,tier-2-bindgen";
    assert!(selected(selection, Tier::Tier0, Mode::Single));
    assert!(!selected(selection, Tier::Tier0, Mode::Cluster));
    assert!(selected(selection, Tier::Tier4, Mode::Single));
    assert!(selected(selection, Tier::Tier2Bindgen, Mode::Cluster));
    assert!(!selected(selection, Tier::Tier2, Mode::Single));
    assert!(selected("tier-4:single", Tier::Tier4, Mode::Single));
}

#[test]
#[should_panic(expected = "RUSTY_QR_TIERS: unknown tier \"tier-9\"")]
fn rusty_qr_tiers_rejects_unknown_names() {
    selected("tier-9", Tier::Tier0, Mode::Single);
}

#[test]
fn the_decoder_accepts_the_core_and_rejects_garbage() {
    // The suite's own checks must be able to fail: a wrong text, a non-PNG, an error body.
    let png = qr_core::png("hello", &Options::default()).unwrap();
    assert_eq!(decode(&png, false).unwrap(), b"hello");
    let ok = Response {
        status: 200,
        headers: vec![("content-type".into(), "image/png".into())],
        body: png,
    };
    assert!(check(Tier::Tier4, &text("hello"), &ok, false).is_ok());
    assert!(check(Tier::Tier4, &text("hellO"), &ok, false).is_err());
    assert!(decode(b"not a png", true).is_err());
    let missing = Response {
        status: 400,
        headers: vec![("content-type".into(), TEXT_PLAIN.into())],
        body: MISSING.into(),
    };
    assert!(check(Tier::Tier0, &error(400, MISSING), &missing, false).is_ok());
    let with_newline = Response {
        body: format!("{MISSING}\n").into(),
        ..missing.clone()
    };
    assert!(check(Tier::Tier0, &error(400, MISSING), &with_newline, false).is_err());
    assert!(check(Tier::Tier0, &error(405, NOT_ALLOWED), &missing, false).is_err());
}
