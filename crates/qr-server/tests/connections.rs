//! The serve loop over real sockets: the connection bound and its 503, the header-read timeout,
//! graceful shutdown and draining, and the metrics of connections turned away. Raw characters in
//! request targets are in `raw_targets.rs`.

mod common;

use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::{self, Next};
use common::*;
use qr_core::Engine;
use qr_harness::http;
use qr_server::{Ops, ServeConfig};

#[test]
fn a_connection_past_the_bound_gets_a_503_and_is_closed() {
    let config = ServeConfig {
        max_connections: 1,
        ..ServeConfig::default()
    };
    let server = TestServer::start(default_app(), config);
    // The one allowed connection, kept alive: served.
    let mut first = TcpStream::connect(server.addr).unwrap();
    first
        .write_all(b"GET /qrcode?text=first HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    first.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    // One more connection while it is open: turned away at once, bad request or not.
    for target in ["/qrcode?text=second", "/qrcode"] {
        let reply = send(server.addr, &request("GET", target));
        assert_eq!(reply.status, 503, "{target}");
        let busy = qr_harness::contract::Contract::load().unwrap();
        assert_eq!(reply.body, busy.answer("busy").body.as_bytes());
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("text/plain; charset=utf-8")
        );
    }
    // Once the first connection is gone, its place is free again.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = send(server.addr, &request("GET", "/qrcode?text=third"));
        if reply.status == 200 {
            assert_eq!(decode(&reply.body), b"third");
            break;
        }
        assert!(Instant::now() < deadline, "the place was never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop().unwrap();
}

#[test]
fn silent_connections_past_the_bound_get_their_503_at_once_are_closed_and_counted() {
    let config = ServeConfig {
        max_connections: 1,
        ..ServeConfig::default()
    };
    let server = TestServer::start(default_app(), config);
    let first = TcpStream::connect(server.addr).unwrap();
    // Wait until the first connection holds the one place: a second one is then turned away.
    let deadline = Instant::now() + Duration::from_secs(5);
    while send(server.addr, &request("GET", "/qrcode?text=x")).status != 503 {
        assert!(Instant::now() < deadline, "the bound never filled");
    }
    // Many connections that never send a byte: each gets the 503 without a request and is
    // closed long before the header-read timeout (10 s), none is left waiting.
    let started = Instant::now();
    let silent: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    for stream in silent {
        let (bytes, closed_after) = wait_for_close(stream, started);
        let head = String::from_utf8_lossy(&bytes);
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.ends_with("\r\n\r\nserver is busy"), "{head}");
        assert!(closed_after < Duration::from_secs(5), "{closed_after:?}");
    }
    drop(first);
    let served = server.stop().unwrap();
    assert!(served.turned_away >= 51, "{served:?}");
}

/// Reads until the server closes the connection, returning what it sent and when it closed.
fn wait_for_close(mut stream: TcpStream, started: Instant) -> (Vec<u8>, Duration) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(err) if err.kind() == ErrorKind::ConnectionReset => {}
        Err(err) => panic!("the connection was not closed: {err}"),
    }
    (bytes, started.elapsed())
}

#[test]
fn a_get_whose_body_trickles_in_is_answered_and_its_connection_closed() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"GET /qrcode?text=body HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        .unwrap();
    let started = Instant::now();
    // One byte of body every 50 ms from another thread, for as long as the connection takes it.
    let mut writer = stream.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        while started.elapsed() < Duration::from_secs(20) && writer.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let (bytes, elapsed) = wait_for_close(stream, started);
    assert!(
        bytes.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
    );
    // The body is never read: the connection is closed after the answer, not held for the body.
    assert!(elapsed < Duration::from_secs(5), "closed after {elapsed:?}");
    trickle.join().unwrap();
    server.stop().unwrap();
}

#[test]
fn slow_clients_are_cut_off_after_the_header_read_timeout() {
    let timeout = Duration::from_millis(300);
    let config = ServeConfig {
        header_read_timeout: timeout,
        ..ServeConfig::default()
    };
    let server = TestServer::start(default_app(), config);

    // Half a request line, then silence.
    let started = Instant::now();
    let mut half = TcpStream::connect(server.addr).unwrap();
    half.write_all(b"GET /qrcode?te").unwrap();
    // A client that sends nothing at all.
    let silent = TcpStream::connect(server.addr).unwrap();
    // Headers that never end.
    let mut endless = TcpStream::connect(server.addr).unwrap();
    endless
        .write_all(b"GET /qrcode?text=a HTTP/1.1\r\nHost: t\r\n")
        .unwrap();

    for stream in [half, silent, endless] {
        let (bytes, elapsed) = wait_for_close(stream, started);
        assert!(
            elapsed >= timeout,
            "closed after {elapsed:?}, before the timeout"
        );
        assert!(elapsed < timeout * 10, "closed only after {elapsed:?}");
        assert!(
            !bytes.starts_with(b"HTTP/1.1 200"),
            "no answer to half a request"
        );
    }

    // A prompt client is still served.
    let reply = send(server.addr, &request("GET", "/qrcode?text=ok"));
    assert_eq!(decode(&reply.body), b"ok");
    server.stop().unwrap();
}

async fn slow_down(request: Request, next: Next) -> axum::response::Response {
    tokio::time::sleep(Duration::from_millis(500)).await;
    next.run(request).await
}

#[test]
fn graceful_shutdown_lets_an_in_flight_request_finish() {
    // Each request takes 500 ms before it reaches the router, so it is surely in flight.
    let slow_app = default_app().layer(middleware::from_fn(slow_down));
    let server = TestServer::start(slow_app, ServeConfig::default());
    let addr = server.addr;
    // Kept alive: the client does not ask for the close.
    let keep_alive = b"GET /qrcode?text=in+flight HTTP/1.1\r\nHost: t\r\n\r\n";
    let client = std::thread::spawn(move || send(addr, keep_alive));
    std::thread::sleep(Duration::from_millis(200));

    let started = Instant::now();
    server.stop().expect("serve ends with success");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "shutdown waited for the request"
    );
    let reply = client.join().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(decode(&reply.body), b"in flight");
    // Made while draining: its connection closes after it.
    assert_eq!(reply.header("connection").as_deref(), Some("close"));
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).is_err(), "the listener is closed");
}

#[test]
fn idle_keep_alive_connections_do_not_delay_shutdown() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"GET /qrcode?text=a HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // The connection is now idle and kept alive; shutdown closes it at once.
    let started = Instant::now();
    server.stop().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn silent_and_half_head_connections_do_not_delay_shutdown() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    let silent = TcpStream::connect(server.addr).unwrap();
    let mut half_head = TcpStream::connect(server.addr).unwrap();
    half_head.write_all(b"GET /qrcode?te").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // Neither has a request in flight: shutdown closes both within the idle grace, not at the 10 s
    // header timeout.
    let started = Instant::now();
    server.stop().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    for mut stream in [silent, half_head] {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        // Closed: end of stream, or a reset for the half head the server did not read to the end.
        if let Ok(read) = stream.read_to_end(&mut rest) {
            assert_eq!(read, 0, "{:?}", String::from_utf8_lossy(&rest));
        }
    }
}

#[test]
fn a_request_sent_on_an_idle_kept_alive_connection_just_after_shutdown_starts_is_answered() {
    let server = TestServer::start(default_app(), ServeConfig::default());
    let stream = TcpStream::connect(server.addr).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let keep_alive = |text: &str| format!("GET /qrcode?text={text} HTTP/1.1\r\nHost: t\r\n\r\n");
    (&stream).write_all(keep_alive("first").as_bytes()).unwrap();
    let first = http::read_response(&mut reader, false).unwrap();
    assert_eq!(first.header("connection"), None, "kept alive");

    // Shutdown starts while the connection is idle; its client, not yet told, sends one more.
    let stopping = std::thread::spawn(move || server.stop());
    std::thread::sleep(Duration::from_millis(50));
    (&stream)
        .write_all(keep_alive("second").as_bytes())
        .unwrap();
    let second = http::read_response(&mut reader, false).unwrap();
    assert_eq!(second.status, 200);
    assert_eq!(decode(&second.body), b"second");
    assert_eq!(second.header("connection").as_deref(), Some("close"));
    stopping.join().unwrap().unwrap();
}

/// A body far larger than the socket buffers, so most of it waits in hyper's buffer.
async fn big() -> Vec<u8> {
    vec![b'x'; 8 << 20]
}

#[test]
fn an_answer_still_being_written_when_shutdown_starts_is_written_to_the_end() {
    let app = default_app().route("/big", axum::routing::get(big));
    let server = TestServer::start(app, ServeConfig::default());
    let stream = TcpStream::connect(server.addr).unwrap();
    (&stream)
        .write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // The client reads nothing yet: the answer fills the socket buffers and stays half written
    // past the drain's idle grace.
    std::thread::sleep(Duration::from_millis(200));
    let stopping = std::thread::spawn(move || server.stop());
    std::thread::sleep(Duration::from_secs(1));
    let reply = http::read_response(&mut BufReader::new(stream), false).unwrap();
    assert_eq!((reply.status, reply.body.len()), (200, 8 << 20));
    stopping.join().unwrap().unwrap();
}

#[test]
fn shutdown_gives_up_after_the_grace_period() {
    let config = ServeConfig {
        shutdown_grace: Duration::from_millis(200),
        ..ServeConfig::default()
    };
    let slow_app = default_app().layer(middleware::from_fn(slow_down));
    let server = TestServer::start(slow_app, config);
    let addr = server.addr;
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(&request("GET", "/qrcode?text=a")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let err = server
        .stop()
        .expect_err("a request outlived the grace period");
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}

#[test]
fn absurd_config_values_are_clamped_not_a_panic() {
    let config = ServeConfig {
        max_connections: usize::MAX,
        header_read_timeout: Duration::MAX,
        ..ServeConfig::default()
    };
    let server = TestServer::start(default_app(), config);
    let reply = send(server.addr, &request("GET", "/qrcode?text=clamped"));
    assert_eq!(decode(&reply.body), b"clamped");
    server.stop().unwrap();
    let server = TestServer::start(
        default_app(),
        ServeConfig {
            max_connections: 0,
            ..ServeConfig::default()
        },
    );
    let reply = send(server.addr, &request("GET", "/qrcode?text=one"));
    assert_eq!(
        decode(&reply.body),
        b"one",
        "0 means 1, not a server that serves none"
    );
    server.stop().unwrap();
}

/// Delays `/qrcode` by 500 ms, so a request for it is surely in flight; other paths are prompt.
async fn slow_qrcode(request: Request, next: Next) -> axum::response::Response {
    if request.uri().path() == "/qrcode" {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    next.run(request).await
}

/// `GET /healthz` on a kept-alive connection.
fn health(stream: &mut TcpStream) -> std::io::Result<http::Response> {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")?;
    http::read_response(&mut BufReader::new(&*stream), false)
}

/// One shutdown watched by a probe: the probe's last answer, or `None` when its `ok` came with
/// `connection: close` (the signal came while that answer was being made, so the probe cannot
/// ask again on its connection).
fn draining_seen_by_a_probe() -> Option<http::Response> {
    let ops = Ops::default();
    let app = qr_server::app(Engine::default(), &ops).layer(middleware::from_fn(slow_qrcode));
    let server = TestServer::start_with(app, ops, ServeConfig::default());
    let addr = server.addr;
    let mut probe = TcpStream::connect(addr).unwrap();
    assert_eq!(health(&mut probe).unwrap().status, 200);
    let in_flight = std::thread::spawn(move || send(addr, &request("GET", "/qrcode?text=slow")));
    std::thread::sleep(Duration::from_millis(100));
    let stopped = std::thread::spawn(move || server.stop());

    // Asked again and again on the same connection, as a load balancer's probe does: `ok` until the
    // shutdown starts, then 503 `draining` (and the connection closes after it).
    let deadline = Instant::now() + Duration::from_secs(5);
    let last = loop {
        let reply = health(&mut probe).expect("an answer while a request is in flight");
        if reply.status != 200 || reply.header("connection").as_deref() == Some("close") {
            break reply;
        }
        assert!(Instant::now() < deadline, "never draining");
    };
    assert_eq!(decode(&in_flight.join().unwrap().body), b"slow");
    stopped.join().unwrap().expect("a clean shutdown");
    (last.status != 200).then_some(last)
}

#[test]
fn healthz_says_draining_once_shutdown_starts_while_in_flight_requests_finish() {
    let contract = qr_harness::contract::Contract::load().unwrap();
    let draining = (0..3)
        .find_map(|_| draining_seen_by_a_probe())
        .expect("draining seen in one of 3 shutdowns");
    let expected = contract.answer("draining");
    assert_eq!(
        (draining.status, String::from_utf8_lossy(&draining.body)),
        (expected.status, expected.body.as_str().into())
    );
    assert_eq!(draining.header("connection").as_deref(), Some("close"));
}

#[test]
fn metrics_count_requests_by_status_and_connections_turned_away() {
    let ops = Ops::default();
    let config = ServeConfig {
        max_connections: 1,
        ..ServeConfig::default()
    };
    let server = TestServer::start_with(qr_server::app(Engine::default(), &ops), ops, config);
    // The one connection the bound allows, kept alive (a new connection per request could find
    // the last one's place not yet freed, and be turned away).
    let mut held = TcpStream::connect(server.addr).unwrap();
    for target in ["/qrcode?text=a", "/qrcode?text=b", "/qrcode", "/nope"] {
        let head = format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n");
        held.write_all(head.as_bytes()).unwrap();
        http::read_response(&mut BufReader::new(&held), false).unwrap();
    }
    // While it is open, one more connection is turned away.
    assert_eq!(send(server.addr, &request("GET", "/metrics")).status, 503);
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        let reply = send(server.addr, &request("GET", "/metrics"));
        if reply.status == 200 {
            break reply;
        }
        assert!(
            Instant::now() < deadline,
            "the held connection's place was never freed"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        metrics.header("content-type").as_deref(),
        Some(qr_server::METRICS_CONTENT_TYPE)
    );
    let text = String::from_utf8(metrics.body).unwrap();
    for line in [
        "qr_http_requests_total{code=\"200\"} 2",
        "qr_http_requests_total{code=\"400\"} 1",
        "qr_http_requests_total{code=\"404\"} 1",
        "qr_http_request_duration_seconds_count 4",
        "qr_http_requests_in_flight 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    // At least the one above; the retries may have found the place not yet freed too.
    let turned_away = (text.lines())
        .find_map(|l| l.strip_prefix("qr_connections_turned_away_total "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(turned_away.is_some_and(|n| n >= 1), "{text}");
    server.stop().unwrap();
}
