//! `RateLimiter`: a thin wrapper over `magflow_emag::ratelimit::RateLimiter`.

use std::path::PathBuf;
use std::time::Duration;

use magflow_emag::ratelimit::{
    self as core, BackendKind, Quota, RateLimiterConfig, RedisFallback, SecretUrl,
};
use magflow_emag::{Bucket, Error};
use pyo3::prelude::*;

use crate::aio;
use crate::errors::IntoPy;

fn bucket(name: &str) -> PyResult<Bucket> {
    name.parse::<Bucket>().py()
}

fn timeout(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    seconds
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                Error::invalid_argument(format!(
                    "timeout must be a non-negative number of seconds or None (got {s})"
                ))
            })
        })
        .transpose()
        .py()
}

/// eMAG's rate limits, shared by this process (`"local"`), every process on the host naming
/// the same `path` (`"host"`), or every process using the same Redis server and account
/// (`"redis"`). Requests are spaced evenly so that no sliding window exceeds a quota.
#[pyclass(name = "RateLimiter", module = "magflow_emag._native", frozen)]
pub struct PyRateLimiter {
    /// The core limiter (the client binding takes it from here).
    pub(crate) inner: core::RateLimiter,
}

#[pymethods]
impl PyRateLimiter {
    #[new]
    #[pyo3(signature = (
        backend = "local", path = None, redis_url = None, *, account = "default",
        key_prefix = None, orders_per_second = 12, orders_per_minute = 720,
        other_per_second = 3, other_per_minute = 180, safety_margin = 0.01,
        redis_fallback = "fail", redis_timeout = 2.0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        backend: &str,
        path: Option<PathBuf>,
        redis_url: Option<String>,
        account: &str,
        key_prefix: Option<String>,
        #[pyo3(from_py_with = crate::args::orders_per_second)] orders_per_second: u32,
        #[pyo3(from_py_with = crate::args::orders_per_minute)] orders_per_minute: u32,
        #[pyo3(from_py_with = crate::args::other_per_second)] other_per_second: u32,
        #[pyo3(from_py_with = crate::args::other_per_minute)] other_per_minute: u32,
        safety_margin: f64,
        redis_fallback: &str,
        redis_timeout: f64,
    ) -> PyResult<Self> {
        let defaults = RateLimiterConfig::default();
        let config = {
            let mut o = RateLimiterConfig::default();
            o.backend = backend.parse::<BackendKind>().py()?;
            o.path = path;
            o.redis_url = redis_url.map(SecretUrl::new);
            o.key_prefix = key_prefix.unwrap_or(defaults.key_prefix);
            o.account = account.to_owned();
            o.orders = Quota {
                per_second: orders_per_second,
                per_minute: orders_per_minute,
            };
            o.other = Quota {
                per_second: other_per_second,
                per_minute: other_per_minute,
            };
            o.safety_margin = safety_margin;
            o.redis_fallback = redis_fallback.parse::<RedisFallback>().py()?;
            o.redis_timeout_s = redis_timeout;
            o
        };
        Ok(PyRateLimiter {
            inner: core::RateLimiter::new(config).py()?,
        })
    }

    /// Wait (GIL released) for a permit in `bucket` ("orders" or "other"). With `timeout`
    /// (seconds), raise RateLimitError at once, consuming nothing, when the wait would be
    /// longer; its `remaining_seconds` says how long. Returns the seconds waited.
    #[pyo3(signature = (bucket = "other", timeout = None))]
    fn acquire(&self, py: Python<'_>, bucket: &str, timeout: Option<f64>) -> PyResult<f64> {
        let bucket = self::bucket(bucket)?;
        let timeout = self::timeout(timeout)?;
        let inner = &self.inner;
        aio::blocking(py, move || inner.acquire_blocking(bucket, timeout)).map(|d| d.as_secs_f64())
    }

    /// `acquire` as an awaitable.
    #[pyo3(signature = (bucket = "other", timeout = None))]
    fn acquire_async<'py>(
        &self,
        py: Python<'py>,
        bucket: &str,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let bucket = self::bucket(bucket)?;
        let timeout = self::timeout(timeout)?;
        let inner = self.inner.clone();
        aio::awaitable(py, async move {
            inner
                .acquire(bucket, timeout)
                .await
                .map(|d| d.as_secs_f64())
                .py()
        })
    }

    /// Take a permit only if one is free right now.
    #[pyo3(signature = (bucket = "other"))]
    fn try_acquire(&self, py: Python<'_>, bucket: &str) -> PyResult<bool> {
        let bucket = self::bucket(bucket)?;
        let inner = &self.inner;
        aio::blocking(py, move || inner.try_acquire_blocking(bucket))
    }

    /// The server answered 429: hold `bucket` for `wait` seconds for every sharer.
    #[pyo3(signature = (bucket, wait = 1.0))]
    fn on_rate_limited(&self, py: Python<'_>, bucket: &str, wait: f64) -> PyResult<()> {
        let bucket = self::bucket(bucket)?;
        let wait = self::timeout(Some(wait))?.unwrap_or_default();
        let inner = self.inner.clone();
        aio::blocking(py, move || inner.hold_blocking(bucket, wait))
    }

    /// Counters and usage per bucket: {"backend": ..., "orders": {...}, "other": {...}}.
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inner = self.inner.clone();
        let stats = py.detach(move || inner.stats());
        let value = serde_json::to_value(&stats)
            .map_err(|e| Error::internal(format!("stats: {e}")))
            .py()?;
        Ok(pythonize::pythonize(py, &value)?.unbind())
    }

    /// Zero the counters (the shared limiter state is untouched).
    fn reset_stats(&self) {
        self.inner.reset_stats();
    }

    /// The backend name.
    #[getter]
    fn backend(&self) -> &'static str {
        self.inner.config().backend.as_str()
    }

    fn __repr__(&self) -> String {
        self.inner.describe()
    }
}

/// A deterministic start offset (seconds) for a scheduled job, so it does not fire at round
/// clock times (eMAG's advice).
#[pyfunction]
#[pyo3(signature = (job_name, period = 3600.0))]
fn scheduled_start_offset(job_name: &str, period: f64) -> PyResult<f64> {
    let period = Duration::try_from_secs_f64(period)
        .map_err(|_| Error::invalid_argument("period must be a non-negative number of seconds"))
        .py()?;
    Ok(core::scheduled_start_offset(job_name, period).as_secs_f64())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRateLimiter>()?;
    m.add_function(wrap_pyfunction!(scheduled_start_offset, m)?)?;
    Ok(())
}
