//! Python awaitables on the core's one shared runtime.
//!
//! pyo3-async-runtimes' own tokio runtime is set once per process and would survive a fork
//! as a dead copy; instead this plugs `magflow_emag::runtime` (fork-aware) into its generic
//! layer, so every awaitable and every blocking call share one runtime.

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;

use pyo3::prelude::*;
use pyo3_async_runtimes::generic::{self, ContextExt, Runtime as GenericRuntime};
use pyo3_async_runtimes::TaskLocals;

use crate::errors::IntoPy;

/// The core's shared runtime, as pyo3-async-runtimes sees it.
pub struct SharedRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl GenericRuntime for SharedRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Tracked, so that the interpreter's exit can stop it before finalizing.
        crate::lifecycle::spawn_tracked(fut)
    }
}

impl ContextExt for SharedRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|cell| {
                cell.get()
                    .map(|locals| Python::attach(|py| locals.clone_ref(py)))
            })
            .unwrap_or_default()
    }
}

/// Turn a Rust future into a Python awaitable running on the shared runtime.
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    generic::future_into_py::<SharedRuntime, _, _>(py, fut)
}

/// Run blocking core work with the GIL released, mapping its error.
pub fn blocking<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: FnOnce() -> magflow_emag::Result<T> + Send,
    T: Send,
{
    py.detach(work).py()
}

/// Run an async core operation to completion on the shared runtime, with the GIL released.
pub fn run<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = magflow_emag::Result<T>> + Send,
    T: Send,
{
    py.detach(|| magflow_emag::runtime::block_on(fut)).py()
}
