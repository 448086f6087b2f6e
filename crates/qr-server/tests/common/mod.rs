//! Helpers shared by the qr-server tests: the real binary or an in-process server on an ephemeral
//! port, raw requests over a real socket (qr-harness's HTTP client), and the contract's PNG check.

#![allow(dead_code)] // Each test file uses a different part.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use axum::Router;
use qr_core::{Engine, Options};
use qr_harness::http::{self, Response};
use qr_server::{Ops, ServeConfig, Served, app, serve};

/// The router every test serves, with its own metrics.
pub fn default_app() -> Router {
    app(Engine::default(), &Ops::default())
}

/// A PNG answer must read back as `text` (rqrr, independent of the encoders) and be exactly the
/// core's bytes for the default engine. The conformance suite adds jsqr and ZXing over HTTP.
pub fn png_check(png: &[u8], text: &str) -> Result<(), String> {
    let decoded = qr_decode::decode(png)?;
    if decoded != text.as_bytes() {
        return Err(format!(
            "decodes to {:?}",
            String::from_utf8_lossy(&decoded)
        ));
    }
    let expected = qr_core::generate(text, &Options::default()).map_err(|e| e.to_string())?;
    if png != expected {
        return Err("not the core's bytes".into());
    }
    Ok(())
}

/// Decodes a PNG with an independent decoder (image + rqrr, via qr-decode).
pub fn decode(png: &[u8]) -> Vec<u8> {
    qr_decode::decode(png).expect("a QR code PNG")
}

/// A request with `Connection: close`.
pub fn request(method: &str, target: &str) -> Vec<u8> {
    format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Sends `raw` on a new connection and reads one response.
pub fn send(addr: SocketAddr, raw: &[u8]) -> Response {
    let stream = http::connect(addr).expect("connects");
    (&stream).write_all(raw).expect("sends the request");
    http::read_response(&mut BufReader::new(stream), raw.starts_with(b"HEAD "))
        .expect("reads the response")
}

/// The real `serve` loop on its own runtime and thread, on an ephemeral port of 127.0.0.1.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<Served>>>,
}

impl TestServer {
    /// Serves `router`; `ops` should be the one it was built with.
    pub fn start_with(router: Router, ops: Ops, config: ServeConfig) -> TestServer {
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
                serve(listener, router, &ops, config, async {
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

    /// Serves `router` with metrics of its own.
    pub fn start(router: Router, config: ServeConfig) -> TestServer {
        TestServer::start_with(router, Ops::default(), config)
    }

    /// Starts the graceful shutdown and returns the `serve` result once it ends.
    pub fn stop(mut self) -> io::Result<Served> {
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

/// Runs the qr-server binary with `args`, stdout and stderr piped.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_qr-server"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qr-server starts")
}

/// Starts the binary on an ephemeral port and returns it with the address from its ready line.
pub fn start(extra: &[&str]) -> (Child, SocketAddr) {
    let mut args = vec!["--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = spawn(&args);
    let addr = ready_addr(&mut child);
    (child, addr)
}

/// The address of the server's ready line, its first line on stdout.
pub fn ready_addr(child: &mut Child) -> SocketAddr {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_suffix('\n')
        .and_then(|line| line.strip_prefix("listening on http://"))
        .unwrap_or_else(|| panic!("not a ready line: {line:?}"));
    let addr: SocketAddr = addr.parse().unwrap();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "the real port");
    addr
}

/// Sends signal `name` (`TERM`, `INT`) to `child`.
#[cfg(unix)]
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
