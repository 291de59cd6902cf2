//! The health score (0-100) and status.
//!
//! The score is a weighted sum of four components, each scored between 0 (bad) and 1 (fine)
//! relative to the alert thresholds, so raising a threshold relaxes the score too:
//!
//! | component | weight | 1 (full marks) | 0 (nothing) |
//! |---|---|---|---|
//! | errors | 40 | no errors | error rate >= 2 x threshold (10 %) |
//! | latency | 20 | p95 <= 0.5 x threshold (1 s) | p95 >= 1.5 x threshold (3 s) |
//! | sync | 25 | no failed sync | failure rate >= 2 x (1 - threshold) (10 %) |
//! | rate limits | 15 | usage <= threshold (80 %), no 429 | usage 100 %; any 429 in the window caps it at 0.5 |
//!
//! Scores are linear between the two ends. The errors and latency penalties are scaled by
//! the confidence `min(1, requests / min_samples)`, so one failed request out of one does
//! not make the integration "critical". A component without data (no traffic, no sync, no
//! usage reported) scores 1: no traffic is not a failure.
//!
//! Status bands: `healthy` >= 90, `degraded` >= 70, `warning` >= 50, else `critical`.
//!
//! Two states override the weights, because no average sees them in time: while the latest
//! request failed **authentication** (a wrong password, an IP not whitelisted: nothing will
//! work until a person fixes it), or the latest [`CRITICAL_FAILURE_STREAK`] requests **all
//! failed** (an unreachable host, eMAG down), the score is capped at [`CRITICAL_CAP`], so the
//! status is `critical` at once. One success lifts both.

use serde::Serialize;

use super::alerts::{Alert, AlertThresholds};
use super::metrics::Metrics;

/// Weight of the error-rate component.
pub const WEIGHT_ERRORS: f64 = 40.0;
/// Weight of the latency component.
pub const WEIGHT_LATENCY: f64 = 20.0;
/// Weight of the sync component.
pub const WEIGHT_SYNC: f64 = 25.0;
/// Weight of the rate-limit component.
pub const WEIGHT_RATE_LIMITS: f64 = 15.0;

/// Failed requests in a row that make the integration critical whatever else it scores.
pub const CRITICAL_FAILURE_STREAK: u64 = 5;
/// The score's ceiling while authentication fails or the failure streak lasts.
pub const CRITICAL_CAP: f64 = 40.0;

/// The overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Score >= 90.
    Healthy,
    /// Score >= 70.
    Degraded,
    /// Score >= 50.
    Warning,
    /// Score < 50.
    Critical,
}

impl HealthStatus {
    /// The status for a score.
    pub fn from_score(score: f64) -> HealthStatus {
        if score >= 90.0 {
            HealthStatus::Healthy
        } else if score >= 70.0 {
            HealthStatus::Degraded
        } else if score >= 50.0 {
            HealthStatus::Warning
        } else {
            HealthStatus::Critical
        }
    }

    /// `"healthy"`, `"degraded"`, `"warning"` or `"critical"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Warning => "warning",
            HealthStatus::Critical => "critical",
        }
    }

    /// Every status, best first.
    pub const ALL: [HealthStatus; 4] = [
        HealthStatus::Healthy,
        HealthStatus::Degraded,
        HealthStatus::Warning,
        HealthStatus::Critical,
    ];
}

/// The health report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// The status band of the score.
    pub status: HealthStatus,
    /// 0-100, one decimal.
    pub health_score: f64,
    /// The metrics the score was computed from.
    pub metrics: Metrics,
    /// Alerts raised now.
    pub alerts: Vec<Alert>,
    /// When the report was made (UTC, ISO-8601).
    pub timestamp: String,
}

fn clamp01(x: f64) -> f64 {
    if x.is_nan() {
        1.0
    } else {
        x.clamp(0.0, 1.0)
    }
}

/// The score (0-100, one decimal) of these metrics.
pub fn score(m: &Metrics, t: &AlertThresholds) -> f64 {
    let confidence = if m.requests == 0 {
        0.0
    } else {
        (m.requests as f64 / t.min_samples.max(1) as f64).min(1.0)
    };
    let errors = 1.0 - clamp01(m.error_rate / (2.0 * t.error_rate)) * confidence;
    let latency = match m.latency_ms.p95 {
        Some(p95) => {
            let bad = clamp01((p95 - 0.5 * t.p95_latency_ms) / t.p95_latency_ms);
            1.0 - bad * confidence
        }
        None => 1.0,
    };
    let sync = match m.sync.success_rate {
        Some(rate) => 1.0 - clamp01((1.0 - rate) / (2.0 * (1.0 - t.sync_success_rate))),
        None => 1.0,
    };
    let usage = m
        .rate_limits
        .values()
        .map(|b| b.usage)
        .fold(0.0_f64, f64::max);
    let mut limits = if usage <= t.rate_limit_usage {
        1.0
    } else if t.rate_limit_usage >= 1.0 {
        0.0
    } else {
        1.0 - clamp01((usage - t.rate_limit_usage) / (1.0 - t.rate_limit_usage))
    };
    if m.rate_limited > 0 {
        limits = limits.min(0.5);
    }
    let mut total = WEIGHT_ERRORS * errors
        + WEIGHT_LATENCY * latency
        + WEIGHT_SYNC * sync
        + WEIGHT_RATE_LIMITS * limits;
    if m.authentication_failing || m.consecutive_failures >= CRITICAL_FAILURE_STREAK {
        total = total.min(CRITICAL_CAP);
    }
    (total.clamp(0.0, 100.0) * 10.0).round() / 10.0
}
