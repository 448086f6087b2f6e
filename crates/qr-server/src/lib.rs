//! rusty-qr tier 4: the whole HTTP server in Rust, axum on tokio, with the contract of every tier.
//!
//! Run with `cargo run --release -p qr-server -- [--addr 127.0.0.1:42069] [--engine fast|article]` (fast is the default).

mod query;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use qr_core::{Engine, Options, QrError};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use query::{TextError, form_decode, text_param};

/// Default bound on `/qrcode` requests being served at once; past it the answer is 503 at once.
/// Far above the benchmark's 100 connections, which must never see a 503.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// Request line plus headers accepted (so a 20 KB URL reaches the app); more is a 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Default time a client has to send a request's head (also the idle keep-alive limit).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time in-flight connections get to finish after a shutdown signal.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// What the handlers share: the engine and the permits that bound the work in flight.
#[derive(Debug, Clone)]
pub struct AppState {
    engine: Engine,
    permits: Arc<Semaphore>,
}

impl AppState {
    /// State rendering with `engine`, answering 503 while `max_in_flight` requests are being served.
    pub fn new(engine: Engine, max_in_flight: usize) -> Self {
        AppState {
            engine,
            permits: Arc::new(Semaphore::new(max_in_flight)),
        }
    }
}

/// The router: `GET`/`HEAD /qrcode`, 405 for other methods there, 404 everywhere else.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/qrcode", get(qrcode).fallback(method_not_allowed))
        .fallback(not_found)
        .with_state(state)
}

/// Everything a request can fail with, turned into the contract's status and one-line body.
#[derive(Debug)]
pub enum AppError {
    /// The query has no usable `text` (400).
    Text(TextError),
    /// The core refused the text (400) or failed (500).
    Qr(QrError),
    /// Too many requests in flight (503).
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
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        let body = match self {
            AppError::Text(err) => err.to_string(),
            AppError::Qr(err) => err.to_string(),
            AppError::Busy => "server is busy".to_owned(),
        };
        // A `String` body is `text/plain; charset=utf-8`.
        (status, body).into_response()
    }
}

/// `GET /qrcode?text=...`: the PNG of the QR code of `text`.
///
/// The core runs inline on the tokio worker, not in `spawn_blocking`, because that measured faster:
/// 100 connections, oha 1.16.0, the 10 bench targets, 10 alternating 10 s pairs on a shared 2-core
/// machine (load 9-38): inline median 1286 req/s, p99 275 ms; spawn_blocking 989 req/s, p99 381 ms;
/// inline won 7 of the 10 pairs.
async fn qrcode(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let _permit = state.permits.try_acquire().map_err(|_| AppError::Busy)?;
    let text = text_param(uri.query())?;
    let png = qr_core::png(&text, &Options::with_engine(state.engine))?;
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

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub struct ServeConfig {
    /// Time a client has to send a request's head; the connection is closed after it.
    pub header_read_timeout: Duration,
    /// Time in-flight connections get to finish once shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` resolves, then stops accepting and
/// waits for the connections in flight (at most `config.shutdown_grace`).
///
/// Not `axum::serve`: it has no header-read timeout and no head size limit.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_header_size(MAX_HEAD_BYTES);
    let graceful = GracefulShutdown::new();
    let service = TowerToHyperService::new(router);
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
        let connection = http.serve_connection(TokioIo::new(stream), service.clone());
        let connection = graceful.watch(connection);
        // A connection's errors (client gone, header timeout, bad request) are the client's.
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    match tokio::time::timeout(config.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => Ok(()),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "connections still open when the shutdown grace period ended",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(router: Router, uri: &str) -> (StatusCode, String) {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn busy_while_every_permit_is_taken() {
        let state = AppState::new(Engine::default(), 1);
        let router = app(state.clone());
        let permit = state.permits.try_acquire().unwrap();
        let busy = (StatusCode::SERVICE_UNAVAILABLE, "server is busy".to_owned());
        assert_eq!(get(router.clone(), "/qrcode?text=hi").await, busy);
        // Bad requests are turned away too while the server is full.
        assert_eq!(get(router.clone(), "/qrcode").await, busy);
        drop(permit);
        assert_eq!(
            get(router.clone(), "/qrcode?text=hi").await.0,
            StatusCode::OK
        );
        // The permit is given back after each request.
        assert_eq!(get(router, "/qrcode?text=hi").await.0, StatusCode::OK);
        assert_eq!(state.permits.available_permits(), 1);
    }

    #[tokio::test]
    async fn generation_failure_is_a_plain_500() {
        let response = AppError::Qr(QrError::Generation("detail".into())).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], b"failed to generate qr code");
    }

    #[tokio::test]
    async fn core_bad_input_is_a_400() {
        for err in [QrError::Missing, QrError::TooLong] {
            let message = err.to_string();
            let response = AppError::Qr(err).into_response();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(body, message.as_bytes());
        }
    }
}
