//! Prometheus metrics: requests by route and status, latency histogram,
//! view buffer size, flush durations and database pool use. One registry per
//! `AppState` (no globals), rendered as text at `GET /metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    /// Views counted in memory and not yet written.
    pub view_buffer: IntGauge,
    /// How long each batched view write took.
    pub view_flush_seconds: HistogramVec,
    pub pool_connections: IntGauge,
    pub pool_idle: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("newsdesk".into()), None).unwrap_or_default();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["method", "route"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let view_buffer = IntGauge::new(
            "view_buffer_size",
            "Views counted in memory, not yet written",
        )
        .unwrap_or_else(|_| unreachable_metric());
        let view_flush_seconds = HistogramVec::new(
            HistogramOpts::new(
                "view_flush_duration_seconds",
                "Duration of batched view writes",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]),
            &["outcome"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let pool_connections = IntGauge::new("db_pool_connections", "Open database connections")
            .unwrap_or_else(|_| unreachable_metric());
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")
            .unwrap_or_else(|_| unreachable_metric());
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(view_buffer.clone()),
            Box::new(view_flush_seconds.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
        ] {
            let _ = registry.register(c);
        }
        Self {
            registry,
            requests,
            latency,
            view_buffer,
            view_flush_seconds,
            pool_connections,
            pool_idle,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Metric definitions above are constant and valid; this is never reached.
fn unreachable_metric<T>() -> T {
    panic!("invalid metric definition")
}
