//! The simulator for Python: `magflow_emag._native.Simulator`, wrapped by
//! `magflow_emag.testing.Simulator`. Thin: options become a `SimConfig`, results cross as
//! dicts/lists through `pythonize`; blocking work (seeding, stopping) runs without the GIL.

use std::sync::Mutex;
use std::time::Duration;

use magflow_emag::sim::{CallbackKind, Fault, SimConfig, Simulator};
use magflow_emag::Error;
use pyo3::prelude::*;

use crate::errors::IntoPy;

/// A stateful eMAG API simulator on loopback (not started until `start()`).
#[pyclass(name = "Simulator", module = "magflow_emag._native", frozen)]
pub struct PySimulator {
    config: SimConfig,
    running: Mutex<Option<Simulator>>,
}

fn not_running() -> Error {
    Error::invalid_argument(
        "the simulator is not running: call start() or use it in a `with` block",
    )
}

fn faults(kinds: Option<Vec<String>>) -> magflow_emag::Result<Option<Vec<Fault>>> {
    kinds
        .map(|k| k.iter().map(|s| s.parse::<Fault>()).collect())
        .transpose()
}

impl PySimulator {
    fn with<T>(&self, f: impl FnOnce(&Simulator) -> T) -> PyResult<T> {
        let guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(f).ok_or_else(not_running).py()
    }
}

#[pymethods]
impl PySimulator {
    #[new]
    #[pyo3(signature = (orders = 0, offers = 0, seed = 0, enforce_rate_limits = true,
        rate_limit_scale = 1.0, username = None, password = None, host = None, port = 0,
        now = None, history_days = 180, return_period_days = 14, fault_hold_seconds = 60.0,
        fault_retry_after_seconds = 1, fault_rate = 0.0, fault_seed = 0, fault_kinds = None,
        strict_pagination = true, callback_url = None, callback_kinds = None,
        callback_interval_seconds = 60.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        #[pyo3(from_py_with = crate::args::orders)] orders: usize,
        #[pyo3(from_py_with = crate::args::offers)] offers: usize,
        #[pyo3(from_py_with = crate::args::seed)] seed: u64,
        enforce_rate_limits: bool,
        rate_limit_scale: f64,
        username: Option<String>,
        password: Option<String>,
        host: Option<String>,
        #[pyo3(from_py_with = crate::args::port)] port: u16,
        now: Option<String>,
        #[pyo3(from_py_with = crate::args::history_days)] history_days: u32,
        #[pyo3(from_py_with = crate::args::return_period_days)] return_period_days: u32,
        fault_hold_seconds: f64,
        #[pyo3(from_py_with = crate::args::fault_retry_after_seconds)]
        fault_retry_after_seconds: u64,
        fault_rate: f64,
        #[pyo3(from_py_with = crate::args::fault_seed)] fault_seed: u64,
        #[pyo3(from_py_with = crate::args::fault_kinds)] fault_kinds: Option<Vec<String>>,
        strict_pagination: bool,
        callback_url: Option<String>,
        #[pyo3(from_py_with = crate::args::callback_kinds)] callback_kinds: Option<Vec<String>>,
        callback_interval_seconds: f64,
    ) -> PyResult<Self> {
        let defaults = SimConfig::default();
        let config = SimConfig {
            orders,
            offers,
            seed,
            enforce_rate_limits,
            rate_limit_scale,
            username: username.unwrap_or(defaults.username),
            password: password.unwrap_or(defaults.password),
            host: host.unwrap_or(defaults.host),
            port,
            now,
            history_days,
            return_period_days,
            fault_hold_seconds,
            fault_retry_after_seconds,
            fault_rate,
            fault_seed,
            fault_kinds: faults(fault_kinds).py()?.unwrap_or(defaults.fault_kinds),
            strict_pagination,
            callback_url,
            callback_kinds: match callback_kinds {
                Some(kinds) => kinds
                    .iter()
                    .map(|k| k.parse::<CallbackKind>())
                    .collect::<magflow_emag::Result<Vec<_>>>()
                    .py()?,
                None => defaults.callback_kinds,
            },
            callback_interval_seconds,
        };
        config.validate().py()?;
        Ok(PySimulator {
            config,
            running: Mutex::new(None),
        })
    }

    /// Seed the data and start serving (a no-op when already running).
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let config = self.config.clone();
            *guard = Some(py.detach(|| Simulator::start(config)).py()?);
        }
        Ok(())
    }

    /// Stop serving (a no-op when not running). The data is discarded.
    fn stop(&self, py: Python<'_>) {
        let taken = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        py.detach(move || drop(taken));
    }

    /// Whether it is serving.
    #[getter]
    fn running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// The base URL for a client (`http://127.0.0.1:PORT/api-3`).
    #[getter]
    fn url(&self) -> PyResult<String> {
        self.with(|s| s.url().to_owned())
    }

    /// The accepted user name.
    #[getter]
    fn username(&self) -> String {
        self.config.username.clone()
    }

    /// The accepted password.
    #[getter]
    fn password(&self) -> String {
        self.config.password.clone()
    }

    /// Counters and the sliding-window maxima per bucket.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.stats())?;
        Ok(pythonize::pythonize(py, &v)?)
    }

    /// Every order, as `order/read` sends it.
    fn orders<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.orders())?;
        Ok(pythonize::pythonize(py, &v)?)
    }

    /// One order by id, or None.
    fn order<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.order(order_id))?;
        Ok(pythonize::pythonize(py, &v)?)
    }

    /// Every offer, plus the stock and min/max prices reads do not show.
    fn offers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.offers())?;
        Ok(pythonize::pythonize(py, &v)?)
    }

    /// Every AWB issued.
    fn awbs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.awbs())?;
        Ok(pythonize::pythonize(py, &v)?)
    }

    /// Every return request.
    fn rmas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.rmas())?;
        Ok(pythonize::pythonize(py, &v)?)
    }

    /// Create a new order now (status 1, type 3) and send its new-order callback (when a
    /// `callback_url` is configured; again every `callback_interval_seconds` until it is
    /// acknowledged). Returns the order as `order/read` sends it.
    fn new_order<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.new_order())?;
        Ok(pythonize::pythonize(py, &v)?)
    }

    /// Cancel an order as eMAG's staff would (status 0, `reason`) and send the cancellation
    /// callback; False when there is no such order.
    #[pyo3(signature = (order_id, reason = 15))]
    fn cancel_order(
        &self,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
        #[pyo3(from_py_with = crate::args::reason)] reason: i64,
    ) -> PyResult<bool> {
        self.with(|s| s.cancel_order(order_id, reason))
    }

    /// Queue `count` faults (`http_500`, `http_503`, `timeout`, `reset`, `rate_limit`,
    /// `is_error`, `malformed_json`) for requests to `resource`/`action` (None = any).
    #[pyo3(signature = (fault, count = 1, resource = None, action = None))]
    fn inject(
        &self,
        fault: &str,
        #[pyo3(from_py_with = crate::args::count)] count: u32,
        resource: Option<&str>,
        action: Option<&str>,
    ) -> PyResult<()> {
        let fault: Fault = fault.parse().py()?;
        self.with(|s| s.inject(fault, count, resource, action))
    }

    /// Drop queued faults.
    fn clear_faults(&self) -> PyResult<()> {
        self.with(|s| s.clear_faults())
    }

    /// Random faults from now on.
    #[pyo3(signature = (rate, kinds = None, seed = 0))]
    fn set_random_faults(
        &self,
        rate: f64,
        #[pyo3(from_py_with = crate::args::kinds)] kinds: Option<Vec<String>>,
        #[pyo3(from_py_with = crate::args::seed)] seed: u64,
    ) -> PyResult<()> {
        let kinds = faults(kinds)
            .py()?
            .unwrap_or_else(|| SimConfig::default().fault_kinds);
        self.with(|s| s.set_random_faults(rate, kinds, seed))?.py()
    }

    /// Forget every counter.
    fn reset_stats(&self) -> PyResult<()> {
        self.with(|s| s.reset_stats())
    }

    /// Switch the rate limits on or off.
    fn set_enforce_rate_limits(&self, enforce: bool) -> PyResult<()> {
        self.with(|s| s.set_enforce_rate_limits(enforce))
    }

    /// Move the simulated clock forward by `seconds`.
    fn advance_clock(&self, seconds: f64) -> PyResult<()> {
        let by = Duration::try_from_secs_f64(seconds)
            .map_err(|_| Error::invalid_argument("seconds must be a non-negative number"))
            .py()?;
        self.with(|s| s.advance_clock(by))?.py()
    }

    /// Set the simulated clock (`YYYY-mm-dd HH:ii:ss`).
    fn set_now(&self, now: &str) -> PyResult<()> {
        let t = chrono::NaiveDateTime::parse_from_str(now.trim(), "%Y-%m-%d %H:%M:%S")
            .map_err(|_| {
                Error::invalid_argument(format!("now {now:?} is not formatted YYYY-mm-dd HH:ii:ss"))
            })
            .py()?;
        self.with(|s| s.set_now(t))
    }

    /// The simulated clock, `YYYY-mm-dd HH:ii:ss`.
    fn now(&self) -> PyResult<String> {
        self.with(|s| s.now_string())
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().start(slf.py())?;
        Ok(slf)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        match self.with(|s| s.url().to_owned()) {
            Ok(url) => format!(
                "Simulator(url={url:?}, username={:?}, password='***')",
                self.config.username
            ),
            Err(_) => format!(
                "Simulator(not running, username={:?}, password='***')",
                self.config.username
            ),
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySimulator>()
}
