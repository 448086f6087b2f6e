//! Raw characters in request targets over real sockets: `<` and its kin, which a URI may not
//! carry, served however the bytes arrive (pipelined, one at a time), never confused with a
//! request's body, and counted by the head limit as their three-byte escapes.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;

use common::*;
use qr_core::Engine;
use qr_harness::http;
use qr_server::{Ops, ServeConfig};

/// Pipelined requests with raw `<` and its kin in their targets, read from `stream` in order.
fn raw_pipeline(addr: std::net::SocketAddr, texts: &[&str]) -> Vec<u8> {
    let mut requests = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let last = i + 1 == texts.len();
        let target = format!("/qrcode?text={text}");
        requests.extend(http::request_bytes("GET", &target, &[], addr, last));
    }
    requests
}

/// Reads one answer per text, each the PNG of that text, then the end of the connection.
fn assert_answers(stream: TcpStream, texts: &[&str]) {
    let mut reader = BufReader::new(stream);
    for text in texts {
        let reply = http::read_response(&mut reader, false).unwrap();
        assert_eq!(reply.status, 200, "{text}");
        assert_eq!(decode(&reply.body), text.as_bytes(), "{text}");
    }
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"", "closed after the last answer");
}

#[test]
fn raw_characters_in_pipelined_targets_are_served_however_they_arrive() {
    let ops = Ops::default();
    let app = qr_server::app(Engine::default(), &ops);
    let server = TestServer::start_with(app, ops.clone(), ServeConfig::default());
    let texts = ["<b>", "a\"{}|b", "\\^`", "plain", "<<>>"];
    let requests = raw_pipeline(server.addr, &texts);
    // All in one write; one byte per write (a slow sender); each then shuts its sending side.
    for chunk in [requests.len(), 1] {
        let mut stream = http::connect(server.addr).unwrap();
        for piece in requests.chunks(chunk) {
            stream.write_all(piece).unwrap();
        }
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        assert_answers(stream, &texts);
    }
    // The router saw every request, as it would have seen them percent-encoded.
    let metrics = ops.render();
    let line = "qr_http_requests_total{code=\"200\"} 10";
    assert!(metrics.lines().any(|l| l == line), "{metrics}");
    server.stop().unwrap();
}

#[test]
fn a_request_with_a_body_closes_its_connection_after_its_answer() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    let mut stream = http::connect(server.addr).unwrap();
    // A small body hyper would read whole, holding what looks like a request line, then a
    // pipelined request: the body is never taken for a request, nor a request for a body.
    let body = "GET /qrcode?text=<body> HTTP/1.1\r\n\r\n";
    let head = format!(
        "POST /qrcode?text=a HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let next = "GET /qrcode?text=<next> HTTP/1.1\r\nHost: t\r\n\r\n";
    stream
        .write_all(format!("{head}{body}{next}").as_bytes())
        .unwrap();
    let mut reader = BufReader::new(stream);
    let reply = http::read_response(&mut reader, false).unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("connection").as_deref(), Some("close"));
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(String::from_utf8_lossy(&rest), "", "nothing after it");
    // Without a body (Content-Length: 0, as POST sends it), the connection stays open.
    let mut stream = http::connect(server.addr).unwrap();
    let post = http::request_bytes("POST", "/qrcode", &[], server.addr, false);
    let get = http::request_bytes("GET", "/qrcode?text=<after>", &[], server.addr, true);
    stream.write_all(&[post, get].concat()).unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(http::read_response(&mut reader, false).unwrap().status, 405);
    let after = http::read_response(&mut reader, false).unwrap();
    assert_eq!(decode(&after.body), b"<after>");
    server.stop().unwrap();
}

#[test]
fn the_head_limit_counts_each_raw_character_as_its_three_byte_escape() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    let too_long = qr_core::QrError::TooLong.to_string();
    // 1,000 raw `<` take 3,000 bytes once escaped: a head of 64 KiB less 2,000 bytes is 64 KiB
    // once escaped and reaches the app; one byte more is past the limit.
    let raw = "<".repeat(1000);
    for (short_by, status) in [(2000, 400), (1999, 431)] {
        let fill = 64 * 1024 - short_by - request("GET", &format!("/qrcode?text={raw}")).len();
        let target = format!("/qrcode?text={raw}{}", "a".repeat(fill));
        let reply = send(server.addr, &request("GET", &target));
        assert_eq!(reply.status, status, "{short_by} bytes short of 64 KiB");
        if status == 400 {
            assert_eq!(reply.body, too_long.as_bytes());
        }
    }
    server.stop().unwrap();
}
