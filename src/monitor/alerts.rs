//! Alerts: thresholds, hysteresis, transitions, a bounded history and callbacks.
//!
//! Each alert is a small state machine (clear <-> raised) fed by a reading of the metrics.
//! Hysteresis keeps it from flapping around its threshold:
//! - it is **raised** when the measured badness is above the threshold, and (for the
//!   request-based alerts) the window holds at least `min_samples` requests;
//! - it is **cleared** only when the badness falls below `clear_ratio` (default 0.8) times
//!   the threshold (again with at least `min_samples` requests), or when the window holds
//!   no data at all (no traffic is not a failure); between the two, and with fewer than
//!   `min_samples` requests, it keeps its state.
//!
//! "Badness" is the value itself for error rate, p95 latency and quota usage, and the
//! failure rate (1 - success rate) for syncs, so a 95 % success threshold raises below 95 %
//! and clears above 96 %.
//!
//! Transitions are appended to a bounded history and handed to the callbacks **after** the
//! state lock is released, so a callback may read the monitor again; a panicking callback is
//! caught and logged.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Alert thresholds and hysteresis settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertThresholds {
    /// Raise "high_error_rate" above this share of failed requests (default 0.05).
    pub error_rate: f64,
    /// Raise "slow_responses" when p95 latency exceeds this many milliseconds (default 2000).
    pub p95_latency_ms: f64,
    /// Raise "rate_limit_warning" when a quota's usage exceeds this ratio (default 0.8).
    pub rate_limit_usage: f64,
    /// Raise "sync_failure" when the sync success rate falls below this (default 0.95).
    pub sync_success_rate: f64,
    /// Requests the window must hold before a request-based alert may be raised (default 20).
    pub min_samples: u64,
    /// A raised alert clears once its badness is below `clear_ratio * threshold`
    /// (default 0.8).
    pub clear_ratio: f64,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        AlertThresholds {
            error_rate: 0.05,
            p95_latency_ms: 2000.0,
            rate_limit_usage: 0.8,
            sync_success_rate: 0.95,
            min_samples: 20,
            clear_ratio: 0.8,
        }
    }
}

impl AlertThresholds {
    /// Check every value is in range.
    pub fn validate(&self) -> Result<()> {
        fn ratio(name: &str, v: f64, max_inclusive: bool) -> Result<()> {
            let ok = v.is_finite() && v > 0.0 && (v < 1.0 || (max_inclusive && v == 1.0));
            if ok {
                Ok(())
            } else {
                let range = if max_inclusive { "(0, 1]" } else { "(0, 1)" };
                Err(Error::invalid_argument(format!(
                    "{name} must be in {range}, got {v}"
                )))
            }
        }
        ratio("error_rate", self.error_rate, true)?;
        ratio("rate_limit_usage", self.rate_limit_usage, true)?;
        ratio("sync_success_rate", self.sync_success_rate, false)?;
        ratio("clear_ratio", self.clear_ratio, true)?;
        if !(self.p95_latency_ms.is_finite() && self.p95_latency_ms > 0.0) {
            return Err(Error::invalid_argument(format!(
                "p95_latency_ms must be a positive number, got {}",
                self.p95_latency_ms
            )));
        }
        Ok(())
    }
}

/// Which alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertName {
    /// Error rate above `error_rate`.
    HighErrorRate,
    /// p95 latency above `p95_latency_ms`.
    SlowResponses,
    /// A quota's usage above `rate_limit_usage` (one alert per bucket).
    RateLimitWarning,
    /// Sync success rate below `sync_success_rate`.
    SyncFailure,
}

impl AlertName {
    /// Every alert.
    pub const ALL: [AlertName; 4] = [
        AlertName::HighErrorRate,
        AlertName::SlowResponses,
        AlertName::RateLimitWarning,
        AlertName::SyncFailure,
    ];

    /// `"high_error_rate"`, `"slow_responses"`, `"rate_limit_warning"`, `"sync_failure"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertName::HighErrorRate => "high_error_rate",
            AlertName::SlowResponses => "slow_responses",
            AlertName::RateLimitWarning => "rate_limit_warning",
            AlertName::SyncFailure => "sync_failure",
        }
    }

    fn severity(self) -> Severity {
        match self {
            AlertName::HighErrorRate | AlertName::SyncFailure => Severity::Critical,
            AlertName::SlowResponses | AlertName::RateLimitWarning => Severity::Warning,
        }
    }
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// Requests or syncs are failing.
    Critical,
}

/// A raised alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Which alert.
    pub name: AlertName,
    /// What it is about, when there are several of its kind (the bucket for quota alerts).
    pub subject: Option<String>,
    /// How serious.
    pub severity: Severity,
    /// The measured value (ratio, or milliseconds for latency) at the last evaluation;
    /// `None` when the window held no data.
    pub value: Option<f64>,
    /// The configured threshold, in the same unit.
    pub threshold: f64,
    /// A sentence for operators.
    pub message: String,
    /// When it was raised (UTC, ISO-8601).
    pub since: String,
}

/// Raised or cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The condition started.
    Raised,
    /// The condition ended (with hysteresis).
    Cleared,
}

/// One transition of one alert, as kept in the history and handed to callbacks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    /// Increasing number of this transition (orders events delivered concurrently).
    pub seq: u64,
    /// Raised or cleared.
    pub state: Transition,
    /// The alert (for a clear, as it was when it cleared).
    #[serde(flatten)]
    pub alert: Alert,
    /// When the transition was seen (UTC, ISO-8601).
    pub timestamp: String,
}

/// A callback told about every transition.
pub type AlertCallback = Arc<dyn Fn(&AlertEvent) + Send + Sync>;

/// One reading to evaluate an alert on.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub name: AlertName,
    pub subject: Option<&'static str>,
    /// Shown value; `None` when there is no data (clears a raised alert).
    pub value: Option<f64>,
    /// Higher is worse; compared with `limit`.
    pub badness: f64,
    /// The badness above which the alert is raised.
    pub limit: f64,
    /// The threshold as configured (for display).
    pub threshold: f64,
    /// Enough samples to raise.
    pub enough: bool,
}

fn message(name: AlertName, subject: Option<&str>, value: Option<f64>, threshold: f64) -> String {
    let Some(v) = value else {
        return format!("{}: no data in the window", name.as_str());
    };
    match name {
        AlertName::HighErrorRate => format!(
            "error rate {:.1}% (threshold {:.1}%)",
            v * 100.0,
            threshold * 100.0
        ),
        AlertName::SlowResponses => {
            format!("p95 latency {v:.0} ms (threshold {threshold:.0} ms)")
        }
        AlertName::RateLimitWarning => format!(
            "{} quota usage {:.0}% (threshold {:.0}%)",
            subject.unwrap_or("?"),
            v * 100.0,
            threshold * 100.0
        ),
        AlertName::SyncFailure => format!(
            "sync success rate {:.1}% (threshold {:.1}%)",
            v * 100.0,
            threshold * 100.0
        ),
    }
}

type Key = (AlertName, Option<&'static str>);

struct State {
    active: BTreeMap<Key, Alert>,
    history: VecDeque<AlertEvent>,
    seq: u64,
}

/// Alert states, history and callbacks.
pub(crate) struct AlertEngine {
    state: Mutex<State>,
    callbacks: RwLock<Vec<AlertCallback>>,
    history_limit: usize,
    clear_ratio: f64,
}

impl AlertEngine {
    pub fn new(history_limit: usize, clear_ratio: f64) -> Self {
        AlertEngine {
            state: Mutex::new(State {
                active: BTreeMap::new(),
                history: VecDeque::new(),
                seq: 0,
            }),
            callbacks: RwLock::new(Vec::new()),
            history_limit,
            clear_ratio,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Apply the checks; returns the transitions (already in the history). Callbacks are
    /// not called here: see [`AlertEngine::dispatch`].
    pub fn apply(&self, checks: &[Check], now: &str) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        let mut st = self.state();
        for c in checks {
            let key = (c.name, c.subject);
            let msg = message(c.name, c.subject, c.value, c.threshold);
            if let Some(active) = st.active.get_mut(&key) {
                let clear =
                    c.value.is_none() || (c.enough && c.badness < c.limit * self.clear_ratio);
                active.value = c.value;
                active.message = msg;
                if clear {
                    if let Some(alert) = st.active.remove(&key) {
                        events.push((Transition::Cleared, alert));
                    }
                }
            } else if c.enough && c.value.is_some() && c.badness > c.limit {
                let alert = Alert {
                    name: c.name,
                    subject: c.subject.map(str::to_owned),
                    severity: c.name.severity(),
                    value: c.value,
                    threshold: c.threshold,
                    message: msg,
                    since: now.to_owned(),
                };
                st.active.insert(key, alert.clone());
                events.push((Transition::Raised, alert));
            }
        }
        let mut out = Vec::with_capacity(events.len());
        for (state, alert) in events {
            st.seq += 1;
            let event = AlertEvent {
                seq: st.seq,
                state,
                alert,
                timestamp: now.to_owned(),
            };
            st.history.push_back(event.clone());
            while st.history.len() > self.history_limit {
                st.history.pop_front();
            }
            out.push(event);
        }
        out
    }

    /// Hand transitions to the callbacks, outside every lock of the monitor.
    pub fn dispatch(&self, events: &[AlertEvent]) {
        if events.is_empty() {
            return;
        }
        let callbacks: Vec<AlertCallback> = self
            .callbacks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for event in events {
            for cb in &callbacks {
                if catch_unwind(AssertUnwindSafe(|| cb(event))).is_err() {
                    log::error!(
                        "alert callback panicked on {} {:?}; ignored",
                        event.alert.name.as_str(),
                        event.state
                    );
                }
            }
        }
    }

    pub fn add_callback(&self, cb: AlertCallback) {
        self.callbacks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(cb);
    }

    pub fn active(&self) -> Vec<Alert> {
        self.state().active.values().cloned().collect()
    }

    pub fn history(&self) -> Vec<AlertEvent> {
        self.state().history.iter().cloned().collect()
    }

    /// Forget states and history (callbacks stay).
    pub fn reset(&self) {
        let mut st = self.state();
        st.active.clear();
        st.history.clear();
    }
}

/// The readings every alert is evaluated on.
pub(crate) fn checks(m: &super::Metrics, t: &AlertThresholds) -> Vec<Check> {
    let has_requests = m.requests > 0;
    let enough = m.requests >= t.min_samples.max(1);
    let mut out = vec![
        Check {
            name: AlertName::HighErrorRate,
            subject: None,
            value: has_requests.then_some(m.error_rate),
            badness: m.error_rate,
            limit: t.error_rate,
            threshold: t.error_rate,
            enough,
        },
        Check {
            name: AlertName::SlowResponses,
            subject: None,
            value: m.latency_ms.p95,
            badness: m.latency_ms.p95.unwrap_or(0.0),
            limit: t.p95_latency_ms,
            threshold: t.p95_latency_ms,
            enough,
        },
    ];
    for bucket in crate::ratelimit::Bucket::ALL {
        let usage = m.rate_limits.get(bucket.as_str()).map_or(0.0, |b| b.usage);
        out.push(Check {
            name: AlertName::RateLimitWarning,
            subject: Some(bucket.as_str()),
            // Zero usage means the limiter reported nothing in the window: no data.
            value: (usage > 0.0).then_some(usage),
            badness: usage,
            limit: t.rate_limit_usage,
            threshold: t.rate_limit_usage,
            enough: true,
        });
    }
    let rate = m.sync.success_rate;
    out.push(Check {
        name: AlertName::SyncFailure,
        subject: None,
        value: rate,
        badness: rate.map_or(0.0, |r| 1.0 - r),
        limit: 1.0 - t.sync_success_rate,
        threshold: t.sync_success_rate,
        enough: m.sync.runs > 0,
    });
    out
}
