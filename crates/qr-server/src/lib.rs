//! rusty-qr tier 4: the whole HTTP server in Rust, axum on tokio, with the contract of every tier.
//!
//! Run with `cargo run --release -p qr-server -- [--addr 127.0.0.1:42069] [--engine fast|article]` (fast is the default).

mod caching;
mod drain;
mod health;
mod metrics;
mod ops;
mod query;
mod raw_target;
mod serve;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use qr_core::{Engine, Format, QrError};

use crate::caching::{Image, NoBody};

pub use metrics::METRICS_CONTENT_TYPE;
pub use ops::Ops;
pub use query::{QrQuery, QueryError, qrcode_query};
pub use serve::{
    MAX_CONNECTIONS, MAX_HEADER_READ_TIMEOUT, MAX_TURNING_AWAY, ServeConfig, Served, serve,
};

/// Default bound on open connections. A connection past it is answered `503 server is busy` at
/// once and closed, so an overload cannot queue without limit. Far above the benchmark's 100
/// connections, which must never see a 503.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Request line plus headers accepted (so a 20 KB URL reaches the app); more is a 431. Counted as
/// the head reaches hyper: a raw `<` and its kin in a request target count three bytes each (see
/// `raw_target.rs`).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Header fields accepted (the contract's rule for every host, and nginx's default); more is a
/// 431. hyper's own default is 100.
pub const MAX_HEAD_FIELDS: usize = 1000;

/// Default time a client has to send a request's head (also the idle keep-alive limit).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time in-flight connections get to finish after a shutdown signal (as in the Node host).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The API's description, served at `/openapi.json` byte for byte (`docs/api.md`).
const OPENAPI_JSON: &str = include_str!("../../../contract/openapi.json");

/// The image's path.
const QRCODE_PATH: &str = "/qrcode";
/// The API description's path.
const OPENAPI_PATH: &str = "/openapi.json";

/// The methods `/qrcode` answers (its `Allow`, and a preflight's allowed methods).
const QRCODE_METHODS: &str = "GET, HEAD, OPTIONS";
/// The methods every other route answers.
const READ_METHODS: &str = "GET, HEAD";

/// How long a browser may keep a preflight's answer: one day.
const MAX_AGE_SECONDS: &str = "86400";

/// The router, rendering with `engine`: `GET`/`HEAD`/`OPTIONS /qrcode`, `GET`/`HEAD`
/// `/openapi.json`, `/healthz` and `/metrics` (from `ops`, which also records every request),
/// 405 for other methods there, 404 everywhere else.
pub fn app(engine: Engine, ops: &Ops) -> Router {
    router(Render::Engine(engine), ops)
}

/// The benchmark's ceiling, never a real server: [`app`] with every valid `/qrcode` request
/// answered with `png`, made once, so the QR work is free and what is left is the HTTP stack.
pub fn ceiling_app(png: Vec<u8>, ops: &Ops) -> Router {
    router(Render::Ceiling(Image::new(png, Format::Png)), ops)
}

/// What answers a `/qrcode` request whose query the contract accepts.
#[derive(Clone)]
enum Render {
    /// The core, with this engine.
    Engine(Engine),
    /// The same PNG every time (the ceiling).
    Ceiling(Image),
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
        .route(
            QRCODE_PATH,
            get(qrcode)
                .options(preflight)
                .fallback(|| async { method_not_allowed(QRCODE_METHODS) }),
        )
        .route(
            OPENAPI_PATH,
            get(openapi).fallback(|| async { method_not_allowed(READ_METHODS) }),
        )
        .route(
            "/healthz",
            get(health::healthz).fallback(|| async { method_not_allowed(READ_METHODS) }),
        )
        .route(
            "/metrics",
            get(metrics::metrics).fallback(|| async { method_not_allowed(READ_METHODS) }),
        )
        .fallback(not_found)
        .layer(middleware::from_fn(by_target))
        .layer(middleware::from_fn_with_state(ops.clone(), metrics::record))
        .with_state(AppState {
            render,
            ops: ops.clone(),
        })
}

/// The rules that go by the request target, around every route: a target with a byte outside
/// printable ASCII (raw UTF-8, say), which HTTP/1.1 does not allow and the Node host's parser
/// refuses too, is the same 400 in every tier; and every answer on `/qrcode` and `/openapi.json`,
/// errors included, may be read by a page of any origin (CORS).
async fn by_target(request: Request, next: Next) -> Response {
    let cors = matches!(request.uri().path(), QRCODE_PATH | OPENAPI_PATH);
    let target = request
        .uri()
        .path_and_query()
        .map_or("", |target| target.as_str());
    let mut response = if target.bytes().all(|byte| byte.is_ascii_graphic()) {
        next.run(request).await
    } else {
        AppError::BadTarget.into_response()
    };
    if cors {
        let any = HeaderValue::from_static("*");
        (response.headers_mut()).insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, any);
    }
    response
}

/// The body of every 503.
const BUSY_BODY: &str = "server is busy";

/// Everything a request can fail with, turned into the contract's status and one-line body.
#[derive(Debug)]
pub enum AppError {
    /// The query asks for no image (400).
    Query(QueryError),
    /// The core refused the request (400) or failed (500).
    Qr(QrError),
    /// The request target has a byte outside printable ASCII (400).
    BadTarget,
    /// Too many connections open (503).
    Busy,
}

impl From<QueryError> for AppError {
    fn from(err: QueryError) -> Self {
        AppError::Query(err)
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
            AppError::Query(_) => StatusCode::BAD_REQUEST,
            AppError::Qr(err) if err.is_bad_input() => StatusCode::BAD_REQUEST,
            AppError::Qr(err) => {
                eprintln!("qr-server: generation failed: {err:?}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::BadTarget => StatusCode::BAD_REQUEST,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        let body = match self {
            AppError::Query(err) => err.to_string(),
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

/// `GET /qrcode?text=...&format=...`: the PNG or SVG of the QR code of `text`, with its `ETag`
/// (304 when the client has it already) and `Cache-Control`.
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
async fn qrcode(State(render): State<Render>, request: Request) -> Result<Response, AppError> {
    let QrQuery { text, mut options } = qrcode_query(request.uri().query())?;
    let image = match render {
        Render::Engine(engine) => {
            options.engine = engine;
            Image::new(qr_core::generate(&text, &options)?, options.format)
        }
        Render::Ceiling(image) => image,
    };
    Ok(image.answer(request.headers()))
}

/// `OPTIONS /qrcode`, a CORS preflight: any origin may GET and HEAD with any headers.
async fn preflight() -> Response {
    let headers = [
        (header::ACCESS_CONTROL_ALLOW_METHODS, QRCODE_METHODS),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "*"),
        (header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS),
        (header::ALLOW, QRCODE_METHODS),
    ];
    (StatusCode::NO_CONTENT, headers, Body::new(NoBody)).into_response()
}

/// `GET /openapi.json`.
async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

fn method_not_allowed(allow: &'static str) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, allow)],
        "method not allowed",
    )
        .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qr_core::OptionName;

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

    /// Every error answer, from contract/cases.json: its status and exact line (a turned-away
    /// connection's raw 503 is held to the same `busy` answer in serve.rs).
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
            (AppError::Query(QueryError::NotOnce("text")), "notOnce"),
            (
                AppError::Query(QueryError::NotOnce("format")),
                "notOnceFormat",
            ),
            (AppError::Query(QueryError::NotOnce("size")), "notOnceSize"),
            (
                AppError::Query(QueryError::NotOnce("light")),
                "notOnceLight",
            ),
            (
                AppError::Qr(QrError::BadOption(OptionName::Format)),
                "badFormat",
            ),
            (
                AppError::Qr(QrError::BadOption(OptionName::Size)),
                "badSize",
            ),
            (
                AppError::Qr(QrError::BadOption(OptionName::Margin)),
                "badMargin",
            ),
            (
                AppError::Qr(QrError::BadOption(OptionName::EcLevel)),
                "badEcLevel",
            ),
            (
                AppError::Qr(QrError::BadOption(OptionName::Dark)),
                "badDark",
            ),
            (
                AppError::Qr(QrError::BadOption(OptionName::Light)),
                "badLight",
            ),
            (
                AppError::Qr(QrError::SizeTooSmall { min: 29 }),
                "sizeTooSmall29",
            ),
        ] {
            let reply = contract.answer(key);
            let status = StatusCode::from_u16(reply.status).unwrap();
            assert_eq!(
                answer(error).await,
                (status, plain.clone(), reply.body.clone()),
                "{key}"
            );
        }
    }
}
