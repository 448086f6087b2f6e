//! What tier 4 tells its operators, as one handle the router and `serve` share: its health
//! (`health.rs`: `GET /healthz`, and draining once a shutdown has begun), its metrics
//! (`metrics.rs`: `GET /metrics`, and every request recorded) and, when asked, one access-log line
//! per request on stderr.

use std::sync::Arc;

use crate::health::Health;
use crate::metrics::Metrics;

/// The server's health and metrics, shared by the router (which records every request) and
/// `serve` (which counts the connections it turns away and starts draining). Cheap to clone.
#[derive(Clone)]
pub struct Ops(Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) health: Health,
    pub(crate) metrics: Metrics,
    /// Whether every request writes one line to stderr.
    pub(crate) access_log: bool,
}

impl Default for Ops {
    fn default() -> Self {
        Ops::new(false)
    }
}

impl Ops {
    /// Healthy, metrics all zero; `access_log` writes one line per request to stderr.
    pub fn new(access_log: bool) -> Ops {
        Ops(Arc::new(Inner {
            health: Health::default(),
            metrics: Metrics::new(),
            access_log,
        }))
    }

    /// From now on `/healthz` answers 503 `draining`.
    pub fn start_draining(&self) {
        self.0.health.start_draining();
    }

    /// Counts one connection turned away.
    pub(crate) fn turned_away(&self) {
        self.0.metrics.turned_away();
    }

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        self.0.metrics.render()
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.0
    }
}
