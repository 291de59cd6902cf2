//! Monitoring of the eMAG integration: request metrics over a sliding window, a latency
//! histogram, alerts with hysteresis, a health score and Prometheus text.
//!
//! A [`Monitor`] is fed by the client (it implements [`RequestObserver`], so a client can
//! hold it as an `Arc<Monitor>` / `Arc<dyn RequestObserver>`), by the rate limiter
//! ([`Monitor::record_rate_limit_usage`], [`Monitor::record_429`]) and by the sync
//! ([`Monitor::record_sync`]); or directly with [`Monitor::record`].
//!
//! Writes are cheap (one mostly uncontended lock of a per-thread shard, no allocation after
//! the first request of a route) and never evaluate alerts. Reads ([`Monitor::metrics`],
//! [`Monitor::health`], [`Monitor::prometheus`], [`Monitor::evaluate`]) merge the window and
//! then evaluate the alerts, calling alert callbacks outside every lock.
//!
//! ```
//! use std::time::Duration;
//! use magflow_emag::monitor::{HealthStatus, Monitor, MonitorConfig};
//!
//! let monitor = Monitor::new(MonitorConfig::default()).unwrap();
//! assert_eq!(monitor.health().status, HealthStatus::Healthy); // no traffic is healthy
//! for _ in 0..100 {
//!     monitor.record_request("order", "read", Duration::from_millis(120), true);
//! }
//! monitor.record(3000.0, false).unwrap();
//! let m = monitor.metrics();
//! assert_eq!((m.requests, m.errors), (101, 1));
//! assert!(monitor.prometheus().contains("magflow_emag_requests_total{resource=\"order\""));
//! ```

mod alerts;
mod health;
mod metrics;
mod monitor_clock;
mod prometheus;
mod sync;
mod window;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use alerts::{
    Alert, AlertCallback, AlertEvent, AlertName, AlertThresholds, Severity, Transition,
};
pub use health::{
    Health, HealthStatus, CRITICAL_CAP, CRITICAL_FAILURE_STREAK, WEIGHT_ERRORS, WEIGHT_LATENCY,
    WEIGHT_RATE_LIMITS, WEIGHT_SYNC,
};
pub use metrics::{BucketMetrics, EndpointMetrics, LatencyStats, Metrics};
pub use monitor_clock::{Clock, ManualClock, SystemClock};
pub use sync::{SyncKindTotals, SyncMetrics, SyncRun};

use crate::error::{Error, Result};
use crate::hooks::{RequestEvent, RequestObserver};
use crate::ratelimit::Bucket;
use window::{Sample, Window};

/// Most slots a window may have (bounds memory).
const MAX_SLOTS: u64 = 3600;

/// Monitor settings. Every field has a default, so `{}` is a valid JSON configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MonitorConfig {
    /// Length of the sliding window, seconds (default 300).
    pub window_seconds: u64,
    /// Granularity of the window, seconds; must divide `window_seconds`. `None` (default)
    /// picks the smallest of 1, 2, 5, 10, 30, 60 that divides the window into at most 30
    /// slots (10 s for 5 minutes), else the largest of them that divides it.
    pub slot_seconds: Option<u64>,
    /// Window of the sync success rate, seconds (default 3600).
    pub sync_window_seconds: u64,
    /// Alert transitions kept in the history (default 100).
    pub history_limit: usize,
    /// Alert thresholds and hysteresis.
    pub thresholds: AlertThresholds,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            window_seconds: 300,
            slot_seconds: None,
            sync_window_seconds: 3600,
            history_limit: 100,
            thresholds: AlertThresholds::default(),
        }
    }
}

impl MonitorConfig {
    /// Parse a JSON configuration (unknown fields are refused).
    pub fn from_json(json: &str) -> Result<Self> {
        let config: MonitorConfig = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("invalid monitor config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// The slot length in seconds, as configured or chosen.
    pub fn effective_slot_seconds(&self) -> u64 {
        if let Some(s) = self.slot_seconds {
            return s;
        }
        const CANDIDATES: [u64; 6] = [1, 2, 5, 10, 30, 60];
        let w = self.window_seconds.max(1);
        CANDIDATES
            .iter()
            .copied()
            .find(|d| w % d == 0 && w / d <= 30)
            .or_else(|| CANDIDATES.iter().rev().copied().find(|d| w % d == 0))
            .unwrap_or(1)
    }

    /// Check every value is in range.
    pub fn validate(&self) -> Result<()> {
        if self.window_seconds == 0 {
            return Err(Error::invalid_argument("window_seconds must be at least 1"));
        }
        let slot = self.effective_slot_seconds();
        if slot == 0 || slot > self.window_seconds || self.window_seconds % slot != 0 {
            return Err(Error::invalid_argument(format!(
                "slot_seconds ({slot}) must be at least 1 and divide window_seconds ({})",
                self.window_seconds
            )));
        }
        if self.window_seconds / slot > MAX_SLOTS {
            return Err(Error::invalid_argument(format!(
                "window_seconds / slot_seconds must be at most {MAX_SLOTS}: use a larger slot_seconds"
            )));
        }
        if self.sync_window_seconds == 0 {
            return Err(Error::invalid_argument(
                "sync_window_seconds must be at least 1",
            ));
        }
        if !(1..=100_000).contains(&self.history_limit) {
            return Err(Error::invalid_argument(format!(
                "history_limit must be between 1 and 100000, got {}",
                self.history_limit
            )));
        }
        self.thresholds.validate()
    }
}

/// The monitor. Thread-safe; share it as an `Arc<Monitor>`.
pub struct Monitor {
    config: MonitorConfig,
    slot: Duration,
    n: u64,
    clock: Arc<dyn Clock>,
    window: Window,
    sync: SyncLog,
    alerts: alerts::AlertEngine,
    /// Monotonic nanoseconds of the start or the last reset.
    started: AtomicU64,
    /// Polled before every read: the quota usage of attached rate limiters.
    usage_sources: std::sync::Mutex<Vec<UsageSource>>,
    /// Failed requests since the last success (any kind).
    failure_streak: AtomicU64,
    /// The latest failure was an authentication failure and nothing succeeded since.
    authentication_failing: std::sync::atomic::AtomicBool,
}

/// A source of quota usage (`(bucket, fraction of the quota)`), polled when metrics are read;
/// see [`Monitor::add_usage_source`].
pub type UsageSource = Arc<dyn Fn() -> Vec<(Bucket, f64)> + Send + Sync>;

use sync::SyncLog;

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn latency_us_from_ms(latency_ms: f64) -> Result<u64> {
    if !latency_ms.is_finite() || latency_ms < 0.0 {
        return Err(Error::invalid_argument(format!(
            "latency_ms must be a finite number >= 0, got {latency_ms}"
        )));
    }
    // `as` saturates for values beyond u64 (the histogram saturates at 10 min anyway).
    Ok((latency_ms * 1000.0).round() as u64)
}

impl Monitor {
    /// A monitor on the system clocks.
    pub fn new(config: MonitorConfig) -> Result<Monitor> {
        Monitor::with_clock(config, Arc::new(SystemClock::new()))
    }

    /// A monitor reading time from `clock` (e.g. a [`ManualClock`] in tests).
    pub fn with_clock(config: MonitorConfig, clock: Arc<dyn Clock>) -> Result<Monitor> {
        config.validate()?;
        let slot_s = config.effective_slot_seconds();
        let n = config.window_seconds / slot_s;
        let slot = Duration::from_secs(slot_s);
        let started = AtomicU64::new(nanos(clock.monotonic()));
        Ok(Monitor {
            window: Window::new(n as usize, slot),
            sync: SyncLog::new(Duration::from_secs(config.sync_window_seconds)),
            alerts: alerts::AlertEngine::new(config.history_limit, config.thresholds.clear_ratio),
            config,
            slot,
            n,
            clock,
            started,
            usage_sources: std::sync::Mutex::new(Vec::new()),
            failure_streak: AtomicU64::new(0),
            authentication_failing: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Poll `source` for quota usage whenever metrics, health or Prometheus text are read
    /// (the client attaches its rate limiter this way, so the hot path pays nothing).
    pub fn add_usage_source(&self, source: UsageSource) {
        if let Ok(mut sources) = self.usage_sources.lock() {
            sources.push(source);
        }
    }

    fn poll_usage_sources(&self) {
        let sources: Vec<UsageSource> = match self.usage_sources.lock() {
            Ok(s) => s.clone(),
            Err(_) => return,
        };
        for source in sources {
            for (bucket, ratio) in source() {
                // A source reporting nonsense must not break a health read.
                let _ = self.record_rate_limit_usage(bucket, ratio);
            }
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// Record one request without a route: `latency_ms` must be finite and >= 0.
    pub fn record(&self, latency_ms: f64, success: bool) -> Result<()> {
        self.record_with(None, None, latency_ms, success)
    }

    /// Record one request, with its route when known (an absent part is recorded as "").
    pub fn record_with(
        &self,
        resource: Option<&str>,
        action: Option<&str>,
        latency_ms: f64,
        success: bool,
    ) -> Result<()> {
        let latency_us = latency_us_from_ms(latency_ms)?;
        let outcome = if success { 0 } else { window::generic_error() };
        self.push(
            resource.unwrap_or(""),
            action.unwrap_or(""),
            latency_us,
            outcome,
            None,
            None,
            0,
        );
        Ok(())
    }

    /// Record one request of a route.
    pub fn record_request(&self, resource: &str, action: &str, latency: Duration, success: bool) {
        let outcome = if success { 0 } else { window::generic_error() };
        self.push(resource, action, micros(latency), outcome, None, None, 0);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &self,
        resource: &str,
        action: &str,
        latency_us: u64,
        outcome: usize,
        bucket: Option<Bucket>,
        http_status: Option<u16>,
        attempt: u32,
    ) {
        if outcome == 0 {
            self.failure_streak.store(0, Ordering::Relaxed);
            self.authentication_failing.store(false, Ordering::Relaxed);
        } else {
            self.failure_streak.fetch_add(1, Ordering::Relaxed);
            self.authentication_failing.store(
                outcome
                    == window::outcome_index(crate::hooks::Outcome::Error(
                        crate::error::ErrorKind::Authentication,
                    )),
                Ordering::Relaxed,
            );
        }
        let sample = Sample {
            key: Some((resource, action)),
            outcome,
            latency_us,
            bucket,
            rate_limited: http_status == Some(429),
            retry: attempt > 0,
        };
        self.window.record(self.clock.monotonic(), &sample);
    }

    /// Note the usage of a quota (0 = idle, 1 = exhausted), as the rate limiter sees it.
    /// The latest value within the window is the bucket's current usage.
    pub fn record_rate_limit_usage(&self, bucket: Bucket, ratio: f64) -> Result<()> {
        if !ratio.is_finite() || ratio < 0.0 {
            return Err(Error::invalid_argument(format!(
                "rate-limit usage must be a finite ratio >= 0, got {ratio}"
            )));
        }
        self.window
            .record_usage(self.clock.monotonic(), bucket, ratio);
        Ok(())
    }

    /// Count a rate-limited answer that the request observer did not see. HTTP 429 answers
    /// observed through [`RequestObserver::observe`] are already counted: calling this for
    /// them too would count them twice.
    pub fn record_429(&self, bucket: Bucket) {
        self.window.record_429(self.clock.monotonic(), bucket);
    }

    /// Record a finished sync run.
    pub fn record_sync(&self, kind: &str, success: bool, duration: Duration, items: u64) {
        let run = SyncRun {
            kind: kind.to_owned(),
            success,
            duration_seconds: duration.as_secs_f64(),
            items,
            at: monitor_clock::iso8601(self.clock.utc()),
        };
        self.sync.record(self.clock.monotonic(), run);
    }

    /// Register a callback told about every alert transition (raised or cleared). It runs
    /// on the thread that read the metrics, outside the monitor's locks; a panic in it is
    /// caught and logged.
    pub fn on_alert<F>(&self, callback: F)
    where
        F: Fn(&AlertEvent) + Send + Sync + 'static,
    {
        self.alerts.add_callback(Arc::new(callback));
    }

    /// Read the window into metrics, with the cumulative totals.
    fn collect(&self) -> (Metrics, window::Totals) {
        self.poll_usage_sources();
        let now = self.clock.monotonic();
        let mut read = self.window.read(now, true);
        let now_ns = nanos(now);
        let started = self.started.load(Ordering::Relaxed).min(now_ns);
        let slot_ns = nanos(self.slot).max(1);
        let t = now_ns / slot_ns;
        let window_start = t.saturating_sub(self.n.saturating_sub(1)) * slot_ns;
        let covered = now_ns - started.max(window_start.min(now_ns));
        let sync = self.sync.metrics(now);
        let mut metrics = metrics::build(
            &read,
            self.config.window_seconds as f64,
            covered as f64 / 1e9,
            (now_ns - started) as f64 / 1e9,
            sync,
        );
        metrics.consecutive_failures = self.failure_streak.load(Ordering::Relaxed);
        metrics.authentication_failing = self.authentication_failing.load(Ordering::Relaxed);
        let totals = read.totals.take().unwrap_or_default();
        (metrics, totals)
    }

    fn run_alerts(&self, m: &Metrics) -> Vec<AlertEvent> {
        let now = monitor_clock::iso8601(self.clock.utc());
        let events = self
            .alerts
            .apply(&alerts::checks(m, &self.config.thresholds), &now);
        self.alerts.dispatch(&events);
        events
    }

    /// The metrics of the window (alerts are evaluated as a side effect).
    pub fn metrics(&self) -> Metrics {
        let (m, _) = self.collect();
        self.run_alerts(&m);
        m
    }

    /// Evaluate the alerts now; returns the transitions (also given to the callbacks).
    pub fn evaluate(&self) -> Vec<AlertEvent> {
        let (m, _) = self.collect();
        self.run_alerts(&m)
    }

    /// The health report: status, score, metrics, raised alerts, timestamp.
    pub fn health(&self) -> Health {
        let (metrics, _) = self.collect();
        self.run_alerts(&metrics);
        let score = health::score(&metrics, &self.config.thresholds);
        Health {
            status: HealthStatus::from_score(score),
            health_score: score,
            alerts: self.alerts.active(),
            metrics,
            timestamp: monitor_clock::iso8601(self.clock.utc()),
        }
    }

    /// Alerts raised now (as of the last evaluation).
    pub fn active_alerts(&self) -> Vec<Alert> {
        self.alerts.active()
    }

    /// The alert transitions kept (oldest first, at most `history_limit`).
    pub fn alert_history(&self) -> Vec<AlertEvent> {
        self.alerts.history()
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self) -> String {
        let (metrics, totals) = self.collect();
        self.run_alerts(&metrics);
        let score = health::score(&metrics, &self.config.thresholds);
        let alerts = self.alerts.active();
        let sync_totals = self.sync.totals();
        prometheus::render(&prometheus::Exposition {
            metrics: &metrics,
            totals: &totals,
            sync_totals: &sync_totals,
            score,
            status: HealthStatus::from_score(score),
            alerts: &alerts,
        })
    }

    /// Forget every measurement, alert state and the history (configuration and callbacks
    /// stay). No callback is told about alerts dropped this way.
    pub fn reset(&self) {
        self.window.reset();
        self.sync.reset();
        self.alerts.reset();
        self.failure_streak.store(0, Ordering::Relaxed);
        self.authentication_failing.store(false, Ordering::Relaxed);
        self.started
            .store(nanos(self.clock.monotonic()), Ordering::Relaxed);
    }
}

impl RequestObserver for Monitor {
    fn observe(&self, event: &RequestEvent<'_>) {
        let outcome = window::outcome_index(event.outcome);
        self.push(
            event.resource,
            event.action,
            micros(event.latency),
            outcome,
            Some(event.bucket),
            event.http_status,
            event.attempt,
        );
    }
}

/// The prometheus label escaping, for tests of the exposition.
#[doc(hidden)]
pub fn escape_label_value(v: &str) -> String {
    prometheus::escape_label(v)
}
