//! `GET /healthz`: `ok` while the server takes work, 503 `draining` once a shutdown has begun
//! (the readiness convention of Kubernetes and load balancers).

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::Ops;

/// The body of `/healthz` while the server takes work.
const HEALTHY: &str = "ok";
/// The body of `/healthz`'s 503 once a shutdown has begun.
const DRAINING: &str = "draining";

/// Whether the server still takes work.
#[derive(Default)]
pub(crate) struct Health {
    draining: AtomicBool,
}

impl Health {
    /// From now on `/healthz` answers 503 `draining` (Release: what the caller did before, such
    /// as starting the connections' drain, is seen by every handler that sees this).
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }
}

/// `GET /healthz`.
pub(crate) async fn healthz(State(ops): State<Ops>) -> Response {
    if ops.inner().health.draining.load(Ordering::Acquire) {
        (StatusCode::SERVICE_UNAVAILABLE, DRAINING).into_response()
    } else {
        HEALTHY.into_response()
    }
}
