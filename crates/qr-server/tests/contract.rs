//! The whole HTTP contract, row by row: through `app().oneshot(...)`, then over a real socket.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use qr_server::ServeConfig;
use tower::ServiceExt;

#[tokio::test]
async fn contract_through_the_router() {
    for case in contract() {
        let request = Request::builder()
            .method(case.method)
            .uri(&case.target)
            .body(Body::empty())
            .unwrap();
        let response = default_app().oneshot(request).await.unwrap();
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
        check(
            &case,
            &Reply {
                status,
                headers,
                body,
            },
        );
    }
}

#[test]
fn contract_over_a_socket() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    for case in contract() {
        check(
            &case,
            &send(server.addr, &request(case.method, &case.target)),
        );
    }
    server.stop().expect("a clean shutdown");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    use std::io::{Read, Write};

    let server = TestServer::start(default_app(), ServeConfig::default());
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    let keep_alive = "GET /qrcode?text=one HTTP/1.1\r\nHost: test\r\n\r\n";
    let last = "GET /qrcode?text=two HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    stream.write_all(keep_alive.as_bytes()).unwrap();
    stream.write_all(last.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let first = parse_reply(&bytes);
    let length: usize = first.header("content-length").unwrap().parse().unwrap();
    assert_eq!(decode(&first.body[..length]), b"one");
    let second = parse_reply(&first.body[length..]);
    assert_eq!(decode(&second.body), b"two");
    server.stop().unwrap();
}

#[test]
fn head_up_to_64_kib_reaches_the_app_and_more_is_431() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    // A 60 KB URL is read whole and judged by the app.
    let long = request("GET", &format!("/qrcode?text={}", "a".repeat(60_000)));
    let reply = send(server.addr, &long);
    assert_eq!((reply.status, &reply.body[..]), (400, TOO_LONG.as_bytes()));
    // A head just under 64 KiB in all still is.
    let fill = 64 * 1024 - request("GET", "/qrcode?text=").len() - 1;
    let at_limit = request("GET", &format!("/qrcode?text={}", "a".repeat(fill)));
    assert_eq!(send(server.addr, &at_limit).status, 400);
    // Beyond 64 KiB the HTTP layer refuses it.
    let too_big = request("GET", &format!("/qrcode?text={}", "a".repeat(70_000)));
    assert_eq!(send(server.addr, &too_big).status, 431);
    server.stop().unwrap();
}
