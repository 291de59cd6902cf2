//! `BackupManager` and `BackupSchedule`: blocking methods (GIL released) and `_async` twins.

use std::sync::Arc;
use std::time::Duration;

use magflow_emag::backup::{
    BackupFormat, BackupManager, BackupProgress, BackupProgressFn, BackupSchedule, CreateOptions,
    RestoreMode, RestoreOptions, ScheduleOptions,
};
use magflow_emag::Error;
use pyo3::prelude::*;
use serde::Serialize;

use crate::aio::{awaitable, blocking};
use crate::errors::IntoPy;
use crate::monitor::PyMonitor;
use crate::pyjson::from_value;
use crate::store::PyStore;

fn py_of<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let v = serde_json::to_value(value)
        .map_err(|e| crate::errors::to_py(Error::internal(e.to_string())))?;
    from_value(py, &v)
}

fn progress_fn(progress: Option<Py<PyAny>>) -> Option<BackupProgressFn> {
    progress.map(|callback| {
        Arc::new(move |event: &BackupProgress| {
            crate::lifecycle::attach_unless_finishing(|py| {
                let called = py_of(py, event).and_then(|arg| callback.call1(py, (arg,)));
                if let Err(e) = called {
                    // A failing progress callback must not fail the backup.
                    log::warn!("backup progress callback raised: {e}");
                }
            });
        }) as BackupProgressFn
    })
}

fn create_options(
    include: Option<Vec<String>>,
    compress: bool,
    format: Option<&str>,
    progress: Option<Py<PyAny>>,
) -> PyResult<CreateOptions> {
    let format = match format {
        None | Some("json") | Some("json.gz") | Some("jsonl") => None,
        Some("sqlite") => Some(BackupFormat::Sqlite),
        Some(other) => {
            return Err(crate::errors::to_py(Error::invalid_argument(format!(
                "format must be \"json\" or \"sqlite\", got {other:?}"
            ))))
        }
    };
    Ok({
        let mut o = CreateOptions::default();
        o.include = include;
        o.compress = compress;
        o.format = format;
        o.progress = progress_fn(progress);
        o
    })
}

fn restore_options(mode: &str, progress: Option<Py<PyAny>>) -> PyResult<RestoreOptions> {
    Ok({
        let mut o = RestoreOptions::default();
        o.mode = mode.parse::<RestoreMode>().py()?;
        o.progress = progress_fn(progress);
        o
    })
}

fn seconds(value: f64, name: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        crate::errors::to_py(Error::invalid_argument(format!(
            "{name} must be a number of seconds >= 0, got {value}"
        )))
    })
}

/// Backups of a store in a directory: create, list, verify, restore, cleanup, schedule.
#[pyclass(module = "magflow_emag._native", name = "BackupManager", frozen)]
pub struct PyBackupManager {
    inner: BackupManager,
}

#[pymethods]
impl PyBackupManager {
    #[new]
    #[pyo3(signature = (store, backup_dir, monitor = None))]
    fn new(
        store: &PyStore,
        backup_dir: std::path::PathBuf,
        monitor: Option<&PyMonitor>,
    ) -> PyResult<Self> {
        let mut inner = BackupManager::new(store.inner.clone(), backup_dir).py()?;
        if let Some(m) = monitor {
            inner = inner.with_monitor(m.inner.clone());
        }
        Ok(PyBackupManager { inner })
    }

    /// The folder the backups are written to and read from.
    #[getter]
    fn backup_dir(&self) -> std::path::PathBuf {
        self.inner.dir().to_path_buf()
    }

    /// Write a backup; returns `backup_path`, `filename`, `format`, `created_at`, `counts`,
    /// `sha256`, `size_bytes`, `duration_s`.
    #[pyo3(signature = (include = None, compress = true, format = None, progress = None))]
    fn create(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::include)] include: Option<Vec<String>>,
        compress: bool,
        format: Option<&str>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let options = create_options(include, compress, format, progress)?;
        let info = blocking(py, || self.inner.create(&options))?;
        py_of(py, &info)
    }

    /// `create`, as an awaitable.
    #[pyo3(signature = (include = None, compress = true, format = None, progress = None))]
    fn create_async<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::args::include)] include: Option<Vec<String>>,
        compress: bool,
        format: Option<&str>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = create_options(include, compress, format, progress)?;
        let manager = self.inner.clone();
        awaitable(py, async move {
            let info = spawn_blocking(move || manager.create(&options)).await?;
            Python::attach(|py| py_of(py, &info))
        })
    }

    /// The backups, newest first: `filename`, `format`, `created_at`, `size_bytes`, `counts`,
    /// `sound`, `schema_version`, `error`.
    fn list(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let entries = blocking(py, || self.inner.list())?;
        py_of(py, &entries)
    }

    /// Check a backup completely; returns `valid`, `counts`, `sha256`, `error`.
    #[pyo3(signature = (name, progress = None))]
    fn verify(
        &self,
        py: Python<'_>,
        name: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let progress = progress_fn(progress);
        let dir = self.inner.dir().to_path_buf();
        let report = blocking(py, || {
            magflow_emag::backup::verify_in(&dir, name, progress.as_ref())
        })?;
        py_of(py, &report)
    }

    /// `verify`, as an awaitable.
    fn verify_async<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        let manager = self.inner.clone();
        awaitable(py, async move {
            let report = spawn_blocking(move || manager.verify(&name)).await?;
            Python::attach(|py| py_of(py, &report))
        })
    }

    /// Verify, then restore in one transaction (`mode` "replace" or "merge"); returns the
    /// rows restored per table. A damaged backup raises `BackupError` and changes nothing.
    #[pyo3(signature = (name, mode = "replace", progress = None))]
    fn restore(
        &self,
        py: Python<'_>,
        name: &str,
        mode: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let options = restore_options(mode, progress)?;
        let report = blocking(py, || self.inner.restore(name, &options))?;
        py_of(py, &report)
    }

    /// `restore`, as an awaitable.
    #[pyo3(signature = (name, mode = "replace", progress = None))]
    fn restore_async<'py>(
        &self,
        py: Python<'py>,
        name: String,
        mode: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = restore_options(mode, progress)?;
        let manager = self.inner.clone();
        awaitable(py, async move {
            let report = spawn_blocking(move || manager.restore(&name, &options)).await?;
            Python::attach(|py| py_of(py, &report))
        })
    }

    /// Delete backups older than `retention_days` (by the UTC time in their names), keeping
    /// the `keep_min` newest and the newest that verifies; returns `deleted`, `bytes_freed`,
    /// `kept`, `temp_files_removed`.
    #[pyo3(signature = (retention_days = 30.0, keep_min = 1))]
    fn cleanup(
        &self,
        py: Python<'_>,
        retention_days: f64,
        #[pyo3(from_py_with = crate::args::keep_min)] keep_min: usize,
    ) -> PyResult<Py<PyAny>> {
        let report = blocking(py, || self.inner.cleanup(retention_days, keep_min))?;
        py_of(py, &report)
    }

    /// `cleanup`, as an awaitable.
    #[pyo3(signature = (retention_days = 30.0, keep_min = 1))]
    fn cleanup_async<'py>(
        &self,
        py: Python<'py>,
        retention_days: f64,
        #[pyo3(from_py_with = crate::args::keep_min)] keep_min: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let manager = self.inner.clone();
        awaitable(py, async move {
            let report = spawn_blocking(move || manager.cleanup(retention_days, keep_min)).await?;
            Python::attach(|py| py_of(py, &report))
        })
    }

    /// Back up and clean up every `interval` seconds in the background (first run at once
    /// unless `run_immediately=False`); returns a `BackupSchedule` to stop it. Failures are
    /// logged and reported to the monitor given to the manager.
    #[pyo3(signature = (interval = 86400.0, retention_days = 30.0, keep_min = 1, include = None, compress = true, format = None, run_immediately = true))]
    #[allow(clippy::too_many_arguments)]
    fn schedule(
        &self,
        interval: f64,
        retention_days: f64,
        #[pyo3(from_py_with = crate::args::keep_min)] keep_min: usize,
        #[pyo3(from_py_with = crate::args::include)] include: Option<Vec<String>>,
        compress: bool,
        format: Option<&str>,
        run_immediately: bool,
    ) -> PyResult<PyBackupSchedule> {
        let options = {
            let mut o = ScheduleOptions::default();
            o.interval = seconds(interval, "interval")?;
            o.retention_days = retention_days;
            o.keep_min = keep_min;
            o.create = create_options(include, compress, format, None)?;
            o.run_immediately = run_immediately;
            o
        };
        let inner = self.inner.schedule(options).py()?;
        Ok(PyBackupSchedule { inner })
    }

    fn __repr__(&self) -> String {
        format!(
            "BackupManager(store={:?}, backup_dir={:?})",
            self.inner.store().path(),
            self.inner.dir()
        )
    }
}

async fn spawn_blocking<T, F>(work: F) -> PyResult<T>
where
    F: FnOnce() -> magflow_emag::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| crate::errors::to_py(Error::internal(format!("backup task failed: {e}"))))?
        .py()
}

/// A running backup schedule (`BackupManager.schedule`). Stops when stopped or collected.
#[pyclass(module = "magflow_emag._native", name = "BackupSchedule", frozen)]
pub struct PyBackupSchedule {
    inner: BackupSchedule,
}

#[pymethods]
impl PyBackupSchedule {
    /// Stop; with `wait` (default) block until a run in progress has finished (GIL released,
    /// at most `timeout` seconds). Returns whether the task has ended.
    #[pyo3(signature = (wait = true, timeout = 60.0))]
    fn stop(&self, py: Python<'_>, wait: bool, timeout: f64) -> PyResult<bool> {
        if !wait {
            self.inner.stop();
            return Ok(!self.inner.status().running);
        }
        let timeout = seconds(timeout, "timeout")?;
        Ok(py.detach(|| self.inner.stop_and_wait(timeout)))
    }

    /// `runs`, `failures`, `last_backup`, `last_error`, `deleted`, `running`.
    fn status(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        py_of(py, &self.inner.status())
    }

    /// Whether the schedule is still running (False after ``stop()``).
    #[getter]
    fn running(&self) -> bool {
        self.inner.status().running
    }

    fn __repr__(&self) -> String {
        let s = self.inner.status();
        format!(
            "BackupSchedule(running={}, runs={}, failures={})",
            if s.running { "True" } else { "False" },
            s.runs,
            s.failures
        )
    }
}

/// The backups in a directory (no store needed), newest first.
#[pyfunction]
fn list_backups(py: Python<'_>, backup_dir: std::path::PathBuf) -> PyResult<Py<PyAny>> {
    let entries = blocking(py, || magflow_emag::backup::list_in(&backup_dir))?;
    py_of(py, &entries)
}

/// Check a backup in a directory completely (no store needed).
#[pyfunction]
#[pyo3(signature = (backup_dir, name, progress = None))]
fn verify_backup(
    py: Python<'_>,
    backup_dir: std::path::PathBuf,
    name: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let progress = progress_fn(progress);
    let report = blocking(py, || {
        magflow_emag::backup::verify_in(&backup_dir, name, progress.as_ref())
    })?;
    py_of(py, &report)
}

/// `BackupManager.cleanup` for a directory (no store needed).
#[pyfunction]
#[pyo3(signature = (backup_dir, retention_days = 30.0, keep_min = 1))]
fn cleanup_backups(
    py: Python<'_>,
    backup_dir: std::path::PathBuf,
    retention_days: f64,
    #[pyo3(from_py_with = crate::args::keep_min)] keep_min: usize,
) -> PyResult<Py<PyAny>> {
    let report = blocking(py, || {
        magflow_emag::backup::cleanup_in(&backup_dir, retention_days, keep_min)
    })?;
    py_of(py, &report)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(verify_backup, m)?)?;
    m.add_function(wrap_pyfunction!(cleanup_backups, m)?)?;
    m.add_class::<PyBackupManager>()?;
    m.add_class::<PyBackupSchedule>()?;
    m.add_function(wrap_pyfunction!(list_backups, m)?)?;
    Ok(())
}
