//! `Store`, `CancelToken`, and the sync functions (blocking and async).

use std::sync::Arc;

use magflow_emag::platform::Platform;
use magflow_emag::store::Scope;
use magflow_emag::sync::{self, CancelToken, Progress, SyncOptions, SyncSummary};
use magflow_emag::{Error, Store};
use pyo3::prelude::*;
use serde::Serialize;

use crate::aio::{awaitable, blocking, run};
use crate::client::{to_py, PyClient};
use crate::errors::IntoPy;

fn json_of<T: Serialize>(value: &T) -> PyResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| crate::errors::to_py(Error::internal(e.to_string())))
}

fn scope(platform: Option<&str>, account: Option<&str>) -> PyResult<Option<Scope>> {
    match (platform, account) {
        (None, None) => Ok(None),
        (p, a) => {
            let platform: Platform = p.unwrap_or("emag_ro").parse().py()?;
            Ok(Some(Scope::new(platform, a.unwrap_or("main"))))
        }
    }
}

/// The embedded SQLite store (WAL; safe to read from other processes while a sync writes).
#[pyclass(module = "magflow_emag._native", name = "Store", frozen)]
pub struct PyStore {
    pub(crate) inner: Arc<Store>,
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (path = None))]
    fn new(py: Python<'_>, path: Option<std::path::PathBuf>) -> PyResult<Self> {
        let path = path.unwrap_or_else(|| magflow_emag::store::DEFAULT_PATH.into());
        let store = blocking(py, || Store::open(&path))?;
        Ok(PyStore {
            inner: Arc::new(store),
        })
    }

    /// The database file.
    #[getter]
    fn path(&self) -> std::path::PathBuf {
        self.inner.path().to_path_buf()
    }

    /// The schema version of the database file.
    #[getter]
    fn schema_version(&self) -> PyResult<i64> {
        self.inner.schema_version().py()
    }

    /// The number of stored orders (of one platform/account, or all).
    #[pyo3(signature = (platform = None, account = None))]
    fn count_orders(
        &self,
        py: Python<'_>,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<u64> {
        let scope = scope(platform, account)?;
        blocking(py, || self.inner.count_orders(scope.as_ref()))
    }

    /// The number of stored offers.
    #[pyo3(signature = (platform = None, account = None))]
    fn count_offers(
        &self,
        py: Python<'_>,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<u64> {
        let scope = scope(platform, account)?;
        blocking(py, || self.inner.count_offers(scope.as_ref()))
    }

    /// An order exactly as read from eMAG, or None.
    #[pyo3(signature = (order_id, platform = None, account = None))]
    fn get_order(
        &self,
        py: Python<'_>,
        order_id: i64,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let scope = scope(platform, account)?;
        let found = blocking(py, || self.inner.get_order_text(order_id, scope.as_ref()))?;
        // Built from the stored text as eMAG sent it (as `json.loads` would build it).
        found
            .map(|text| {
                crate::pyjson::loads(py, &text).or_else(|e| {
                    // json.loads' ValueError (JSONDecodeError) means the text is bad; anything
                    // else (MemoryError, RecursionError) is passed on as it is.
                    if !e.is_instance_of::<pyo3::exceptions::PyValueError>(py) {
                        return Err(e);
                    }
                    Err(Error::store(format!(
                        "order {order_id} is corrupt: its stored JSON does not parse ({})",
                        e.value(py)
                    )))
                    .py()
                })
            })
            .transpose()
    }

    /// An offer as read, or None.
    #[pyo3(signature = (offer_id, platform = None, account = None))]
    fn get_offer(
        &self,
        py: Python<'_>,
        offer_id: i64,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let scope = scope(platform, account)?;
        let found = blocking(py, || self.inner.get_offer(offer_id, scope.as_ref()))?;
        found.map(|v| to_py(py, &v)).transpose()
    }

    /// Order counts per status: `{status: count}` (status -1 for orders without one).
    #[pyo3(signature = (platform = None, account = None))]
    fn order_status_counts(
        &self,
        py: Python<'_>,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<std::collections::BTreeMap<i64, u64>> {
        let scope = scope(platform, account)?;
        Ok(
            blocking(py, || self.inner.order_status_counts(scope.as_ref()))?
                .into_iter()
                .collect(),
        )
    }

    /// The latest sync-log rows, newest first.
    #[pyo3(signature = (limit = 20))]
    fn sync_runs(&self, py: Python<'_>, limit: u32) -> PyResult<Py<PyAny>> {
        let runs = blocking(py, || self.inner.sync_runs(limit))?;
        to_py(py, &json_of(&runs)?)
    }

    /// Sync statistics over the last `hours`.
    #[pyo3(signature = (hours = 24))]
    fn sync_statistics(&self, py: Python<'_>, hours: u32) -> PyResult<Py<PyAny>> {
        let stats = blocking(py, || self.inner.sync_statistics(hours))?;
        to_py(py, &json_of(&stats)?)
    }

    /// Offer statistics (total, active, inactive, by account, synced in the last 24 h).
    fn product_statistics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let stats = blocking(py, || self.inner.product_statistics())?;
        to_py(py, &json_of(&stats)?)
    }

    fn __repr__(&self) -> String {
        format!("Store({:?})", self.inner.path())
    }
}

/// Cooperative cancellation of a running sync (checked between pages).
#[pyclass(module = "magflow_emag._native", name = "CancelToken", frozen)]
#[derive(Clone)]
pub struct PyCancelToken {
    inner: CancelToken,
}

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        PyCancelToken {
            inner: CancelToken::new(),
        }
    }

    /// Ask the sync to stop after the page in flight.
    fn cancel(&self) {
        self.inner.cancel()
    }

    /// Whether ``cancel()`` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

fn options(
    full: bool,
    acknowledge: bool,
    order_types: Option<Vec<i64>>,
    progress: Option<Py<PyAny>>,
    cancel: Option<PyCancelToken>,
) -> SyncOptions {
    let progress = progress.map(|callback| {
        let callback = Arc::new(callback);
        Arc::new(move |event: &Progress| {
            Python::attach(|py| {
                let called = serde_json::to_value(event)
                    .map_err(|e| crate::errors::to_py(Error::internal(e.to_string())))
                    .and_then(|v| to_py(py, &v))
                    .and_then(|arg| callback.call1(py, (arg,)));
                if let Err(e) = called {
                    // A failing progress callback must not fail the sync.
                    log::warn!("progress callback raised: {e}");
                }
            })
        }) as sync::ProgressFn
    });
    let defaults = SyncOptions::default();
    SyncOptions {
        full,
        acknowledge,
        order_types: order_types.unwrap_or(defaults.order_types),
        overlap: defaults.overlap,
        progress,
        cancel: cancel.map(|c| c.inner),
    }
}

/// The core client behind a `Client`/`AsyncClient` wrapper or a `_Client`.
fn native_client(obj: &Bound<'_, PyAny>) -> PyResult<magflow_emag::Client> {
    if let Ok(c) = obj.cast::<PyClient>() {
        return Ok(c.get().inner.clone());
    }
    let inner = obj.getattr("_native").map_err(|_| {
        crate::errors::to_py(Error::invalid_argument(
            "client must be a magflow_emag Client or AsyncClient",
        ))
    })?;
    let c = inner.cast::<PyClient>().map_err(|_| {
        crate::errors::to_py(Error::invalid_argument(
            "client must be a magflow_emag Client or AsyncClient",
        ))
    })?;
    Ok(c.get().inner.clone())
}

fn summary(py: Python<'_>, s: &SyncSummary) -> PyResult<Py<PyAny>> {
    to_py(py, &json_of(s)?)
}

/// Sync orders from eMAG into the store (blocking; the GIL is released).
#[pyfunction]
#[pyo3(signature = (client, store, full = false, acknowledge = false, progress = None, order_types = None, cancel = None))]
#[allow(clippy::too_many_arguments)]
fn sync_orders(
    py: Python<'_>,
    client: &Bound<'_, PyAny>,
    store: &PyStore,
    full: bool,
    acknowledge: bool,
    progress: Option<Py<PyAny>>,
    order_types: Option<Vec<i64>>,
    cancel: Option<PyCancelToken>,
) -> PyResult<Py<PyAny>> {
    let opts = options(full, acknowledge, order_types, progress, cancel);
    let (c, s) = (native_client(client)?, store.inner.clone());
    let result = run(py, async move { sync::sync_orders(&c, &s, &opts).await })?;
    summary(py, &result)
}

/// Sync orders, as an awaitable.
#[pyfunction]
#[pyo3(signature = (client, store, full = false, acknowledge = false, progress = None, order_types = None, cancel = None))]
#[allow(clippy::too_many_arguments)]
fn sync_orders_async<'py>(
    py: Python<'py>,
    client: &Bound<'_, PyAny>,
    store: &PyStore,
    full: bool,
    acknowledge: bool,
    progress: Option<Py<PyAny>>,
    order_types: Option<Vec<i64>>,
    cancel: Option<PyCancelToken>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = options(full, acknowledge, order_types, progress, cancel);
    let (c, s) = (native_client(client)?, store.inner.clone());
    awaitable(py, async move {
        let result = sync::sync_orders(&c, &s, &opts).await.py()?;
        Python::attach(|py| summary(py, &result))
    })
}

/// Sync every offer page into the store (blocking).
#[pyfunction]
#[pyo3(signature = (client, store, full = false, progress = None, cancel = None))]
fn sync_offers(
    py: Python<'_>,
    client: &Bound<'_, PyAny>,
    store: &PyStore,
    full: bool,
    progress: Option<Py<PyAny>>,
    cancel: Option<PyCancelToken>,
) -> PyResult<Py<PyAny>> {
    let opts = options(full, false, None, progress, cancel);
    let (c, s) = (native_client(client)?, store.inner.clone());
    let result = run(py, async move { sync::sync_offers(&c, &s, &opts).await })?;
    summary(py, &result)
}

/// Sync offers, as an awaitable.
#[pyfunction]
#[pyo3(signature = (client, store, full = false, progress = None, cancel = None))]
fn sync_offers_async<'py>(
    py: Python<'py>,
    client: &Bound<'_, PyAny>,
    store: &PyStore,
    full: bool,
    progress: Option<Py<PyAny>>,
    cancel: Option<PyCancelToken>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = options(full, false, None, progress, cancel);
    let (c, s) = (native_client(client)?, store.inner.clone());
    awaitable(py, async move {
        let result = sync::sync_offers(&c, &s, &opts).await.py()?;
        Python::attach(|py| summary(py, &result))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStore>()?;
    m.add_class::<PyCancelToken>()?;
    m.add_function(wrap_pyfunction!(sync_orders, m)?)?;
    m.add_function(wrap_pyfunction!(sync_orders_async, m)?)?;
    m.add_function(wrap_pyfunction!(sync_offers, m)?)?;
    m.add_function(wrap_pyfunction!(sync_offers_async, m)?)?;
    Ok(())
}
