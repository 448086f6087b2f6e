//! rusty-qr tier 4: the whole HTTP server in Rust, axum on tokio, with the contract of every tier.
//!
//! Run with `cargo run --release -p qr-server -- [--addr 127.0.0.1:42069] [--engine fast|article]` (fast is the default).

mod drain;
mod health;
mod metrics;
mod ops;
mod query;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioTimer;
use qr_core::{Engine, Options, QrError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::drain::Drain;

pub use metrics::METRICS_CONTENT_TYPE;
pub use ops::Ops;
pub use query::{TextError, text_param};

/// Default bound on open connections. A connection past it is answered `503 server is busy` at
/// once and closed, so an overload cannot queue without limit. Far above the benchmark's 100
/// connections, which must never see a 503.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Request line plus headers accepted (so a 20 KB URL reaches the app); more is a 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Header fields accepted (the contract's rule for every host, and nginx's default); more is a
/// 431. hyper's own default is 100.
pub const MAX_HEAD_FIELDS: usize = 1000;

/// Default time a client has to send a request's head (also the idle keep-alive limit).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time in-flight connections get to finish after a shutdown signal (as in the Node host).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The router, rendering with `engine`: `GET`/`HEAD /qrcode`, `/healthz` and `/metrics` (from
/// `ops`, which also records every request), 405 for other methods there, 404 everywhere else.
pub fn app(engine: Engine, ops: &Ops) -> Router {
    router(Render::Engine(engine), ops)
}

/// The benchmark's ceiling, never a real server: [`app`] with every valid `/qrcode` request
/// answered with `png`, made once, so the QR work is free and what is left is the HTTP stack.
pub fn ceiling_app(png: Vec<u8>, ops: &Ops) -> Router {
    router(Render::Ceiling(Bytes::from(png)), ops)
}

/// What answers a `/qrcode` request whose text the contract accepts.
#[derive(Clone)]
enum Render {
    /// The core, with this engine.
    Engine(Engine),
    /// The same PNG every time (the ceiling).
    Ceiling(Bytes),
}

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    render: Render,
    ops: Ops,
}

impl FromRef<AppState> for Render {
    fn from_ref(state: &AppState) -> Render {
        state.render.clone()
    }
}

impl FromRef<AppState> for Ops {
    fn from_ref(state: &AppState) -> Ops {
        state.ops.clone()
    }
}

fn router(render: Render, ops: &Ops) -> Router {
    Router::new()
        .route("/qrcode", get(qrcode).fallback(method_not_allowed))
        .route(
            "/healthz",
            get(health::healthz).fallback(method_not_allowed),
        )
        .route(
            "/metrics",
            get(metrics::metrics).fallback(method_not_allowed),
        )
        .fallback(not_found)
        .layer(middleware::from_fn(printable_ascii_target))
        .layer(middleware::from_fn_with_state(ops.clone(), metrics::record))
        .with_state(AppState {
            render,
            ops: ops.clone(),
        })
}

/// Refuses a request target with a byte outside printable ASCII (raw UTF-8, say), which HTTP/1.1
/// does not allow and the Node host's parser refuses too: the same 400 in every tier.
async fn printable_ascii_target(request: Request, next: Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or("", |target| target.as_str());
    if target.bytes().all(|byte| byte.is_ascii_graphic()) {
        next.run(request).await
    } else {
        AppError::BadTarget.into_response()
    }
}

/// Everything a request can fail with, turned into the contract's status and one-line body.
#[derive(Debug)]
pub enum AppError {
    /// The query has no usable `text` (400).
    Text(TextError),
    /// The core refused the text (400) or failed (500).
    Qr(QrError),
    /// The request target has a byte outside printable ASCII (400).
    BadTarget,
    /// Too many connections open (503).
    Busy,
}

impl From<TextError> for AppError {
    fn from(err: TextError) -> Self {
        AppError::Text(err)
    }
}

impl From<QrError> for AppError {
    fn from(err: QrError) -> Self {
        AppError::Qr(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::Text(_) => StatusCode::BAD_REQUEST,
            AppError::Qr(err) if err.is_bad_input() => StatusCode::BAD_REQUEST,
            AppError::Qr(err) => {
                eprintln!("qr-server: generation failed: {err:?}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::BadTarget => StatusCode::BAD_REQUEST,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        let body = match self {
            AppError::Text(err) => err.to_string(),
            AppError::Qr(err) => err.to_string(),
            AppError::BadTarget => {
                "request target must be printable ASCII (percent-encode the text)".to_owned()
            }
            AppError::Busy => BUSY_BODY.to_owned(),
        };
        // A `String` body is `text/plain; charset=utf-8`.
        (status, body).into_response()
    }
}

/// `GET /qrcode?text=...`: the PNG of the QR code of `text`.
///
/// The core runs inline on the tokio worker, not in `spawn_blocking`, chosen by measurement:
/// 100 connections, oha 1.16.0 on the same 2 cores, the 10 bench targets, 3 alternating rounds of
/// 10 s each on a quiet machine (req/s, p99):
///
/// | engine | inline | spawn_blocking |
/// | --- | --- | --- |
/// | fast (the default) | 52,630 req/s, 4.9 ms | 37,840 req/s, 5.4 ms |
/// | article | 2,630 req/s, 57 ms | 3,190 req/s, 118 ms |
///
/// `spawn_blocking` gives the slow article engine 21% more throughput at twice the p99 (its
/// blocking threads outnumber the cores and win CPU from the load generator); for the engine we
/// serve, inline is 39% faster.
async fn qrcode(State(render): State<Render>, uri: Uri) -> Result<Response, AppError> {
    let text = text_param(uri.query())?;
    let png = match render {
        Render::Engine(engine) => {
            Bytes::from(qr_core::generate(&text, &Options::with_engine(engine))?)
        }
        Render::Ceiling(png) => {
            qr_core::validate(&text)?;
            png
        }
    };
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "GET, HEAD")],
        "method not allowed",
    )
        .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The most connections [`ServeConfig::max_connections`] takes (tokio's semaphore holds no more).
pub const MAX_CONNECTIONS: usize = Semaphore::MAX_PERMITS;

/// The longest [`ServeConfig::header_read_timeout`]: hyper adds it to the current instant, which
/// an absurd value would overflow.
pub const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// How connections are served. [`serve`] clamps values out of range into it.
#[derive(Debug, Clone, Copy)]
pub struct ServeConfig {
    /// Time a client has to send a request's head; the connection is closed after it. At most
    /// [`MAX_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// Time in-flight connections get to finish once shutdown starts.
    pub shutdown_grace: Duration,
    /// Connections served at once, 1 to [`MAX_CONNECTIONS`]; one more gets a 503 and is closed.
    pub max_connections: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Connections past the bound being answered 503 at once; one more is closed without an answer,
/// so a flood costs a bounded number of tasks and file descriptors.
pub const MAX_TURNING_AWAY: usize = 256;

/// How long a turned-away connection may take to get its 503 and close.
const TURN_AWAY_TIME: Duration = Duration::from_secs(1);

/// What the client of a turned-away connection may still send before it is closed (its head).
const TURN_AWAY_DRAIN_BYTES: usize = 64 * 1024;

/// The body of every 503.
const BUSY_BODY: &str = "server is busy";

/// The 503 a connection past the bound gets, written before its request is read (the same
/// status, type and body as [`AppError::Busy`]'s; a unit test holds them together).
const BUSY_RESPONSE: &str = concat!(
    "HTTP/1.1 503 Service Unavailable\r\n",
    "content-type: text/plain; charset=utf-8\r\n",
    "content-length: 14\r\n",
    "connection: close\r\n",
    "\r\n",
    "server is busy",
);

/// What a [`serve`] run did, for its caller's last log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Connections answered 503 (or closed, past [`MAX_TURNING_AWAY`]) because the bound was full.
    pub turned_away: u64,
}

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` resolves, then stops accepting and
/// drains the open connections: `ops` says `draining` on `/healthz`, a request already sent is
/// answered with `connection: close`, a connection with none closes (see `drain.rs`), a 503 being
/// written is finished, all within `config.shutdown_grace`. `ops` also counts the connections
/// turned away.
///
/// Not `axum::serve`: it has no header-read timeout and no head size limit.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    ops: &Ops,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Served> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout.min(MAX_HEADER_READ_TIMEOUT))
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEAD_FIELDS)
        .half_close(true);
    let turning_away = Arc::new(Semaphore::new(MAX_TURNING_AWAY));
    let mut served = Served::default();
    let open = Arc::new(Semaphore::new(
        config.max_connections.clamp(1, MAX_CONNECTIONS),
    ));
    let drain = Drain::default();
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    eprintln!("qr-server: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // A connection's errors (client gone, header timeout, bad request) are the client's.
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                let (io, service) = drain.connection(stream, router.clone());
                let connection = http.serve_connection(io, service);
                connections.spawn(async move {
                    let _ = connection.await;
                    drop(permit);
                });
            }
            Err(_) => {
                served.turned_away += 1;
                ops.turned_away();
                // Past MAX_TURNING_AWAY the stream is dropped here: closed without an answer.
                if let Ok(permit) = turning_away.clone().try_acquire_owned() {
                    connections.spawn(async move {
                        turn_away(stream).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    // Connections first: an answer that says `draining` must also say `connection: close`, and
    // the health flag's Release store publishes the drain to whoever reads it.
    drain.start();
    ops.start_draining();
    connections.close();
    match tokio::time::timeout(config.shutdown_grace, connections.wait()).await {
        Ok(()) => Ok(served),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "connections still open when the shutdown grace period ended",
        )),
    }
}

/// Answers a connection past the bound: the 503 at once, without waiting for its request, then
/// a lingering close (what the client sent is read and dropped, so closing does not reset the
/// connection before the client reads the 503), all within [`TURN_AWAY_TIME`].
async fn turn_away(mut stream: TcpStream) {
    let answer = async {
        stream.write_all(BUSY_RESPONSE.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0; 4096];
        let mut drained = 0;
        while drained < TURN_AWAY_DRAIN_BYTES {
            match stream.read(&mut sink).await? {
                0 => break,
                n => drained += n,
            }
        }
        io::Result::Ok(())
    };
    let _ = tokio::time::timeout(TURN_AWAY_TIME, answer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status and body `error` answers with.
    async fn answer(error: AppError) -> (StatusCode, Option<String>, String) {
        let response = error.into_response();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// Every error answer, from contract/cases.json: its status and exact line.
    #[tokio::test]
    async fn errors_answer_with_the_contract_status_and_line() {
        let contract = qr_harness::contract::Contract::load().unwrap();
        let plain = Some("text/plain; charset=utf-8".to_owned());
        for (error, key) in [
            (AppError::Qr(QrError::Generation("detail".into())), "failed"),
            (AppError::Busy, "busy"),
            (AppError::BadTarget, "badTarget"),
            (AppError::Qr(QrError::Missing), "missing"),
            (AppError::Qr(QrError::TooLong), "tooLong"),
            (AppError::Qr(QrError::NotUtf8), "notUtf8"),
            (AppError::Text(TextError::NotOnce), "notOnce"),
        ] {
            let reply = contract.answer(key);
            if key == "busy" {
                let raw = format!(
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    plain.as_deref().unwrap(),
                    reply.body.len(),
                    reply.body
                );
                assert_eq!(
                    BUSY_RESPONSE, raw,
                    "the raw 503 of a turned-away connection"
                );
            }
            let status = StatusCode::from_u16(reply.status).unwrap();
            assert_eq!(
                answer(error).await,
                (status, plain.clone(), reply.body.clone()),
                "{key}"
            );
        }
    }
}
