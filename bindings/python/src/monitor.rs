//! `Monitor`: a thin wrapper over `magflow_emag::monitor::Monitor`. Reads run with the GIL
//! released; alert callbacks are Python callables, called with the GIL held and outside the
//! monitor's locks; an exception they raise is logged (logger `magflow_emag.monitor`),
//! never propagated into Rust.

use std::sync::Arc;
use std::time::Duration;

use magflow_emag::monitor::{AlertThresholds, Monitor, MonitorConfig};
use magflow_emag::{Bucket, Error};
use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::errors::IntoPy;

/// A serializable core value as Python dicts and lists.
macro_rules! to_py {
    ($py:expr, $value:expr) => {
        Ok(pythonize::pythonize($py, $value)?.unbind())
    };
}

fn non_negative(name: &str, v: i64) -> PyResult<u64> {
    u64::try_from(v)
        .map_err(|_| Error::invalid_argument(format!("{name} must be >= 0, got {v}")))
        .py()
}

/// Request metrics over a sliding window, alerts with hysteresis, a health score and
/// Prometheus text. Thread-safe; share one per process (or per client).
#[pyclass(name = "Monitor", module = "magflow_emag._native", frozen)]
pub struct PyMonitor {
    pub(crate) inner: Arc<Monitor>,
}

impl PyMonitor {
    /// The core monitor (for a client to feed).
    pub fn core(&self) -> Arc<Monitor> {
        self.inner.clone()
    }

    /// A Python face for a monitor a client already owns.
    pub fn wrap(inner: Arc<Monitor>) -> Self {
        PyMonitor { inner }
    }
}

#[pymethods]
impl PyMonitor {
    #[new]
    #[pyo3(signature = (
        window_seconds = 300,
        *,
        slot_seconds = None,
        sync_window_seconds = 3600,
        history_limit = 100,
        error_rate = 0.05,
        p95_latency_ms = 2000.0,
        rate_limit_usage = 0.8,
        sync_success_rate = 0.95,
        min_samples = 20,
        clear_ratio = 0.8
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        #[pyo3(from_py_with = crate::args::window_seconds)] window_seconds: i64,
        #[pyo3(from_py_with = crate::args::slot_seconds)] slot_seconds: Option<i64>,
        #[pyo3(from_py_with = crate::args::sync_window_seconds)] sync_window_seconds: i64,
        #[pyo3(from_py_with = crate::args::history_limit)] history_limit: i64,
        error_rate: f64,
        p95_latency_ms: f64,
        rate_limit_usage: f64,
        sync_success_rate: f64,
        #[pyo3(from_py_with = crate::args::min_samples)] min_samples: i64,
        clear_ratio: f64,
    ) -> PyResult<Self> {
        let config = {
            let mut o = MonitorConfig::default();
            o.window_seconds = non_negative("window_seconds", window_seconds)?;
            o.slot_seconds = slot_seconds
                .map(|s| non_negative("slot_seconds", s))
                .transpose()?;
            o.sync_window_seconds = non_negative("sync_window_seconds", sync_window_seconds)?;
            o.history_limit = usize::try_from(non_negative("history_limit", history_limit)?)
                .unwrap_or(usize::MAX);
            o.thresholds = AlertThresholds {
                error_rate,
                p95_latency_ms,
                rate_limit_usage,
                sync_success_rate,
                min_samples: non_negative("min_samples", min_samples)?,
                clear_ratio,
            };
            o
        };
        Ok(PyMonitor {
            inner: Arc::new(Monitor::new(config).py()?),
        })
    }

    /// Record one request (`latency_ms` >= 0), optionally with its route.
    #[pyo3(signature = (latency_ms, success, resource = None, action = None))]
    fn record(
        &self,
        latency_ms: f64,
        success: bool,
        resource: Option<&str>,
        action: Option<&str>,
    ) -> PyResult<()> {
        self.inner
            .record_with(resource, action, latency_ms, success)
            .py()
    }

    /// Note the usage ratio (0-1) of a quota bucket (`"orders"` or `"other"`).
    fn record_rate_limit_usage(&self, bucket: &str, ratio: f64) -> PyResult<()> {
        let bucket: Bucket = bucket.parse().py()?;
        self.inner.record_rate_limit_usage(bucket, ratio).py()
    }

    /// Count a rate-limited (HTTP 429) answer in a bucket.
    fn record_429(&self, bucket: &str) -> PyResult<()> {
        let bucket: Bucket = bucket.parse().py()?;
        self.inner.record_429(bucket);
        Ok(())
    }

    /// Record a finished sync run.
    #[pyo3(signature = (kind, success, duration_seconds = 0.0, items = 0))]
    fn record_sync(
        &self,
        kind: &str,
        success: bool,
        duration_seconds: f64,
        #[pyo3(from_py_with = crate::args::items)] items: i64,
    ) -> PyResult<()> {
        let duration = Duration::try_from_secs_f64(duration_seconds)
            .map_err(|_| {
                Error::invalid_argument(format!(
                    "duration_seconds must be a finite number >= 0, got {duration_seconds}"
                ))
            })
            .py()?;
        let items = non_negative("items", items)?;
        self.inner.record_sync(kind, success, duration, items);
        Ok(())
    }

    /// The metrics of the window, as a dict (evaluates alerts).
    fn metrics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inner = self.inner.clone();
        let m = py.detach(move || inner.metrics());
        to_py!(py, &m)
    }

    /// `{status, health_score, metrics, alerts, timestamp}` (evaluates alerts).
    fn health(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inner = self.inner.clone();
        let h = py.detach(move || inner.health());
        to_py!(py, &h)
    }

    /// The Prometheus text exposition (evaluates alerts).
    fn prometheus(&self, py: Python<'_>) -> String {
        let inner = self.inner.clone();
        py.detach(move || inner.prometheus())
    }

    /// Evaluate alerts now; the transitions, as dicts.
    fn evaluate(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inner = self.inner.clone();
        let events = py.detach(move || inner.evaluate());
        to_py!(py, &events)
    }

    /// The alerts raised now, as dicts.
    fn alerts(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py!(py, &self.inner.active_alerts())
    }

    /// The alert transitions kept, oldest first, as dicts.
    fn alert_history(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py!(py, &self.inner.alert_history())
    }

    /// Call `callback(event: dict)` on every alert transition (raised or cleared). An
    /// exception it raises is logged, not propagated.
    fn on_alert(&self, callback: Bound<'_, PyAny>) -> PyResult<()> {
        if !callback.is_callable() {
            return Err(Error::invalid_argument("on_alert needs a callable")).py();
        }
        let callback: Py<PyAny> = callback.unbind();
        self.inner.on_alert(move |event| {
            crate::lifecycle::attach_unless_finishing(|py| {
                let result = pythonize::pythonize(py, event)
                    .map_err(PyErr::from)
                    .and_then(|dict| callback.call1(py, (dict,)));
                if let Err(err) = result {
                    let tb = err
                        .traceback(py)
                        .and_then(|t| t.format().ok())
                        .unwrap_or_default();
                    log::error!(
                        target: "magflow_emag::monitor",
                        "alert callback raised {err} on {} {}\n{tb}",
                        event.alert.name.as_str(),
                        if event.state == magflow_emag::monitor::Transition::Raised {
                            "raised"
                        } else {
                            "cleared"
                        }
                    );
                }
            });
        });
        Ok(())
    }

    /// Forget every measurement, alert state and the history.
    fn reset(&self, py: Python<'_>) {
        let inner = self.inner.clone();
        py.detach(move || inner.reset());
    }

    /// The configured window, seconds.
    #[getter]
    fn window_seconds(&self) -> u64 {
        self.inner.config().window_seconds
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Monitor(window_seconds={}, slot_seconds={})",
            c.window_seconds,
            c.effective_slot_seconds()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMonitor>()
}
