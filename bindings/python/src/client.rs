//! The client: `_Client` (native), whose operations answer values (blocking, GIL released)
//! or, made with `asynchronous=True`, awaitables; plus `RetryPolicy`. The pure-Python
//! `magflow_emag.client` adds the resource namespaces (`client.orders.read(...)`).

use std::future::Future;
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
use crate::pyjson::from_value;

/// Python value -> JSON value (depth- and cycle-safe: [`crate::pyvalue`]).
pub fn to_json(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Value> {
    match obj {
        None => Ok(Value::Null),
        Some(o) if o.is_none() => Ok(Value::Null),
        Some(o) => crate::pyvalue::to_value(o, what),
    }
}

/// The results of a read as a list, as `Resource::read` shapes them: a list as is, `null`
/// as an empty list, a single object (a read by id) as a list of one.
fn read_results_to_py(py: Python<'_>, raw: &RawResults) -> PyResult<Py<PyAny>> {
    let value = crate::pyjson::loads(py, raw.json())?;
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
    crate::pyjson::loads(py, &text)
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
    /// Operations answer awaitables (the `AsyncClient` facade) rather than values.
    asynchronous: bool,
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
                        wire_log = false, asynchronous = false))]
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
        asynchronous: bool,
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
            asynchronous,
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

    // Each operation answers a value (blocking, the GIL released) or, on a client made with
    // `asynchronous=True`, an awaitable of it: one method per operation for both facades.

    #[pyo3(signature = (resource, action, data = None))]
    fn call(
        &self,
        py: Python<'_>,
        resource: String,
        action: String,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let data = to_json(data, "data")?;
        let data = if data.is_null() { None } else { Some(data) };
        let client = self.inner.clone();
        self.finish(
            py,
            async move { client.call_raw(&resource, &action, data).await },
            |py, raw| crate::pyjson::loads(py, raw.json()),
        )
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
        self.finish(py, async move { res.read_raw(filters).await }, |py, raw| {
            read_results_to_py(py, &raw)
        })
    }

    #[pyo3(signature = (resource, **filters))]
    fn count(
        &self,
        py: Python<'_>,
        resource: &str,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let filters = kwargs_json(filters)?;
        let res = self.resource(resource);
        self.finish(py, async move { res.count(filters).await }, |py, n| {
            Ok(n.into_pyobject(py)?.into_any().unbind())
        })
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
        let action = action.to_owned();
        let res = self.resource(resource);
        self.finish(
            py,
            async move { res.save_as(&action, entities).await },
            |py, v| from_value(py, &Value::Array(v)),
        )
    }

    fn acknowledge(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
    ) -> PyResult<Py<PyAny>> {
        self.value(py, move |c| async move {
            c.orders().acknowledge(order_id).await
        })
    }

    fn unlock_courier(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::order_id)] order_id: u64,
    ) -> PyResult<Py<PyAny>> {
        self.value(py, move |c| async move {
            c.orders().unlock_courier(order_id).await
        })
    }

    fn stock_update(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::product_id)] product_id: u64,
        #[pyo3(from_py_with = crate::args::value)] value: i64,
    ) -> PyResult<Py<PyAny>> {
        self.value(py, move |c| async move {
            c.stock().update(product_id, value).await
        })
    }

    fn awb_save(&self, py: Python<'_>, awb: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let awb = to_json(Some(awb), "awb")?;
        self.value(py, move |c| async move { c.awb().save(awb).await })
    }

    #[pyo3(signature = (emag_id, awb_format = "A4"))]
    fn awb_read_pdf(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::emag_id)] emag_id: u64,
        awb_format: &str,
    ) -> PyResult<Py<PyAny>> {
        let (client, awb_format) = (self.inner.clone(), awb_format.to_owned());
        self.finish(
            py,
            async move { client.awb().read_pdf(emag_id, &awb_format).await },
            |py, d| Ok(PyBytes::new(py, &d.bytes).into_any().unbind()),
        )
    }

    fn awb_read_zpl(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::emag_id)] emag_id: u64,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.clone();
        self.finish(
            py,
            async move { client.awb().read_zpl(emag_id).await },
            |py, d| Ok(PyBytes::new(py, &d.bytes).into_any().unbind()),
        )
    }

    fn find_by_eans(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::eans)] eans: Vec<String>,
    ) -> PyResult<Py<PyAny>> {
        self.value(
            py,
            move |c| async move { c.offers().find_by_eans(&eans).await },
        )
    }

    fn smart_deals_price_check(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::product_id)] product_id: u64,
    ) -> PyResult<Py<PyAny>> {
        self.value(py, move |c| async move {
            c.offers().smart_deals_price_check(product_id).await
        })
    }
}

impl PyClient {
    /// The result of `fut` converted by `convert`: now (the GIL released while it runs), or
    /// as an awaitable on an asynchronous client.
    fn finish<T, F>(
        &self,
        py: Python<'_>,
        fut: F,
        convert: fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>>
    where
        F: Future<Output = magflow_emag::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        if self.asynchronous {
            let done = awaitable(py, async move {
                let v = fut.await.py()?;
                Python::attach(|py| convert(py, v))
            })?;
            Ok(done.unbind())
        } else {
            let v = run(py, fut)?;
            convert(py, v)
        }
    }

    /// [`PyClient::finish`] for an operation of the core client answering a JSON value.
    fn value<F, Fut>(&self, py: Python<'_>, op: F) -> PyResult<Py<PyAny>>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = magflow_emag::Result<Value>> + Send + 'static,
    {
        self.finish(py, op(self.inner.clone()), |py, v| from_value(py, &v))
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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRetryPolicy>()?;
    m.add_class::<PyClient>()?;
    m.add_class::<PyPager>()?;
    Ok(())
}
