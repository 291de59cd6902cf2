//! The metrics snapshot: what the window holds, turned into rates and milliseconds.

use std::collections::BTreeMap;

use serde::Serialize;

use super::sync::SyncMetrics;
use super::window::{outcome_name, WindowRead, OUTCOMES};
use crate::ratelimit::Bucket;

/// Latency statistics over the window, in milliseconds (`None` without samples).
/// Percentiles come from an HDR histogram (2 significant figures: within 1 %); mean, min and
/// max are exact.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LatencyStats {
    /// Requests measured.
    pub samples: u64,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Slowest.
    pub max: Option<f64>,
    /// Fastest (exact; for the legacy ERP's `min_response_time`).
    pub min: Option<f64>,
}

/// One rate-limit bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketMetrics {
    /// The latest usage ratio reported in the window (0 when none was).
    pub usage: f64,
    /// The highest usage ratio reported in the window.
    pub peak_usage: f64,
    /// HTTP 429 answers in the window.
    pub rate_limited: u64,
}

/// One `(resource, action)` pair over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointMetrics {
    /// e.g. `"order"`.
    pub resource: String,
    /// e.g. `"read"`.
    pub action: String,
    /// Requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// errors / requests.
    pub error_rate: f64,
    /// Mean latency, ms.
    pub latency_mean_ms: f64,
    /// Slowest, ms.
    pub latency_max_ms: f64,
}

/// A snapshot of the monitor's metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// The configured window, seconds.
    pub window_seconds: f64,
    /// The time the figures actually cover: the window, or less right after start or reset.
    pub covered_seconds: f64,
    /// Requests (HTTP attempts) in the window.
    pub requests: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Retried attempts (attempt > 0) in the window.
    pub retries: u64,
    /// requests / covered minutes.
    pub requests_per_minute: f64,
    /// errors / requests (0 without requests).
    pub error_rate: f64,
    /// Latency statistics.
    pub latency_ms: LatencyStats,
    /// Requests per outcome (`"success"`, an error kind such as `"network"`, or `"error"`).
    pub outcomes: BTreeMap<String, u64>,
    /// HTTP 429 answers in the window, all buckets.
    pub rate_limited: u64,
    /// Per rate-limit bucket (`"orders"`, `"other"`).
    pub rate_limits: BTreeMap<String, BucketMetrics>,
    /// Per `(resource, action)`, sorted; requests recorded without a resource are counted in
    /// the totals only.
    pub endpoints: Vec<EndpointMetrics>,
    /// Sync runs over the sync window.
    pub sync: SyncMetrics,
    /// Requests since start (or the last reset).
    pub requests_total: u64,
    /// Failed requests since start (or the last reset).
    pub errors_total: u64,
    /// Seconds since start (or the last reset).
    pub uptime_seconds: f64,
    /// Requests that failed in a row, up to now (0 after a success).
    pub consecutive_failures: u64,
    /// The latest request failed authentication and none has succeeded since: a wrong
    /// password or an IP that is not whitelisted; nothing works until it is fixed.
    pub authentication_failing: bool,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Build the snapshot.
// Long on purpose: the snapshot's fields filled one by one from the window read.
pub(crate) fn build(
    w: &WindowRead,
    window_seconds: f64,
    covered_seconds: f64,
    uptime_seconds: f64,
    sync: SyncMetrics,
) -> Metrics {
    let n = w.tally.requests;
    let latency_ms = if n == 0 || w.hist.is_empty() {
        LatencyStats {
            samples: n,
            mean: None,
            p50: None,
            p95: None,
            p99: None,
            max: None,
            min: None,
        }
    } else {
        LatencyStats {
            samples: n,
            mean: Some(w.tally.sum_us as f64 / n as f64 / 1000.0),
            p50: Some(ms(w.hist.value_at_quantile(0.50))),
            p95: Some(ms(w.hist.value_at_quantile(0.95))),
            p99: Some(ms(w.hist.value_at_quantile(0.99))),
            max: Some(ms(w.tally.max_us)),
            min: Some(ms(w.tally.min_us)),
        }
    };
    let outcomes = (0..OUTCOMES)
        .filter(|i| w.tally.outcomes[*i] > 0)
        .map(|i| (outcome_name(i).to_owned(), w.tally.outcomes[i]))
        .collect();
    let rate_limits = Bucket::ALL
        .iter()
        .enumerate()
        .map(|(i, b)| {
            (
                b.as_str().to_owned(),
                BucketMetrics {
                    usage: w.usage_current[i],
                    peak_usage: w.tally.usage_peak[i],
                    rate_limited: w.tally.rate_limited[i],
                },
            )
        })
        .collect();
    let endpoints = w
        .keys
        .iter()
        .filter(|((resource, action), _)| !(resource.is_empty() && action.is_empty()))
        .map(|((resource, action), k)| EndpointMetrics {
            resource: resource.clone(),
            action: action.clone(),
            requests: k.requests,
            errors: k.errors,
            error_rate: ratio(k.errors, k.requests),
            latency_mean_ms: if k.requests == 0 {
                0.0
            } else {
                k.sum_us as f64 / k.requests as f64 / 1000.0
            },
            latency_max_ms: ms(k.max_us),
        })
        .collect();
    let totals = w.totals.as_ref();
    Metrics {
        window_seconds,
        covered_seconds,
        requests: n,
        errors: w.tally.errors,
        retries: w.tally.retries,
        requests_per_minute: n as f64 * 60.0 / covered_seconds.max(1.0),
        error_rate: ratio(w.tally.errors, n),
        latency_ms,
        outcomes,
        rate_limited: w.tally.rate_limited.iter().sum(),
        rate_limits,
        endpoints,
        sync,
        requests_total: totals.map_or(0, |t| t.requests),
        errors_total: totals.map_or(0, |t| t.errors),
        uptime_seconds,
        consecutive_failures: 0,
        authentication_failing: false,
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
