//! The core's `log` records into Python's `logging` (logger names follow the Rust module
//! paths, e.g. `magflow_emag.client`), through pyo3-log.
//!
//! Two things are added around it: records are dropped once the interpreter is exiting (a
//! Rust thread must not enter Python then, see [`crate::lifecycle`]), and the per-logger level
//! cache is cleared whenever Python's own is (`logging.Manager._clear_cache`, which
//! `setLevel`, `disable` and the config functions call; the package hooks it), so that levels
//! changed at run time take effect; before, the first record froze them.

use std::sync::OnceLock;

use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger, ResetHandle};

use crate::lifecycle::python_finishing;

struct PyLogger {
    inner: Logger,
}

impl Log for PyLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        !python_finishing() && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if !python_finishing() {
            self.inner.log(record);
        }
    }

    fn flush(&self) {}
}

static RESET: OnceLock<ResetHandle> = OnceLock::new();

/// Install the logger (once per process; a second import keeps the first).
pub fn install(py: Python<'_>) -> PyResult<()> {
    let logger = Logger::new(py, Caching::LoggersAndLevels)?.filter(LevelFilter::Debug);
    let reset = logger.reset_handle();
    if log::set_boxed_logger(Box::new(PyLogger { inner: logger })).is_ok() {
        log::set_max_level(LevelFilter::Debug);
        let _ = RESET.set(reset);
    }
    Ok(())
}

/// Forget the cached levels of Python's loggers (called by the package's hook on
/// `logging.Manager._clear_cache`).
#[pyfunction]
fn _reset_log_cache() {
    if let Some(reset) = RESET.get() {
        reset.reset();
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    install(m.py())?;
    m.add_function(wrap_pyfunction!(_reset_log_cache, m)?)?;
    Ok(())
}
