//! The one place where core errors become Python exceptions.
//!
//! The exception classes are defined in pure Python (`magflow_emag/errors.py`) so that
//! `InvalidArgumentError` can also be a `ValueError`; they are looked up once and cached.

use magflow_emag::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python class name for each error kind.
pub fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::RateLimited => "RateLimitError",
        ErrorKind::Authentication => "AuthenticationError",
        ErrorKind::Validation => "ValidationError",
        ErrorKind::NotFound => "ResourceNotFoundError",
        ErrorKind::BusinessRule => "BusinessLogicError",
        ErrorKind::Network => "NetworkError",
        ErrorKind::Timeout => "EmagTimeoutError",
        ErrorKind::ApiResponse => "ApiResponseError",
        ErrorKind::Store => "StoreError",
        ErrorKind::Backup => "BackupError",
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::Internal => "InternalError",
        // ErrorKind is non_exhaustive: a kind added later still maps to the base class.
        _ => "EmagApiError",
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let module = ERRORS_MODULE
        .get_or_try_init(py, || {
            PyResult::Ok(py.import("magflow_emag.errors")?.unbind())
        })?
        .bind(py);
    let class = module.getattr(class_name(err.kind()))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", err.kind().code())?;
    kwargs.set_item("kind", err.kind().name())?;
    kwargs.set_item("status_code", err.status_code())?;
    kwargs.set_item("retryable", err.is_retryable())?;
    if let Some(data) = err.response_data() {
        kwargs.set_item("response_data", pythonize::pythonize(py, data)?)?;
    }
    if let Some(seconds) = err.remaining_seconds() {
        kwargs.set_item("remaining_seconds", seconds)?;
    }
    if err.kind() == ErrorKind::Validation {
        kwargs.set_item("validation_errors", err.validation_errors().to_vec())?;
    }
    let exc = class.call((err.message(),), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// Convert a core error into the matching Python exception.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| match build(py, &err) {
        Ok(e) => e,
        Err(lookup_failure) => PyRuntimeError::new_err(format!(
            "{err} (and the exception class could not be built: {lookup_failure})"
        )),
    })
}

/// Extension to turn `Result<T, Error>` into `PyResult<T>`.
pub trait IntoPy<T> {
    /// Map the error with [`to_py`].
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// Raise the exception mapped from an error kind code: lets the tests check every mapping
/// through the real conversion path.
#[pyfunction]
#[pyo3(signature = (kind_code, message = "test"))]
fn _raise_error_kind(kind_code: i32, message: &str) -> PyResult<()> {
    let kind = ErrorKind::ALL
        .into_iter()
        .find(|k| k.code() == kind_code)
        .ok_or_else(|| {
            to_py(Error::invalid_argument(format!(
                "no error kind {kind_code}"
            )))
        })?;
    let message = message.to_owned();
    let err = match kind {
        ErrorKind::RateLimited => Error::rate_limited(message, 1.5),
        ErrorKind::Authentication => Error::Authentication {
            message,
            status_code: Some(401),
            response_data: None,
        },
        ErrorKind::Validation => Error::validation(vec![message]),
        ErrorKind::NotFound => Error::NotFound {
            message,
            status_code: Some(404),
            response_data: None,
        },
        ErrorKind::BusinessRule => Error::business(message),
        ErrorKind::Network => Error::Network {
            message,
            status_code: Some(503),
            not_sent: false,
        },
        ErrorKind::Timeout => Error::timeout(message),
        ErrorKind::ApiResponse => Error::ApiResponse {
            message: message.clone(),
            messages: vec![message],
            status_code: Some(200),
            response_data: Some(Box::new(serde_json::json!({"isError": true}))),
            transient: false,
        },
        ErrorKind::Store => Error::store(message),
        ErrorKind::Backup => Error::backup(message),
        ErrorKind::InvalidArgument => Error::invalid_argument(message),
        _ => Error::internal(message),
    };
    Err(to_py(err))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_raise_error_kind, m)?)?;
    Ok(())
}
