//! `Store`, `CancelToken`, and the sync functions (blocking and async).

use std::sync::Arc;
use std::time::Duration;

use magflow_emag::platform::Platform;
use magflow_emag::store::{LockWait, OfferQuery, OrderQuery, Scope, StoredRow};
use magflow_emag::sync::{self, CancelToken, Progress, SyncOptions, SyncSummary};
use magflow_emag::{Error, Store};
use pyo3::prelude::*;
use serde::Serialize;

use crate::aio::{awaitable, blocking, run};
use crate::client::PyClient;
use crate::errors::IntoPy;
use crate::pyjson::from_value;

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

/// The store: a SQLite file (WAL; safe to read from other processes while a sync writes), or
/// PostgreSQL for a `postgresql://` URL.
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

    /// The file (a `Path`), or for PostgreSQL the URL without its password (a `str`).
    #[getter]
    fn path(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.inner.is_postgres() {
            let url = self.inner.path().to_string_lossy().into_owned();
            return Ok(url.into_pyobject(py)?.into_any().unbind());
        }
        Ok(self
            .inner
            .path()
            .to_path_buf()
            .into_pyobject(py)?
            .into_any()
            .unbind())
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
        #[pyo3(from_py_with = crate::args::order_id)] order_id: i64,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let scope = scope(platform, account)?;
        let found = blocking(py, || self.inner.get_order_text(order_id, scope.as_ref()))?;
        found
            .map(|text| stored_to_py(py, "order", order_id, &text))
            .transpose()
    }

    /// An offer exactly as read from eMAG, or None.
    #[pyo3(signature = (offer_id, platform = None, account = None))]
    fn get_offer(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::offer_id)] offer_id: i64,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let scope = scope(platform, account)?;
        let found = blocking(py, || self.inner.get_offer_text(offer_id, scope.as_ref()))?;
        found
            .map(|text| stored_to_py(py, "offer", offer_id, &text))
            .transpose()
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
    fn sync_runs(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::limit)] limit: u32,
    ) -> PyResult<Py<PyAny>> {
        let runs = blocking(py, || self.inner.sync_runs(limit))?;
        from_value(py, &json_of(&runs)?)
    }

    /// Sync statistics over the last `hours`.
    #[pyo3(signature = (hours = 24))]
    fn sync_statistics(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::hours)] hours: u32,
    ) -> PyResult<Py<PyAny>> {
        let stats = blocking(py, || self.inner.sync_statistics(hours))?;
        from_value(py, &json_of(&stats)?)
    }

    /// The callback queue's figures: received (every repeat counted), pending, failed, done,
    /// oldest_pending_age_s.
    fn callback_stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let stats = blocking(py, || self.inner.callback_stats())?;
        from_value(py, &json_of(&stats)?)
    }

    /// Offer statistics (total, active, inactive, by account, synced in the last 24 h).
    fn product_statistics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let stats = blocking(py, || self.inner.product_statistics())?;
        from_value(py, &json_of(&stats)?)
    }

    /// Stored orders matching every filter given, as dicts (as `get_order` builds them),
    /// oldest stored first, read a page at a time. `status`: one status or a list;
    /// `modified_since`: a `datetime` (naive = UTC) or an ISO 8601 string; `limit`: at most
    /// that many in all.
    #[pyo3(
        signature = (status = None, r#type = None, modified_since = None, limit = None, platform = None, account = None),
        text_signature = "(self, /, status=None, type=None, modified_since=None, limit=None, platform=None, account=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn orders(
        &self,
        status: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = crate::args::r#type)] r#type: Option<i64>,
        modified_since: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = crate::args::limit)] limit: Option<u64>,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<StoredRows> {
        let query = OrderQuery {
            scope: scope(platform, account)?,
            status: statuses(status)?,
            kind: r#type,
            modified_since: instant(modified_since, "modified_since")?,
            ..OrderQuery::default()
        };
        StoredRows::checked(self.inner.clone(), Query::Orders(query), limit)
    }

    /// Stored offers matching every filter given, as dicts (as `orders`); `synced_since`:
    /// stored or refreshed by a sync at or after that instant.
    #[pyo3(signature = (status = None, synced_since = None, limit = None, platform = None, account = None))]
    fn offers(
        &self,
        status: Option<&Bound<'_, PyAny>>,
        synced_since: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = crate::args::limit)] limit: Option<u64>,
        platform: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<StoredRows> {
        let query = OfferQuery {
            scope: scope(platform, account)?,
            status: statuses(status)?,
            synced_since: instant(synced_since, "synced_since")?,
            ..OfferQuery::default()
        };
        StoredRows::checked(self.inner.clone(), Query::Offers(query), limit)
    }

    fn __repr__(&self) -> String {
        format!("Store({:?})", self.inner.path())
    }
}

fn statuses(status: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<i64>>> {
    let Some(status) = status else {
        return Ok(None);
    };
    if let Ok(one) = status.extract::<i64>() {
        return Ok(Some(vec![one]));
    }
    match status.extract::<Vec<i64>>() {
        Ok(many) if !status.is_instance_of::<pyo3::types::PyString>() => Ok(Some(many)),
        _ => Err(crate::errors::to_py(Error::invalid_argument(
            "status: must be an int or a list of ints",
        ))),
    }
}

fn instant(value: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = if let Ok(text) = value.extract::<String>() {
        text
    } else if value.hasattr("isoformat").unwrap_or(false) {
        value.call_method0("isoformat")?.extract::<String>()?
    } else {
        return Err(crate::errors::to_py(Error::invalid_argument(format!(
            "{name}: must be a datetime or an ISO 8601 string"
        ))));
    };
    magflow_emag::store::utc_instant(&text, name).py().map(Some)
}

#[derive(Clone)]
enum Query {
    Orders(OrderQuery),
    Offers(OfferQuery),
}

impl Query {
    /// One page: at most `limit` rows past the cursor `after`.
    fn page(
        &self,
        store: &Store,
        after: Option<i64>,
        limit: u64,
    ) -> magflow_emag::Result<Vec<StoredRow>> {
        let limit = Some(limit);
        match self {
            Query::Orders(q) => store.orders(&OrderQuery {
                after,
                limit,
                ..q.clone()
            }),
            Query::Offers(q) => store.offers(&OfferQuery {
                after,
                limit,
                ..q.clone()
            }),
        }
    }
}

/// An iterator over stored rows, read a page at a time (the GIL released while reading).
#[pyclass(module = "magflow_emag._native", name = "StoredRows")]
pub struct StoredRows {
    store: Arc<Store>,
    query: Query,
    after: Option<i64>,
    left: Option<u64>,
    page: std::collections::VecDeque<StoredRow>,
    done: bool,
}

impl StoredRows {
    /// The rows of `query`, its filters checked now (one row read), so a bad filter raises at
    /// the call rather than at the first item.
    fn checked(store: Arc<Store>, query: Query, limit: Option<u64>) -> PyResult<Self> {
        query.page(&store, None, 1).py()?;
        Ok(StoredRows {
            store,
            query,
            after: None,
            left: limit,
            page: Default::default(),
            done: false,
        })
    }
}

#[pymethods]
impl StoredRows {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        const PAGE: u64 = 500;
        if self.left == Some(0) {
            return Ok(None);
        }
        if self.page.is_empty() && !self.done {
            let n = self.left.map_or(PAGE, |l| l.min(PAGE));
            let (store, query, after) = (&self.store, &self.query, self.after);
            let rows = blocking(py, move || query.page(store, after, n))?;
            self.done = (rows.len() as u64) < n;
            self.page.extend(rows);
        }
        let Some(row) = self.page.pop_front() else {
            return Ok(None);
        };
        self.after = Some(row.cursor);
        if let Some(left) = &mut self.left {
            *left -= 1;
        }
        crate::pyjson::loads(py, &row.data).map(Some)
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

/// Where a blocking sync's progress wrapper keeps the Python exception that stopped it (its
/// callback raised, or Ctrl-C arrived), to raise that very exception once the sync returns.
type Raised = Arc<std::sync::Mutex<Option<PyErr>>>;

// The `sync_*` signatures write `wait_timeout`'s default, the core's bound, as a literal (and
// again in `text_signature`, where pyo3 cannot render `Some(3600.0)` for Python).
const _: () = assert!(LockWait::DEFAULT_TIMEOUT.as_secs() == 3600);

/// The arguments of the `sync_*` functions, as Python gave them.
struct SyncArgs {
    full: bool,
    acknowledge: bool,
    order_types: Option<Vec<i64>>,
    progress: Option<Py<PyAny>>,
    cancel: Option<PyCancelToken>,
    wait: bool,
    /// Seconds; None waits until the holder ends.
    wait_timeout: Option<f64>,
}

/// A stored row's text as Python objects, built as `json.loads` would build them; text that
/// does not parse is a corrupt store (a `StoreError` naming the row).
fn stored_to_py(py: Python<'_>, what: &str, id: i64, text: &str) -> PyResult<Py<PyAny>> {
    crate::pyjson::loads(py, text).or_else(|e| {
        // json.loads' ValueError (JSONDecodeError) means the text is bad; anything else
        // (MemoryError, RecursionError) is passed on as it is.
        if !e.is_instance_of::<pyo3::exceptions::PyValueError>(py) {
            return Err(e);
        }
        Err(Error::store(format!(
            "{what} {id} is corrupt: its stored JSON does not parse ({})",
            e.value(py)
        )))
        .py()
    })
}

fn options(args: SyncArgs, check_signals: bool) -> PyResult<(SyncOptions, Raised)> {
    let wait_timeout = match args.wait_timeout {
        None => None,
        Some(s) => Some(Duration::try_from_secs_f64(s).map_err(|_| {
            crate::errors::to_py(Error::invalid_argument(format!(
                "wait_timeout must be a number of seconds >= 0 or None, not {s}"
            )))
        })?),
    };
    let raised: Raised = Arc::default();
    let keep = raised.clone();
    let callback = args.progress.map(Arc::new);
    let progress = (callback.is_some() || check_signals).then(|| {
        Arc::new(move |event: &Progress| {
            Python::attach(|py| {
                let mut called = Ok(());
                if let Some(callback) = &callback {
                    called = serde_json::to_value(event)
                        .map_err(|e| crate::errors::to_py(Error::internal(e.to_string())))
                        .and_then(|v| from_value(py, &v))
                        .and_then(|arg| callback.call1(py, (arg,)).map(drop));
                }
                let mut stopped_by = "its progress callback";
                // A blocking sync holds no GIL while it works: Ctrl-C is seen here, at the
                // page boundary, once the page is stored.
                if called.is_ok() && check_signals {
                    called = py.check_signals();
                    stopped_by = "a signal";
                }
                called.map_err(|e| {
                    let raised = e.to_string();
                    let raised = raised.trim_end_matches([':', ' ']);
                    let message = format!("the sync was stopped by {stopped_by}: {raised}");
                    if let Ok(mut slot) = keep.lock() {
                        *slot = Some(e);
                    }
                    Error::invalid_argument(message)
                })
            })
        }) as sync::ProgressFn
    });
    let defaults = SyncOptions::default();
    let options = {
        let mut o = SyncOptions::default();
        o.full = args.full;
        o.acknowledge = args.acknowledge;
        o.order_types = args.order_types.unwrap_or(defaults.order_types);
        o.overlap = defaults.overlap;
        o.progress = progress;
        o.cancel = args.cancel.map(|c| c.inner);
        o.wait = args.wait;
        o.wait_timeout = wait_timeout;
        o
    };
    Ok((options, raised))
}

/// The sync's error, or the Python exception that stopped it (raised as it was).
fn raise(e: PyErr, raised: &Raised) -> PyErr {
    raised.lock().ok().and_then(|mut r| r.take()).unwrap_or(e)
}

/// The core client behind a `Client`/`AsyncClient` wrapper or a `_Client`.
pub(crate) fn native_client(obj: &Bound<'_, PyAny>) -> PyResult<magflow_emag::Client> {
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

/// Which sync a function runs.
#[derive(Clone, Copy)]
enum Kind {
    Orders,
    Offers,
}

/// Run a sync: now (the GIL released; Ctrl-C seen between pages) or as an awaitable. A
/// progress callback's exception is raised as it was.
fn start(
    py: Python<'_>,
    kind: Kind,
    client: &Bound<'_, PyAny>,
    store: &PyStore,
    asynchronous: bool,
    args: SyncArgs,
) -> PyResult<Py<PyAny>> {
    let (opts, raised) = options(args, !asynchronous)?;
    let (c, s) = (native_client(client)?, store.inner.clone());
    let work = async move {
        match kind {
            Kind::Orders => sync::sync_orders(&c, &s, &opts).await,
            Kind::Offers => sync::sync_offers(&c, &s, &opts).await,
        }
    };
    let summary = |py: Python<'_>, s: SyncSummary| from_value(py, &json_of(&s)?);
    if asynchronous {
        let done = awaitable(py, async move {
            let result = work.await.py().map_err(|e| raise(e, &raised))?;
            Python::attach(|py| summary(py, result))
        })?;
        return Ok(done.unbind());
    }
    let result = run(py, work).map_err(|e| raise(e, &raised))?;
    summary(py, result)
}

/// One `sync_*` function: `$asynchronous` picks blocking (the GIL released; Ctrl-C seen
/// between pages) or an awaitable. The orders' and offers' functions differ in their arguments
/// only, so each shape is written once here.
macro_rules! sync_function {
    ($(#[doc = $doc:literal])* $name:ident, orders, $asynchronous:literal) => {
        $(#[doc = $doc])*
        #[pyfunction]
        #[pyo3(signature = (client, store, full = false, acknowledge = false, progress = None, order_types = None, cancel = None, wait = false, wait_timeout = Some(3600.0)))]
        #[pyo3(text_signature = "(client, store, full=False, acknowledge=False, progress=None, order_types=None, cancel=None, wait=False, wait_timeout=3600.0)")]
        #[allow(clippy::too_many_arguments)]
        fn $name(
            py: Python<'_>,
            client: &Bound<'_, PyAny>,
            store: &PyStore,
            full: bool,
            acknowledge: bool,
            progress: Option<Py<PyAny>>,
            #[pyo3(from_py_with = crate::args::order_types)] order_types: Option<Vec<i64>>,
            cancel: Option<PyCancelToken>,
            wait: bool,
            wait_timeout: Option<f64>,
        ) -> PyResult<Py<PyAny>> {
            let args = SyncArgs { full, acknowledge, order_types, progress, cancel, wait, wait_timeout };
            start(py, Kind::Orders, client, store, $asynchronous, args)
        }
    };
    ($(#[doc = $doc:literal])* $name:ident, offers, $asynchronous:literal) => {
        $(#[doc = $doc])*
        #[pyfunction]
        #[pyo3(signature = (client, store, full = false, progress = None, cancel = None, wait = false, wait_timeout = Some(3600.0)))]
        #[pyo3(text_signature = "(client, store, full=False, progress=None, cancel=None, wait=False, wait_timeout=3600.0)")]
        #[allow(clippy::too_many_arguments)]
        fn $name(
            py: Python<'_>,
            client: &Bound<'_, PyAny>,
            store: &PyStore,
            full: bool,
            progress: Option<Py<PyAny>>,
            cancel: Option<PyCancelToken>,
            wait: bool,
            wait_timeout: Option<f64>,
        ) -> PyResult<Py<PyAny>> {
            let args = SyncArgs { full, acknowledge: false, order_types: None, progress, cancel, wait, wait_timeout };
            start(py, Kind::Offers, client, store, $asynchronous, args)
        }
    };
}

sync_function!(
    /// Sync orders from eMAG into the store (blocking; the GIL is released).
    sync_orders, orders, false
);
sync_function!(
    /// Sync orders, as an awaitable.
    sync_orders_async, orders, true
);
sync_function!(
    /// Sync every offer page into the store (blocking).
    sync_offers, offers, false
);
sync_function!(
    /// Sync offers, as an awaitable.
    sync_offers_async, offers, true
);
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStore>()?;
    m.add_class::<PyCancelToken>()?;
    m.add_class::<StoredRows>()?;
    m.add_function(wrap_pyfunction!(sync_orders, m)?)?;
    m.add_function(wrap_pyfunction!(sync_orders_async, m)?)?;
    m.add_function(wrap_pyfunction!(sync_offers, m)?)?;
    m.add_function(wrap_pyfunction!(sync_offers_async, m)?)?;
    Ok(())
}
