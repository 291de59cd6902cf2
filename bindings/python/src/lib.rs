//! pyo3 bindings: `magflow_emag._native`. Thin: types and errors are converted here, all
//! behaviour lives in the core crate.

use pyo3::prelude::*;

mod aio;
mod args;
mod backup;
mod callbacks;
mod client;
mod codes;
mod errors;
mod lifecycle;
mod logging;
mod monitor;
#[cfg(feature = "probes")]
mod probes;
mod pyjson;
mod pyvalue;
mod ratelimit;
mod sim;
mod store;
mod validate;

/// The native module, re-exported by the pure-Python package `magflow_emag`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", magflow_emag::VERSION)?;
    lifecycle::register(m)?;
    logging::register(m)?;
    codes::register(m)?;
    errors::register(m)?;
    client::register(m)?;
    store::register(m)?;
    sim::register(m)?;
    ratelimit::register(m)?;
    monitor::register(m)?;
    backup::register(m)?;
    callbacks::register(m)?;
    validate::register(m)?;
    #[cfg(feature = "probes")]
    probes::register(m)?;
    Ok(())
}
