//! Helpers shared by the qr-server tests: the contract table, a raw HTTP/1.1 client, an in-process
//! server on an ephemeral port, and an independent PNG decoder.

#![allow(dead_code)] // Each test file uses a different part.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use qr_core::{Engine, Options};
use qr_server::{ServeConfig, app, serve};

pub const TARGETS: &str = include_str!("../../../../bench/targets.txt");

pub const NOT_ONCE: &str = "\"text\" query param must be given once, as a plain string";
pub const MISSING: &str = "missing \"text\" query param";
pub const TOO_LONG: &str = "text must be <= 512 bytes";
pub const NOT_UTF8: &str = "\"text\" query param must be valid UTF-8";
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// The router every test serves.
pub fn default_app() -> Router {
    app(Engine::default())
}

/// What a request must get.
#[derive(Debug, Clone)]
pub enum Expect {
    /// 200, `image/png`, the PNG of exactly these bytes.
    Png(Vec<u8>),
    /// This status with this one-line `text/plain` body.
    Error(u16, &'static str),
}

/// One row of the contract table.
#[derive(Debug, Clone)]
pub struct Case {
    pub method: &'static str,
    pub target: String,
    pub expect: Expect,
}

pub use qr_harness::percent_encode as encode;

/// The whole contract, as requests and what each must get (GET rows; [`with_head`] adds HEAD).
pub fn contract() -> Vec<Case> {
    let png = |target: &str, text: &str| (target.to_owned(), Expect::Png(text.as_bytes().to_vec()));
    let error = |target: &str, status, body| (target.to_owned(), Expect::Error(status, body));
    let mut rows = vec![
        png("/qrcode?text=hello", "hello"),
        png("/qrcode?text=hello+world", "hello world"),
        png("/qrcode?text=a%2Bb%26c%3Dd", "a+b&c=d"),
        png("/qrcode?text=a=b", "a=b"),
        png("/qrcode?text=%F0%9F%A6%80", "🦀"),
        png("/qrcode?text=a%00b", "a\0b"),
        png("/qrcode?text=100%25", "100%"),
        png("/qrcode?text=%zz%4", "%zz%4"),
        png("/qrcode?foo=1&text=x&bar", "x"),
        png("/qrcode?&&text=x&&", "x"),
        png("/qrcode?te%78t=x", "x"),
        png("/qrcode?text=%3Fx%3F", "?x?"),
        png("/qrcode?text=?x?", "?x?"),
        error("/qrcode", 400, MISSING),
        error("/qrcode?", 400, MISSING),
        error("/qrcode?text", 400, MISSING),
        error("/qrcode?text=", 400, MISSING),
        error("/qrcode?texts=a", 400, MISSING),
        error("/qrcode?TEXT=a", 400, MISSING),
        error("/qrcode?text=a&text=b", 400, NOT_ONCE),
        error("/qrcode?text=&text=", 400, NOT_ONCE),
        error("/qrcode?text[]=a", 400, NOT_ONCE),
        error("/qrcode?text[0]=a&text=b", 400, NOT_ONCE),
        error("/qrcode?text%5B%5D=a", 400, NOT_ONCE),
        error("/qrcode?text=a&text[x]=b", 400, NOT_ONCE),
        error("/qrcode?text=%FF", 400, NOT_UTF8),
        error("/qrcode?text=a%C3", 400, NOT_UTF8),
        error("/qrcode?text=%ED%A0%80", 400, NOT_UTF8),
        error("/", 404, "not found"),
        error("/qrcode/", 404, "not found"),
        error("/QRCODE?text=a", 404, "not found"),
        error("/qrcode/x?text=a", 404, "not found"),
        error("/qr%63ode?text=a", 404, "not found"),
        error("/favicon.ico", 404, "not found"),
    ];
    for text in TARGETS.lines() {
        let target = format!("/qrcode?text={}", encode(text.as_bytes()));
        rows.push(png(&target, text));
    }
    let max_ascii = "a".repeat(512);
    rows.push(png(&format!("/qrcode?text={max_ascii}"), &max_ascii));
    let max_cjk = "漢".repeat(170);
    rows.push(png(
        &format!("/qrcode?text={}", encode(max_cjk.as_bytes())),
        &max_cjk,
    ));
    rows.push(error(&format!("/qrcode?text={max_ascii}a"), 400, TOO_LONG));
    let cjk = encode("漢".repeat(171).as_bytes());
    rows.push(error(&format!("/qrcode?text={cjk}"), 400, TOO_LONG));
    rows.push(error(
        &format!("/qrcode?text={}", "a".repeat(20_000)),
        400,
        TOO_LONG,
    ));
    // Too long is judged before UTF-8.
    rows.push(error(
        &format!("/qrcode?text={}", "%FF".repeat(513)),
        400,
        TOO_LONG,
    ));
    let mut cases: Vec<Case> = rows
        .into_iter()
        .map(|(target, expect)| Case {
            method: "GET",
            target,
            expect,
        })
        .collect();
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        for target in ["/qrcode", "/qrcode?text=hello"] {
            cases.push(Case {
                method,
                target: target.to_owned(),
                expect: Expect::Error(405, "method not allowed"),
            });
        }
        cases.push(Case {
            method,
            target: "/elsewhere".to_owned(),
            expect: Expect::Error(404, "not found"),
        });
    }
    with_head(cases)
}

/// Adds a HEAD row for every GET row: the same status and headers, no body.
pub fn with_head(cases: Vec<Case>) -> Vec<Case> {
    let heads: Vec<Case> = cases
        .iter()
        .filter(|case| case.method == "GET")
        .map(|case| Case {
            method: "HEAD",
            ..case.clone()
        })
        .collect();
    cases.into_iter().chain(heads).collect()
}

/// A response, reduced to what the contract speaks of.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of the one header `name` (panics if it is repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let value = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "header {name} is repeated");
        value
    }
}

/// Asserts that `reply` is what `case` must get.
pub fn check(case: &Case, reply: &Reply) {
    let head = case.method == "HEAD";
    let what = format!("{} {:.80}", case.method, case.target);
    match &case.expect {
        Expect::Png(text) => {
            assert_eq!(
                reply.status,
                200,
                "{what}: {:?}",
                String::from_utf8_lossy(&reply.body)
            );
            assert_eq!(reply.header("content-type"), Some("image/png"), "{what}");
            let expected = qr_core::png(
                std::str::from_utf8(text).unwrap(),
                &Options::with_engine(Engine::default()),
            )
            .unwrap();
            let length = expected.len().to_string();
            assert_eq!(
                reply.header("content-length"),
                Some(length.as_str()),
                "{what}"
            );
            if head {
                assert!(reply.body.is_empty(), "{what}: HEAD has no body");
            } else {
                assert_eq!(&decode(&reply.body), text, "{what}");
                assert!(reply.body == expected, "{what}: the core's bytes");
            }
        }
        Expect::Error(status, message) => {
            assert_eq!(reply.status, *status, "{what}");
            assert_eq!(reply.header("content-type"), Some(TEXT_PLAIN), "{what}");
            let length = message.len().to_string();
            assert_eq!(
                reply.header("content-length"),
                Some(length.as_str()),
                "{what}"
            );
            let body: &[u8] = if head { b"" } else { message.as_bytes() };
            assert_eq!(
                String::from_utf8_lossy(&reply.body),
                String::from_utf8_lossy(body),
                "{what}"
            );
            let allow = (*status == 405).then_some("GET, HEAD");
            assert_eq!(reply.header("allow"), allow, "{what}");
        }
    }
}

/// Decodes a PNG with an independent decoder (image + rqrr, via qr-decode).
pub fn decode(png: &[u8]) -> Vec<u8> {
    qr_decode::decode(png).expect("a QR code PNG")
}

/// A request with `Connection: close`, so the reply ends where the stream does.
pub fn request(method: &str, target: &str) -> Vec<u8> {
    format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Sends `raw` on a new connection and reads the reply up to the end of the stream.
pub fn send(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(raw).expect("sends the request");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("reads the reply");
    parse_reply(&bytes)
}

/// Parses one HTTP/1.1 response (head, then everything else as the body).
pub fn parse_reply(bytes: &[u8]) -> Reply {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(bytes)));
    let head = std::str::from_utf8(&bytes[..end]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("a header line");
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    Reply {
        status,
        headers,
        body: bytes[end + 4..].to_vec(),
    }
}

/// The real `serve` loop on its own runtime and thread, on an ephemeral port of 127.0.0.1.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    pub fn start(router: Router, config: ServeConfig) -> TestServer {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                addr_tx.send(listener.local_addr()?).unwrap();
                serve(listener, router, config, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        let addr = addr_rx.recv().expect("the server binds");
        TestServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Starts the graceful shutdown and returns the `serve` result once it ends.
    pub fn stop(mut self) -> io::Result<()> {
        let _ = self.stop.take().unwrap().send(());
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("the server thread")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
