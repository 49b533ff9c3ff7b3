//! Prometheus metrics: requests by route and status, latency histogram,
//! view buffer size, flush durations and database pool use. One registry per
//! `AppState` (no globals), rendered as text at `GET /metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
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
    /// 1 while this instance listens for other instances' changes.
    pub cluster_listener_up: IntGauge,
    /// Times the listening connection was lost and opened again.
    pub cluster_listener_reconnects: IntCounter,
    /// Announcements of other instances applied here.
    pub cluster_notifications: IntCounter,
    /// 1 while a read replica takes anonymous reads, by its position.
    pub replica_up: IntGaugeVec,
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
        let cluster_listener_up = IntGauge::new(
            "cluster_listener_up",
            "1 while listening for other instances' changes (PostgreSQL)",
        )
        .unwrap_or_else(|_| unreachable_metric());
        let cluster_listener_reconnects = IntCounter::new(
            "cluster_listener_reconnects_total",
            "Times the connection listening for other instances' changes was lost and reopened",
        )
        .unwrap_or_else(|_| unreachable_metric());
        let cluster_notifications = IntCounter::new(
            "cluster_notifications_total",
            "Announcements of other instances' changes applied here",
        )
        .unwrap_or_else(|_| unreachable_metric());
        let replica_up = IntGaugeVec::new(
            Opts::new(
                "db_replica_up",
                "1 while a read replica answers and is within NEWSDESK_REPLICA_MAX_LAG",
            ),
            &["replica"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(view_buffer.clone()),
            Box::new(view_flush_seconds.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(cluster_listener_up.clone()),
            Box::new(cluster_listener_reconnects.clone()),
            Box::new(cluster_notifications.clone()),
            Box::new(replica_up.clone()),
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
            cluster_listener_up,
            cluster_listener_reconnects,
            cluster_notifications,
            replica_up,
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
