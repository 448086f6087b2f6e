//! The whole HTTP contract (`contract/cases.json`), case by case, through `app().oneshot(...)` (the
//! conformance suite, lab/qr-harness/tests/conformance/, sends every case to the qr-server
//! binary over a socket); plus keep-alive and the head size limit over a socket.

mod common;

use axum::body::Body;
use axum::http::{Request, Uri};
use common::*;
use qr_harness::Host;
use qr_harness::contract::{self, Contract, Expect};
use qr_harness::http::{self, Response};
use qr_server::ServeConfig;
use tower::ServiceExt;

#[tokio::test]
async fn contract_through_the_router() {
    let mut skipped = Vec::new();
    for case in Contract::load().unwrap().cases(Host::Rust) {
        // The HTTP layer's own answers (431) and targets a `Uri` cannot hold (raw UTF-8, a
        // fragment) only exist over a socket: the conformance suite sends those.
        let Ok(uri) = case.target.parse::<Uri>() else {
            skipped.push(case.name);
            continue;
        };
        if matches!(case.expect, Expect::Status(_)) {
            skipped.push(case.name);
            continue;
        }
        for (method, head) in [(case.method.as_str(), false), ("HEAD", true)] {
            if head && !case.head {
                continue;
            }
            let mut request = Request::builder().method(method).uri(uri.clone());
            for (name, value) in &case.headers {
                request = request.header(name, value);
            }
            let response = default_app()
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                .collect();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec();
            let response = Response {
                status,
                headers,
                body,
            };
            if let Err(e) = contract::check(&case, &response, head, png_check) {
                panic!("{} ({method}): {e}", case.name);
            }
        }
    }
    assert!(skipped.len() <= 4, "too many cases skipped: {skipped:?}");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    use std::io::{BufReader, Write};

    let server = TestServer::start(default_app(), ServeConfig::default());
    let stream = http::connect(server.addr).unwrap();
    let keep_alive = http::request_bytes("GET", "/qrcode?text=one", &[], server.addr, false);
    let last = http::request_bytes("GET", "/qrcode?text=two", &[], server.addr, true);
    (&stream).write_all(&[keep_alive, last].concat()).unwrap();
    let mut reader = BufReader::new(stream);
    let first = http::read_response(&mut reader, false).unwrap();
    assert_eq!(decode(&first.body), b"one");
    let second = http::read_response(&mut reader, false).unwrap();
    assert_eq!(decode(&second.body), b"two");
    server.stop().unwrap();
}

#[test]
fn head_up_to_64_kib_reaches_the_app_and_more_is_431() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    // A head just under 64 KiB in all is read whole and judged by the app.
    let fill = 64 * 1024 - request("GET", "/qrcode?text=").len() - 1;
    let at_limit = request("GET", &format!("/qrcode?text={}", "a".repeat(fill)));
    let reply = send(server.addr, &at_limit);
    let too_long = qr_core::QrError::TooLong.to_string();
    assert_eq!((reply.status, &reply.body[..]), (400, too_long.as_bytes()));
    // Beyond 64 KiB the HTTP layer refuses it.
    let too_big = request("GET", &format!("/qrcode?text={}", "a".repeat(70_000)));
    assert_eq!(send(server.addr, &too_big).status, 431);
    server.stop().unwrap();
}
