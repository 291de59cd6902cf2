//! `CallbackReceiver`: eMAG's callbacks answered and drained (the core's
//! `magflow_emag::callbacks`).

use std::sync::Arc;
use std::time::Duration;

use magflow_emag::callbacks::{CallbackReceiver, WorkerOptions};
use pyo3::prelude::*;

use crate::aio::blocking;
use crate::errors::IntoPy;
use crate::store::{native_client, PyStore};

/// Receives eMAG's callbacks for one account (see the module docs of `magflow_emag`).
#[pyclass(module = "magflow_emag._native", name = "CallbackReceiver", frozen)]
pub struct PyCallbackReceiver {
    inner: Arc<CallbackReceiver>,
}

#[pymethods]
impl PyCallbackReceiver {
    #[new]
    #[pyo3(signature = (store, client, token, acknowledge = true, poll_interval = 0.25))]
    fn new(
        store: &PyStore,
        client: &Bound<'_, PyAny>,
        token: &str,
        acknowledge: bool,
        poll_interval: f64,
    ) -> PyResult<Self> {
        if !(poll_interval.is_finite() && (0.01..=3600.0).contains(&poll_interval)) {
            return Err(crate::errors::to_py(magflow_emag::Error::invalid_argument(
                "poll_interval must be between 0.01 and 3600 seconds",
            )));
        }
        let options = WorkerOptions {
            acknowledge,
            poll_interval: Duration::from_secs_f64(poll_interval),
            ..WorkerOptions::default()
        };
        let receiver =
            CallbackReceiver::new(store.inner.clone(), native_client(client)?, token, options)
                .py()?;
        Ok(PyCallbackReceiver {
            inner: Arc::new(receiver),
        })
    }

    /// Answer one callback's query string: `(status, body)` to send back to eMAG. The
    /// callback is recorded in the store before this returns.
    fn handle(&self, py: Python<'_>, query: &str) -> PyResult<(u16, String)> {
        let answer = blocking(py, || Ok(self.inner.handle(query)))?;
        Ok((answer.status, answer.body))
    }

    /// Start the worker draining the queue (no-op when running).
    fn start(&self) {
        self.inner.start();
    }

    /// Stop the worker after the entry in progress and wait for it.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        blocking(py, || {
            self.inner.stop();
            Ok(())
        })
    }

    /// Whether the worker runs.
    #[getter]
    fn running(&self) -> bool {
        self.inner.is_running()
    }

    fn __repr__(&self) -> String {
        format!("<CallbackReceiver running={}>", self.inner.is_running())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCallbackReceiver>()?;
    Ok(())
}
