//! Test and benchmark probes, built only with the `probes` feature (the wheel `make pytest`
//! and `make bench` use; never the release wheel): the submodule `magflow_emag._native._probes`.

use pyo3::prelude::*;

use magflow_emag::{Client, ClientConfig, Credentials, RetryPolicy};

use crate::aio::{awaitable, run};
use crate::errors::IntoPy;

/// JSON text -> Python value as the client builds results (`pyjson::loads`).
#[pyfunction]
fn json_loads(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    crate::pyjson::loads(py, text)
}

/// Await `value` back after `delay_s` seconds on the shared runtime.
#[pyfunction]
fn async_echo(py: Python<'_>, value: i64, delay_s: f64) -> PyResult<Bound<'_, PyAny>> {
    let delay = std::time::Duration::try_from_secs_f64(delay_s.max(0.0)).unwrap_or_default();
    awaitable(py, async move {
        tokio::time::sleep(delay).await;
        Ok(value)
    })
}

/// The pid owning the shared runtime, if it was built (for fork tests).
#[pyfunction]
fn runtime_owner_pid() -> Option<u32> {
    magflow_emag::runtime::owner_pid()
}

/// Tasks of awaitables still in flight.
#[pyfunction]
fn tasks_in_flight() -> usize {
    crate::lifecycle::tasks_in_flight()
}

/// `requests` sequential `order/read` calls by the Rust client (no limiter, no Python in the
/// loop); returns the elapsed seconds. `benches/client_py.py` puts this figure beside the
/// Python ones of the same run.
#[pyfunction]
#[pyo3(signature = (base_url, username, password, requests, items_per_page = 10, text = false))]
fn bench_rust_reads(
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

/// Raise the exception mapped from an error kind code: lets the tests check every mapping
/// through the real conversion path.
#[pyfunction]
#[pyo3(signature = (kind_code, message = "test"))]
fn raise_error_kind(kind_code: i32, message: &str) -> PyResult<()> {
    let kind = magflow_emag::ErrorKind::ALL
        .into_iter()
        .find(|k| k.code() == kind_code)
        .ok_or_else(|| {
            crate::errors::to_py(magflow_emag::Error::invalid_argument(format!(
                "no error kind {kind_code}"
            )))
        })?;
    let message = message.to_owned();
    let err = match kind {
        magflow_emag::ErrorKind::RateLimited => magflow_emag::Error::rate_limited(message, 1.5),
        magflow_emag::ErrorKind::Authentication => magflow_emag::Error::Authentication {
            message,
            status_code: Some(401),
            response_data: None,
        },
        magflow_emag::ErrorKind::Validation => magflow_emag::Error::validation(vec![message]),
        magflow_emag::ErrorKind::NotFound => magflow_emag::Error::NotFound {
            message,
            status_code: Some(404),
            response_data: None,
        },
        magflow_emag::ErrorKind::BusinessRule => magflow_emag::Error::business(message),
        magflow_emag::ErrorKind::Network => magflow_emag::Error::Network {
            message,
            status_code: Some(503),
            not_sent: false,
        },
        magflow_emag::ErrorKind::Timeout => magflow_emag::Error::timeout(message),
        magflow_emag::ErrorKind::ApiResponse => magflow_emag::Error::ApiResponse {
            message: message.clone(),
            messages: vec![message],
            status_code: Some(200),
            response_data: Some(Box::new(serde_json::json!({"isError": true}))),
            transient: false,
        },
        magflow_emag::ErrorKind::Store => magflow_emag::Error::store(message),
        magflow_emag::ErrorKind::Backup => magflow_emag::Error::backup(message),
        magflow_emag::ErrorKind::InvalidArgument => magflow_emag::Error::invalid_argument(message),
        _ => magflow_emag::Error::internal(message),
    };
    Err(crate::errors::to_py(err))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let probes = PyModule::new(m.py(), "_probes")?;
    probes.add_function(wrap_pyfunction!(json_loads, &probes)?)?;
    probes.add_function(wrap_pyfunction!(raise_error_kind, &probes)?)?;
    probes.add_function(wrap_pyfunction!(async_echo, &probes)?)?;
    probes.add_function(wrap_pyfunction!(runtime_owner_pid, &probes)?)?;
    probes.add_function(wrap_pyfunction!(tasks_in_flight, &probes)?)?;
    probes.add_function(wrap_pyfunction!(bench_rust_reads, &probes)?)?;
    m.add_submodule(&probes)?;
    // Not in `__all__`: the stub describes the release module, which has no probes.
    m.index()?.call_method1("remove", ("_probes",))?;
    Ok(())
}
