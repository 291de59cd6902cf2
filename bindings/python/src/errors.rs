//! The one place where core errors become Python exceptions.
//!
//! The exception classes are defined in pure Python (`magflow_emag/errors.py`) so that
//! `InvalidArgumentError` can also be a `ValueError`; they are looked up once and cached. Their
//! names, codes, retryability and docstrings come from the core's table of error kinds,
//! handed to `errors.py` by [`_error_kinds`].

use magflow_emag::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let module = ERRORS_MODULE
        .get_or_try_init(py, || {
            PyResult::Ok(py.import("magflow_emag.errors")?.unbind())
        })?
        .bind(py);
    let class = module.getattr(err.kind().python_class())?;
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

/// The core's table of error kinds, one `(code, kind, class_name, retry, doc)` per kind in
/// code order (`retry` is `"always"`, `"never"` or `"when_transient"`).
#[pyfunction]
fn _error_kinds() -> Vec<(i32, &'static str, &'static str, &'static str, &'static str)> {
    ErrorKind::ALL
        .into_iter()
        .map(|k| {
            (
                k.code(),
                k.name(),
                k.python_class(),
                k.retry().name(),
                k.doc(),
            )
        })
        .collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    Ok(())
}
