//! Prometheus text exposition (format 0.0.4).
//!
//! Counters (`*_total`, the latency histogram) are cumulative since start or the last reset;
//! gauges describe the sliding window or the current state. Label values are escaped as the
//! format requires (backslash, double quote, newline).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::alerts::{Alert, AlertName};
use super::health::HealthStatus;
use super::metrics::Metrics;
use super::sync::SyncKindTotals;
use super::window::{outcome_name, Totals, LATENCY_BOUNDS_US, NB, OUTCOMES};
use crate::ratelimit::Bucket;

/// Everything one exposition is made of.
pub(crate) struct Exposition<'a> {
    pub metrics: &'a Metrics,
    pub totals: &'a Totals,
    pub sync_totals: &'a BTreeMap<String, SyncKindTotals>,
    pub score: f64,
    pub status: HealthStatus,
    pub alerts: &'a [Alert],
}

/// Escape a label value.
pub(crate) fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value as the format spells it.
pub(crate) fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, pairs: &[(&str, &str)], value: f64) {
        let _ = writeln!(self.0, "{name}{} {}", labels(pairs), num(value));
    }
}

/// Render the exposition.
// Long on purpose: the metric families in exposition order, one block each.
pub(crate) fn render(e: &Exposition<'_>) -> String {
    let m = e.metrics;
    let mut o = Out(String::with_capacity(4096));

    o.family(
        "magflow_emag_requests_total",
        "counter",
        "HTTP attempts to the eMAG API by resource, action and outcome, since start.",
    );
    for ((resource, action), t) in &e.totals.keys {
        for i in 0..OUTCOMES {
            if t.outcomes[i] > 0 {
                o.sample(
                    "magflow_emag_requests_total",
                    &[
                        ("resource", resource),
                        ("action", action),
                        ("outcome", outcome_name(i)),
                    ],
                    t.outcomes[i] as f64,
                );
            }
        }
    }

    let h = "magflow_emag_request_duration_seconds";
    o.family(
        h,
        "histogram",
        "Latency of HTTP attempts to the eMAG API, since start.",
    );
    for ((resource, action), t) in &e.totals.keys {
        let mut cumulative = 0u64;
        for (i, count) in t.buckets.iter().enumerate() {
            cumulative += count;
            let le = if i + 1 < NB {
                num(LATENCY_BOUNDS_US[i] as f64 / 1e6)
            } else {
                "+Inf".to_owned()
            };
            o.sample(
                &format!("{h}_bucket"),
                &[("resource", resource), ("action", action), ("le", &le)],
                cumulative as f64,
            );
        }
        let pairs = [("resource", resource.as_str()), ("action", action.as_str())];
        o.sample(&format!("{h}_sum"), &pairs, t.sum_us as f64 / 1e6);
        o.sample(&format!("{h}_count"), &pairs, t.count as f64);
    }

    o.family(
        "magflow_emag_rate_limited_total",
        "counter",
        "Rate-limited (HTTP 429) answers per quota bucket, since start.",
    );
    for (i, b) in Bucket::ALL.iter().enumerate() {
        o.sample(
            "magflow_emag_rate_limited_total",
            &[("bucket", b.as_str())],
            e.totals.rate_limited[i] as f64,
        );
    }

    o.family(
        "magflow_emag_rate_limit_usage_ratio",
        "gauge",
        "Latest reported usage of each quota (0-1) within the window.",
    );
    for (bucket, b) in &m.rate_limits {
        o.sample(
            "magflow_emag_rate_limit_usage_ratio",
            &[("bucket", bucket)],
            b.usage,
        );
    }

    o.family(
        "magflow_emag_health_score",
        "gauge",
        "Health score of the integration, 0-100.",
    );
    o.sample("magflow_emag_health_score", &[], e.score);

    o.family(
        "magflow_emag_health_status",
        "gauge",
        "1 for the current health status, 0 for the others.",
    );
    for s in HealthStatus::ALL {
        let v = if s == e.status { 1.0 } else { 0.0 };
        o.sample("magflow_emag_health_status", &[("status", s.as_str())], v);
    }

    o.family(
        "magflow_emag_window_requests_per_minute",
        "gauge",
        "Requests per minute over the sliding window.",
    );
    o.sample(
        "magflow_emag_window_requests_per_minute",
        &[],
        m.requests_per_minute,
    );
    o.family(
        "magflow_emag_window_error_ratio",
        "gauge",
        "Share of failed requests over the sliding window.",
    );
    o.sample("magflow_emag_window_error_ratio", &[], m.error_rate);
    o.family(
        "magflow_emag_window_latency_seconds",
        "gauge",
        "Latency percentiles over the sliding window (absent without requests).",
    );
    let l = &m.latency_ms;
    for (q, v) in [
        ("0.5", l.p50),
        ("0.95", l.p95),
        ("0.99", l.p99),
        ("1", l.max),
    ] {
        if let Some(v) = v {
            o.sample(
                "magflow_emag_window_latency_seconds",
                &[("quantile", q)],
                v / 1000.0,
            );
        }
    }

    o.family(
        "magflow_emag_alert_active",
        "gauge",
        "1 while an alert is raised, else 0.",
    );
    for name in AlertName::ALL {
        let subjects: Vec<Option<&str>> = if name == AlertName::RateLimitWarning {
            Bucket::ALL.iter().map(|b| Some(b.as_str())).collect()
        } else {
            vec![None]
        };
        for subject in subjects {
            let active = e
                .alerts
                .iter()
                .any(|a| a.name == name && a.subject.as_deref() == subject);
            let v = if active { 1.0 } else { 0.0 };
            match subject {
                Some(b) => o.sample(
                    "magflow_emag_alert_active",
                    &[("alert", name.as_str()), ("bucket", b)],
                    v,
                ),
                None => o.sample("magflow_emag_alert_active", &[("alert", name.as_str())], v),
            }
        }
    }

    o.family(
        "magflow_emag_sync_runs_total",
        "counter",
        "Sync runs by kind and result, since start.",
    );
    for (kind, t) in e.sync_totals {
        o.sample(
            "magflow_emag_sync_runs_total",
            &[("kind", kind), ("result", "success")],
            t.successes as f64,
        );
        o.sample(
            "magflow_emag_sync_runs_total",
            &[("kind", kind), ("result", "failure")],
            t.failures as f64,
        );
    }
    o.family(
        "magflow_emag_sync_items_total",
        "counter",
        "Items processed by sync runs, by kind, since start.",
    );
    for (kind, t) in e.sync_totals {
        o.sample(
            "magflow_emag_sync_items_total",
            &[("kind", kind)],
            t.items as f64,
        );
    }
    if let Some(rate) = m.sync.success_rate {
        o.family(
            "magflow_emag_sync_success_ratio",
            "gauge",
            "Share of successful sync runs over the sync window.",
        );
        o.sample("magflow_emag_sync_success_ratio", &[], rate);
    }

    o.family(
        "magflow_emag_uptime_seconds",
        "gauge",
        "Seconds since the monitor started or was reset.",
    );
    o.sample("magflow_emag_uptime_seconds", &[], m.uptime_seconds);
    o.0
}
