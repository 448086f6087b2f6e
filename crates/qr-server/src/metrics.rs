//! `GET /metrics`: Prometheus metrics in the OpenMetrics text format, by the Prometheus project's
//! own crate, and the middleware that records every request in them (and writes its access-log
//! line, when asked).

use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::Ops;

/// The Content-Type of `/metrics`: what Prometheus asks for first and parses.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Status, Counter>,
    duration: Histogram,
    in_flight: Gauge,
    turned_away: Counter,
}

/// A response's status as a metric label: `code="200"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    code: u16,
}

impl Metrics {
    /// New metrics, all zero.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("qr");
        let requests = Family::<Status, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests that reached the router, by status code (not hyper's own refusals, nor turned-away connections)",
            requests.clone(),
        );
        // 50 µs to ~1.6 s: the fast engine's requests take tens of µs, the article engine's ms.
        let duration = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's head to its response's head",
            duration.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "Requests being answered",
            in_flight.clone(),
        );
        let turned_away = Counter::default();
        registry.register(
            "connections_turned_away",
            "Connections answered 503 at once (or closed) because the connection bound was full",
            turned_away.clone(),
        );
        registry.register(
            "build",
            "The server's version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            requests,
            duration,
            in_flight,
            turned_away,
        }
    }

    /// Counts one connection turned away.
    pub(crate) fn turned_away(&self) {
        self.turned_away.inc();
    }

    /// The metrics in the OpenMetrics text format.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(ops): State<Ops>) -> Response {
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], ops.render()).into_response()
}

/// Middleware around every request: in flight while it runs, then its status and time counted,
/// and the access-log line if asked for.
pub(crate) async fn record(State(ops): State<Ops>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let line = (ops.inner().access_log).then(|| format!("{} {}", request.method(), request.uri()));
    let metrics = &ops.inner().metrics;
    let in_flight = InFlight::enter(metrics);
    let response = next.run(request).await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics.duration.observe(elapsed.as_secs_f64());
    (metrics.requests)
        .get_or_create(&Status { code: status })
        .inc();
    if let Some(line) = line {
        // The body's length, as hyper will send it in Content-Length (HEAD: the GET's).
        let length = (response.body().size_hint().exact())
            .or_else(|| {
                let value = response.headers().get(header::CONTENT_LENGTH)?;
                value.to_str().ok()?.parse().ok()
            })
            .map_or("-".to_owned(), |n| n.to_string());
        eprintln!(
            "{line} {status} {length} {:.3}ms",
            elapsed.as_secs_f64() * 1e3
        );
    }
    response
}

/// One request in the in-flight gauge, taken out when dropped (also when the client goes away
/// and the request's future is dropped half way).
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn enter(metrics: &'a Metrics) -> Self {
        metrics.in_flight.inc();
        InFlight(&metrics.in_flight)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_exposed_with_its_value() {
        let metrics = Metrics::new();
        metrics.turned_away();
        (metrics.requests)
            .get_or_create(&Status { code: 404 })
            .inc();
        metrics.duration.observe(0.000_07);
        let text = metrics.render();
        for line in [
            "# TYPE qr_http_requests counter",
            "qr_http_requests_total{code=\"404\"} 1",
            "# TYPE qr_http_request_duration_seconds histogram",
            "qr_http_request_duration_seconds_bucket{le=\"0.0001\"} 1",
            "qr_http_request_duration_seconds_count 1",
            "qr_http_requests_in_flight 0",
            "qr_connections_turned_away_total 1",
            &format!(
                "qr_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            ),
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
        }
    }
}
