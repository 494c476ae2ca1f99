//! Prometheus metrics, kept in memory and rendered as text on `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::events::EventType;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

/// Request counters and latency histograms by method and route template, and the outbox's
/// figures.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    outbox: Arc<OutboxMetrics>,
}

/// How a webhook delivery attempt ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Succeeded,
    /// It failed and will be tried again.
    Retry,
    /// It failed for the last time.
    Failed,
}

impl DeliveryOutcome {
    /// Every outcome, in the order rendered.
    const ALL: [DeliveryOutcome; 3] = [Self::Succeeded, Self::Retry, Self::Failed];

    /// The `outcome` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retry => "retry",
            Self::Failed => "failed",
        }
    }
}

/// What the outbox counts: webhook deliveries by outcome, the age of the oldest pending one,
/// and events by type. Written by the outbox thread, read by `/metrics`.
#[derive(Debug)]
pub struct OutboxMetrics {
    deliveries: [AtomicU64; 3],
    /// Seconds, as the bits of an `f64`.
    oldest_pending: AtomicU64,
    /// One counter per [`EventType::ALL`], so the label set is bounded by the type names.
    events: Vec<AtomicU64>,
}

impl Default for OutboxMetrics {
    fn default() -> Self {
        Self {
            deliveries: Default::default(),
            oldest_pending: AtomicU64::new(0f64.to_bits()),
            events: EventType::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl OutboxMetrics {
    /// Counts one recorded delivery attempt.
    pub fn delivered(&self, outcome: DeliveryOutcome) {
        let i = DeliveryOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.deliveries[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the age of the oldest pending delivery (0 when none is pending).
    pub fn set_oldest_pending(&self, seconds: f64) {
        self.oldest_pending
            .store(seconds.max(0.0).to_bits(), Ordering::Relaxed);
    }

    /// Counts one event of this type.
    pub fn event(&self, kind: EventType) {
        if let Some(i) = EventType::ALL.iter().position(|t| *t == kind) {
            self.events[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP webhook_deliveries_total Webhook delivery attempts recorded by this \
             instance, by outcome.\n",
        );
        out.push_str("# TYPE webhook_deliveries_total counter\n");
        for (outcome, n) in DeliveryOutcome::ALL.iter().zip(&self.deliveries) {
            let _ = writeln!(
                out,
                "webhook_deliveries_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                n.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP webhook_oldest_pending_delivery_seconds Age of the oldest webhook delivery \
             still pending (0 when none is).\n",
        );
        out.push_str("# TYPE webhook_oldest_pending_delivery_seconds gauge\n");
        let _ = writeln!(
            out,
            "webhook_oldest_pending_delivery_seconds {}",
            f64::from_bits(self.oldest_pending.load(Ordering::Relaxed))
        );
        out.push_str(
            "# HELP events_total Events passed on to webhooks by this instance, by type.\n",
        );
        out.push_str("# TYPE events_total counter\n");
        for (kind, n) in EventType::ALL.iter().zip(&self.events) {
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(out, "events_total{{type=\"{}\"}} {n}", kind.as_str());
        }
    }
}

/// Connection pool figures at the moment of a scrape.
#[derive(Debug, Clone, Copy)]
pub struct PoolFigures {
    /// Connections handed out.
    pub in_use: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// The pool's largest size.
    pub max: u32,
}

/// Methods that become a label of their own; any other method counts as `OTHER`.
const STANDARD_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The label for a request method. A method is any token the client likes, so a raw one
/// would let anyone add a series (and kilobytes of text) per request.
pub fn method_label(method: &str) -> &'static str {
    STANDARD_METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("OTHER")
}

/// The label for a matched route: its template, or `unmatched` for every address no route
/// took, so unknown paths share one series.
pub fn route_label(pattern: Option<String>) -> String {
    pattern.unwrap_or_else(|| UNMATCHED.to_string())
}

/// Route label of every request no route matched.
pub const UNMATCHED: &str = "unmatched";

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// The outbox's share, which its thread writes to.
    pub fn outbox(&self) -> Arc<OutboxMetrics> {
        self.outbox.clone()
    }

    /// Records one answered request. `route` is a template, never a raw path, to bound the
    /// series; `method` is reduced to [`method_label`] here, so no caller can forget it.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = inner
            .latency
            .entry((method.to_string(), route.to_string()))
            .or_default();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            h.counts[i] += 1;
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The Prometheus text exposition of everything recorded, plus the pool figures.
    pub fn render(&self, pool: PoolFigures) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP http_requests_total HTTP requests answered, by route template and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((method, route), h) in &inner.latency {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP db_pool_connections Database connections by state.\n");
        out.push_str("# TYPE db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "db_pool_connections{{state=\"in_use\"}} {}",
            pool.in_use
        );
        let _ = writeln!(out, "db_pool_connections{{state=\"idle\"}} {}", pool.idle);
        out.push_str("# HELP db_pool_max_connections Largest size of the database pool.\n");
        out.push_str("# TYPE db_pool_max_connections gauge\n");
        let _ = writeln!(out, "db_pool_max_connections {}", pool.max);
        self.outbox.render(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("GET", "/a", 200, 0.002);
        m.observe("GET", "/a", 200, 0.2);
        m.observe("GET", "/a", 404, 30.0);
        let text = m.render(PoolFigures {
            in_use: 1,
            idle: 2,
            max: 8,
        });
        assert!(text.contains("http_requests_total{method=\"GET\",route=\"/a\",status=\"200\"} 2"));
        assert!(text.contains("http_requests_total{method=\"GET\",route=\"/a\",status=\"404\"} 1"));
        assert!(text.contains("route=\"/a\",le=\"0.001\"} 0"));
        assert!(text.contains("route=\"/a\",le=\"0.0025\"} 1"));
        assert!(text.contains("route=\"/a\",le=\"0.25\"} 2"));
        assert!(text.contains("route=\"/a\",le=\"+Inf\"} 3"));
        assert!(text.contains("db_pool_connections{state=\"in_use\"} 1"));
    }

    #[test]
    fn only_standard_methods_become_labels() {
        for method in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        ] {
            assert_eq!(method_label(method), method);
        }
        for method in ["get", "PROPFIND", "BREW", "", &"X".repeat(2048)] {
            assert_eq!(method_label(method), "OTHER", "{method:.20}");
        }
        assert_eq!(route_label(None), "unmatched");
        assert_eq!(route_label(Some("/a/{id}".into())), "/a/{id}");
    }

    #[test]
    fn made_up_methods_share_one_series() {
        let m = Metrics::default();
        let pool = PoolFigures {
            in_use: 0,
            idle: 0,
            max: 1,
        };
        m.observe("GET", "unmatched", 404, 0.001);
        let before = m.render(pool).len();
        for i in 0..500 {
            let method = format!("{i:04}{}", "M".repeat(2044));
            m.observe(&method, "unmatched", 405, 0.001);
        }
        let text = m.render(pool);
        assert!(text.contains(
            "http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 500"
        ));
        assert!(!text.contains("MMMM"));
        // One counter and one histogram more, whatever the number of methods.
        assert!(text.len() < before * 3, "{} bytes", text.len());
    }

    #[test]
    fn the_outbox_figures_are_rendered_with_bounded_labels() {
        let m = Metrics::default();
        let outbox = m.outbox();
        outbox.delivered(DeliveryOutcome::Retry);
        outbox.delivered(DeliveryOutcome::Retry);
        outbox.delivered(DeliveryOutcome::Succeeded);
        outbox.event(EventType::QuestionAsked);
        outbox.set_oldest_pending(12.5);
        let text = m.render(PoolFigures {
            in_use: 0,
            idle: 1,
            max: 4,
        });
        assert!(text.contains("webhook_deliveries_total{outcome=\"retry\"} 2\n"));
        assert!(text.contains("webhook_deliveries_total{outcome=\"succeeded\"} 1\n"));
        assert!(text.contains("webhook_deliveries_total{outcome=\"failed\"} 0\n"));
        assert!(text.contains("webhook_oldest_pending_delivery_seconds 12.5\n"));
        assert!(text.contains("events_total{type=\"question.asked\"} 1\n"));
        assert!(text.contains("events_total{type=\"unit.created\"} 0\n"));
        assert_eq!(text.matches("events_total{").count(), EventType::ALL.len());
    }
}
