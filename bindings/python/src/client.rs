//! The client: `_Client` (native) with blocking methods (GIL released) and `*_async`
//! awaitables, plus `RetryPolicy`. The pure-Python `magflow_emag.client` adds the resource
//! namespaces (`client.orders.read(...)`).

use std::sync::Arc;
use std::time::Duration;

use magflow_emag::client::api::Resource;
use magflow_emag::client::pagination::Pager;
use magflow_emag::client::{RawItems, RawResults};
use magflow_emag::{Client, ClientConfig, Credentials, Error, RetryPolicy};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use serde_json::Value;
use tokio::sync::Mutex as AsyncMutex;

use crate::aio::{awaitable, run};
use crate::errors::IntoPy;

/// Python value -> JSON value (depth- and cycle-safe: [`crate::pyvalue`]).
pub fn to_json(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Value> {
    match obj {
        None => Ok(Value::Null),
        Some(o) if o.is_none() => Ok(Value::Null),
        Some(o) => crate::pyvalue::to_value(o, what),
    }
}

/// JSON value -> Python value.
///
/// Scalars go through pythonize; containers are serialized and handed to CPython's C `json`
/// decoder, which builds large dicts faster than object-by-object conversion (measured in
/// `benches/client_py.py`).
pub fn to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    match value {
        Value::Array(_) | Value::Object(_) => {
            let text = serde_json::to_string(value)
                .map_err(|e| crate::errors::to_py(Error::internal(e.to_string())))?;
            json_text_to_py(py, &text)
        }
        _ => Ok(pythonize::pythonize(py, value)?.unbind()),
    }
}

/// JSON text -> Python value, built in one pass ([`crate::pyjson::loads`]): the text eMAG
/// sent goes to Python without a `serde_json::Value` in between (measured in
/// `benches/client_py.py`).
pub fn json_text_to_py(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    crate::pyjson::loads(py, text)
}

/// The results of a read as a list, as `Resource::read` shapes them: a list as is, `null`
/// as an empty list, a single object (a read by id) as a list of one.
fn read_results_to_py(py: Python<'_>, raw: &RawResults) -> PyResult<Py<PyAny>> {
    let value = json_text_to_py(py, raw.json())?;
    let bound = value.bind(py);
    if bound.is_instance_of::<PyList>() {
        Ok(value)
    } else if bound.is_none() {
        Ok(PyList::empty(py).into_any().unbind())
    } else {
        Ok(PyList::new(py, [bound])?.into_any().unbind())
    }
}

/// A page of items as a Python list (one decoder call for the whole page).
fn items_to_py(py: Python<'_>, items: &RawItems) -> PyResult<Py<PyAny>> {
    let mut text = String::with_capacity(items.iter().map(|t| t.len() + 1).sum::<usize>() + 2);
    text.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(item);
    }
    text.push(']');
    json_text_to_py(py, &text)
}

fn kwargs_json(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Value> {
    match kwargs {
        None => Ok(Value::Object(Default::default())),
        Some(d) => to_json(Some(d.as_any()), "filters"),
    }
}

/// The retry policy: exponential backoff with full jitter.
#[pyclass(module = "magflow_emag._native", name = "RetryPolicy", frozen)]
#[derive(Clone)]
pub struct PyRetryPolicy {
    pub(crate) inner: RetryPolicy,
}

#[pymethods]
impl PyRetryPolicy {
    #[new]
    #[pyo3(signature = (max_retries = 3, base_delay = 2.0, max_delay = 64.0, jitter = true, deadline = None))]
    fn new(
        #[pyo3(from_py_with = crate::args::max_retries)] max_retries: u32,
        base_delay: f64,
        max_delay: f64,
        jitter: bool,
        deadline: Option<f64>,
    ) -> PyResult<Self> {
        Ok(PyRetryPolicy {
            inner: RetryPolicy::from_secs(max_retries, base_delay, max_delay, jitter, deadline)
                .py()?,
        })
    }

    /// Retries after the first attempt.
    #[getter]
    fn max_retries(&self) -> u32 {
        self.inner.max_retries
    }
    /// The first retry's delay bound, seconds (doubled per retry).
    #[getter]
    fn base_delay(&self) -> f64 {
        self.inner.base_delay.as_secs_f64()
    }
    /// The largest delay between two attempts, seconds.
    #[getter]
    fn max_delay(&self) -> f64 {
        self.inner.max_delay.as_secs_f64()
    }
    /// Whether delays are drawn at random below the bound (full jitter).
    #[getter]
    fn jitter(&self) -> bool {
        self.inner.jitter
    }
    /// The time budget of a call with its retries, seconds (None: no deadline).
    #[getter]
    fn deadline(&self) -> Option<f64> {
        self.inner.deadline.map(|d| d.as_secs_f64())
    }

    /// The backoff ceiling before retry number `retry` (0-based), in seconds.
    fn ceiling(&self, #[pyo3(from_py_with = crate::args::retry)] retry: u32) -> f64 {
        self.inner.ceiling(retry).as_secs_f64()
    }

    fn __repr__(&self) -> String {
        format!(
            "RetryPolicy(max_retries={}, base_delay={}, max_delay={}, jitter={}, deadline={})",
            self.inner.max_retries,
            self.inner.base_delay.as_secs_f64(),
            self.inner.max_delay.as_secs_f64(),
            if self.inner.jitter { "True" } else { "False" },
            self.inner
                .deadline
                .map_or("None".to_owned(), |d| d.as_secs_f64().to_string())
        )
    }
}

/// The limiter a client gets: `None` -> the account's shared local limiter with eMAG's
/// quotas (every client of one account in this process shares it), `False` -> none, a
/// `RateLimiter` -> that one.
fn apply_limiter(config: ClientConfig, arg: Option<Py<PyAny>>) -> PyResult<ClientConfig> {
    let Some(obj) = arg else {
        return Ok(config);
    };
    Python::attach(|py| {
        let obj = obj.bind(py);
        if let Ok(false) = obj.extract::<bool>() {
            return Ok(config.without_rate_limit());
        }
        match obj.cast::<crate::ratelimit::PyRateLimiter>() {
            Ok(l) => Ok(config.with_limiter(
                Arc::new(l.get().inner.clone()) as Arc<dyn magflow_emag::Limiter>
            )),
            Err(_) => Err(crate::errors::to_py(Error::invalid_argument(
                "rate_limiter must be a RateLimiter, None (the account's local limiter with eMAG's quotas) or False (none)",
            ))),
        }
    })
}

/// The native client. Use `magflow_emag.Client` / `AsyncClient`, which wrap it.
#[pyclass(module = "magflow_emag._native", name = "_Client", frozen)]
pub struct PyClient {
    pub(crate) inner: Client,
}

impl PyClient {
    fn resource(&self, path: &str) -> Resource {
        self.inner.resource(path)
    }
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (username, password, platform = "emag_ro", base_url = None, timeout = 30.0,
                        retry = None, body_mode = "form", account = "main", limiter = None, monitor = None,
                        wire_log = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        username: String,
        password: String,
        platform: &str,
        base_url: Option<String>,
        timeout: f64,
        retry: Option<PyRetryPolicy>,
        body_mode: &str,
        account: &str,
        limiter: Option<Py<PyAny>>,
        monitor: Option<PyRef<'_, crate::monitor::PyMonitor>>,
        wire_log: bool,
    ) -> PyResult<Self> {
        let mut config = ClientConfig::new(Credentials::new(username, password).py()?)
            .with_platform(platform.parse().py()?)
            .with_body_mode(body_mode.parse().py()?);
        config.timeout = Duration::try_from_secs_f64(timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                crate::errors::to_py(Error::invalid_argument(format!(
                    "timeout must be a positive number of seconds, got {timeout}"
                )))
            })?;
        config.base_url = base_url;
        config.account = account.to_owned();
        config.wire_log = wire_log;
        if let Some(r) = retry {
            config.retry = r.inner;
        }
        config = apply_limiter(config, limiter)?;
        config.monitor = monitor.map(|m| m.core());
        Ok(PyClient {
            inner: Client::new(config).py()?,
        })
    }

    /// The API user (the password is never exposed).
    #[getter]
    fn username(&self) -> &str {
        &self.inner.config().credentials.username
    }
    /// The platform code (``emag_ro``, ``emag_bg``, ``emag_hu``, ``fd_ro``, ``fd_bg``).
    #[getter]
    fn platform(&self) -> &'static str {
        self.inner.config().platform.code()
    }
    /// The API base URL requests go to.
    #[getter]
    fn base_url(&self) -> &str {
        self.inner.base_url()
    }
    /// The monitor this client feeds (shared when one was passed in).
    #[getter]
    fn monitor(&self) -> crate::monitor::PyMonitor {
        crate::monitor::PyMonitor::wrap(self.inner.monitor().clone())
    }

    /// The account label used in logs and metrics.
    #[getter]
    fn account(&self) -> &str {
        &self.inner.config().account
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(username={:?}, platform={:?}, base_url={:?}, account={:?})",
            self.inner.config().credentials.username,
            self.inner.config().platform.code(),
            self.inner.base_url(),
            self.inner.config().account
        )
    }

    // ---- blocking ----------------------------------------------------------------------

    #[pyo3(signature = (resource, action, data = None))]
    fn call(
        &self,
        py: Python<'_>,
        resource: &str,
        action: &str,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let data = to_json(data, "data")?;
        let data = if data.is_null() { None } else { Some(data) };
        let client = self.inner.clone();
        let raw = run(py, client.call_raw(resource, action, data))?;
        json_text_to_py(py, raw.json())
    }

    #[pyo3(signature = (resource, **filters))]
    fn read(
        &self,
        py: Python<'_>,
        resource: &str,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let filters = kwargs_json(filters)?;
        let res = self.resource(resource);
        let raw = run(py, res.read_raw(filters))?;
        read_results_to_py(py, &raw)
    }

    #[pyo3(signature = (resource, **filters))]
    fn count(
        &self,
        py: Python<'_>,
        resource: &str,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let filters = kwargs_json(filters)?;
        let res = self.resource(resource);
        run(py, res.count(filters))
    }

    /// A page iterator over every page (and one-month window for orders).
    #[pyo3(signature = (resource, **filters))]
    fn pages(&self, resource: &str, filters: Option<&Bound<'_, PyDict>>) -> PyResult<PyPager> {
        let filters = kwargs_json(filters)?;
        let pager = self.resource(resource).pages(filters).py()?;
        Ok(PyPager {
            inner: Arc::new(AsyncMutex::new(pager)),
        })
    }

    #[pyo3(signature = (resource, entities, action = "save"))]
    fn save(
        &self,
        py: Python<'_>,
        resource: &str,
        entities: &Bound<'_, PyAny>,
        action: &str,
    ) -> PyResult<Py<PyAny>> {
        let entities = to_json(Some(entities), "entities")?;
        let res = self.resource(resource);
        let v = run(py, res.save_as(action, entities))?;
        to_py(py, &Value::Array(v))
    }

    fn acknowledge(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.clone();
        let v = run(
            py,
            async move { client.orders().acknowledge(order_id).await },
        )?;
        to_py(py, &v)
    }

    fn unlock_courier(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.clone();
        let v = run(
            py,
            async move { client.orders().unlock_courier(order_id).await },
        )?;
        to_py(py, &v)
    }

    fn stock_update(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::product_id)] product_id: u64,
        #[pyo3(from_py_with = crate::args::value)] value: i64,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.clone();
        let v = run(
            py,
            async move { client.stock().update(product_id, value).await },
        )?;
        to_py(py, &v)
    }

    fn awb_save(&self, py: Python<'_>, awb: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let awb = to_json(Some(awb), "awb")?;
        let client = self.inner.clone();
        let v = run(py, async move { client.awb().save(awb).await })?;
        to_py(py, &v)
    }

    #[pyo3(signature = (emag_id, awb_format = "A4"))]
    fn awb_read_pdf<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::args::emag_id)] emag_id: u64,
        awb_format: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let client = self.inner.clone();
        let d = run(py, async move {
            client.awb().read_pdf(emag_id, awb_format).await
        })?;
        Ok(PyBytes::new(py, &d.bytes))
    }

    fn awb_read_zpl<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::args::emag_id)] emag_id: u64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let client = self.inner.clone();
        let d = run(py, async move { client.awb().read_zpl(emag_id).await })?;
        Ok(PyBytes::new(py, &d.bytes))
    }

    fn find_by_eans(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::eans)] eans: Vec<String>,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.clone();
        let v = run(py, async move { client.offers().find_by_eans(&eans).await })?;
        to_py(py, &v)
    }

    fn smart_deals_price_check(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::product_id)] product_id: u64,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.clone();
        let v = run(py, async move {
            client.offers().smart_deals_price_check(product_id).await
        })?;
        to_py(py, &v)
    }

    // ---- async ---------------------------------------------------------------------------

    #[pyo3(signature = (resource, action, data = None))]
    fn call_async<'py>(
        &self,
        py: Python<'py>,
        resource: String,
        action: String,
        data: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = to_json(data, "data")?;
        let data = if data.is_null() { None } else { Some(data) };
        let client = self.inner.clone();
        awaitable(py, async move {
            let raw = client.call_raw(&resource, &action, data).await.py()?;
            Python::attach(|py| json_text_to_py(py, raw.json()))
        })
    }

    #[pyo3(signature = (resource, **filters))]
    fn read_async<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        filters: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filters = kwargs_json(filters)?;
        let res = self.resource(resource);
        awaitable(py, async move {
            let raw = res.read_raw(filters).await.py()?;
            Python::attach(|py| read_results_to_py(py, &raw))
        })
    }

    #[pyo3(signature = (resource, **filters))]
    fn count_async<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        filters: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filters = kwargs_json(filters)?;
        let res = self.resource(resource);
        awaitable(py, async move { res.count(filters).await.py() })
    }

    #[pyo3(signature = (resource, entities, action = "save"))]
    fn save_async<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        entities: &Bound<'py, PyAny>,
        action: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let entities = to_json(Some(entities), "entities")?;
        let action = action.to_owned();
        let res = self.resource(resource);
        awaitable(py, async move {
            let v = res.save_as(&action, entities).await.py()?;
            Python::attach(|py| to_py(py, &Value::Array(v)))
        })
    }

    fn acknowledge_async<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        awaitable(py, async move {
            let v = client.orders().acknowledge(order_id).await.py()?;
            Python::attach(|py| to_py(py, &v))
        })
    }

    fn unlock_courier_async<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        awaitable(py, async move {
            let v = client.orders().unlock_courier(order_id).await.py()?;
            Python::attach(|py| to_py(py, &v))
        })
    }

    fn stock_update_async<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::args::product_id)] product_id: u64,
        #[pyo3(from_py_with = crate::args::value)] value: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        awaitable(py, async move {
            let v = client.stock().update(product_id, value).await.py()?;
            Python::attach(|py| to_py(py, &v))
        })
    }

    fn awb_save_async<'py>(
        &self,
        py: Python<'py>,
        awb: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let awb = to_json(Some(awb), "awb")?;
        let client = self.inner.clone();
        awaitable(py, async move {
            let v = client.awb().save(awb).await.py()?;
            Python::attach(|py| to_py(py, &v))
        })
    }
}

/// Walks the pages of a read; blocking `next_page()` and awaitable `next_page_async()`
/// return a list, or None at the end.
#[pyclass(module = "magflow_emag._native", name = "_Pager", frozen)]
pub struct PyPager {
    inner: Arc<AsyncMutex<Pager>>,
}

#[pymethods]
impl PyPager {
    fn next_page(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let pager = self.inner.clone();
        let page = run(py, async move { pager.lock().await.next_page_raw().await })?;
        page.map(|items| items_to_py(py, &items)).transpose()
    }

    fn next_page_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pager = self.inner.clone();
        awaitable(py, async move {
            let page = pager.lock().await.next_page_raw().await.py()?;
            Python::attach(|py| page.map(|items| items_to_py(py, &items)).transpose())
        })
    }
}

/// Test probe: JSON text -> Python value as the client builds results (`pyjson::loads`).
#[pyfunction]
fn _json_loads(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    crate::pyjson::loads(py, text)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_json_loads, m)?)?;
    m.add_class::<PyRetryPolicy>()?;
    m.add_class::<PyClient>()?;
    m.add_class::<PyPager>()?;
    m.add_function(wrap_pyfunction!(_bench_rust_reads, m)?)?;
    Ok(())
}

/// Benchmark probe: `requests` sequential `order/read` calls by the Rust client (no limiter,
/// no Python in the loop); returns the elapsed seconds. Used by `benches/client_py.py` to put
/// the Rust figure beside the Python ones in the same run.
#[pyfunction]
#[pyo3(signature = (base_url, username, password, requests, items_per_page = 10, text = false))]
fn _bench_rust_reads(
    py: Python<'_>,
    base_url: String,
    username: String,
    password: String,
    requests: u32,
    items_per_page: u32,
    text: bool,
) -> PyResult<f64> {
    let mut config = ClientConfig::new(Credentials::new(username, password).py()?)
        .with_base_url(base_url)
        .without_rate_limit();
    config.retry = RetryPolicy::none();
    let client = Client::new(config).py()?;
    run(py, async move {
        let started = std::time::Instant::now();
        let orders = client.resource("order");
        for _ in 0..requests {
            let filters = serde_json::json!({"itemsPerPage": items_per_page});
            if text {
                // Results kept as eMAG's text: the client's cost without building objects.
                orders.read_raw(filters).await?;
            } else {
                orders.read(filters).await?;
            }
        }
        Ok(started.elapsed().as_secs_f64())
    })
}
