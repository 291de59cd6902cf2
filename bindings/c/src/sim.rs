//! The simulator through the C ABI, so that C programs (and the C tests of the client) can
//! run against a local eMAG API. Thin: config and results cross as JSON.

use std::ffi::c_char;

use mf_core::sim::{Fault, SimConfig, Simulator};

use crate::ffi::{self, Handle, Out};
use crate::mf_status;

/// A running simulator (opaque). Thread-safe: every function may be called from any thread.
pub struct mf_simulator {
    inner: Simulator,
}

impl Handle for mf_simulator {
    const ARG: &'static str = "sim";
}

/// Borrow the simulator behind a handle, refusing NULL.
///
/// # Safety
/// `sim` must be NULL or a live handle from `mf_simulator_start`.
unsafe fn borrow<'a>(sim: *const mf_simulator) -> Result<&'a Simulator, mf_core::Error> {
    // SAFETY: forwarded contract.
    Ok(&unsafe { mf_simulator::arg(sim) }?.inner)
}

/// Start a simulator on 127.0.0.1 (an ephemeral port unless the config names one).
/// `config_json` is NULL, `""` or a JSON object such as
/// `{"orders": 50, "offers": 20, "seed": 7, "enforce_rate_limits": false}` (unknown keys are
/// refused). On success `*out` owns the simulator; release it with `mf_simulator_free`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out` must be a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_start(
    config_json: *const c_char,
    out: *mut *mut mf_simulator,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(out, "out") }?;
        let text = unsafe { ffi::opt_arg_str(config_json, "config_json") }?.unwrap_or("");
        let inner = Simulator::start(SimConfig::from_json(text)?)?;
        out.handle(mf_simulator { inner });
        Ok(())
    })
}

/// The base URL to give a client, e.g. `http://127.0.0.1:40123/api-3`. Free `*url_out` with
/// `mf_string_free`.
///
/// # Safety
/// `sim` must be a live handle; `url_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_url(
    sim: *const mf_simulator,
    url_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(url_out, "url_out") }?;
        out.string(unsafe { borrow(sim) }?.url().to_owned())
    })
}

/// The accepted credentials as JSON `{"username": ..., "password": ...}`. Free `*json_out`
/// with `mf_string_free`.
///
/// # Safety
/// `sim` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_credentials(
    sim: *const mf_simulator,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        let sim = unsafe { borrow(sim) }?;
        out.json(&serde_json::json!({"username": sim.username(), "password": sim.password()}))
    })
}

/// The counters as JSON (`requests_total`, `responses_429`, `routes`, `max_in_any_second`,
/// `max_in_any_minute`, ...). Free `*json_out` with `mf_string_free`.
///
/// # Safety
/// `sim` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_stats(
    sim: *const mf_simulator,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        out.json(&unsafe { borrow(sim) }?.stats())
    })
}

/// Every order as a JSON list (the ground truth). Free `*json_out` with `mf_string_free`.
///
/// # Safety
/// `sim` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_orders(
    sim: *const mf_simulator,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        out.json(&unsafe { borrow(sim) }?.orders())
    })
}

/// Queue `count` faults (`"http_500"`, `"http_503"`, `"timeout"`, `"reset"`, `"rate_limit"`,
/// `"is_error"`, `"malformed_json"`) for requests to `resource`/`action` (NULL = any).
///
/// # Safety
/// `sim` must be a live handle; the strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_inject(
    sim: *const mf_simulator,
    fault: *const c_char,
    count: u32,
    resource: *const c_char,
    action: *const c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: forwarded contracts.
        let sim = unsafe { borrow(sim) }?;
        let fault: Fault = unsafe { ffi::arg_str(fault, "fault") }?.parse()?;
        let resource = unsafe { ffi::opt_arg_str(resource, "resource") }?;
        let action = unsafe { ffi::opt_arg_str(action, "action") }?;
        sim.inject(fault, count, resource, action);
        Ok(())
    })
}

/// Forget every counter.
///
/// # Safety
/// `sim` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_reset_stats(sim: *const mf_simulator) -> mf_status {
    ffi::guard(|| {
        // SAFETY: forwarded contract.
        unsafe { borrow(sim) }?.reset_stats();
        Ok(())
    })
}

/// Stop the simulator and release it. NULL is a no-op.
///
/// # Safety
/// `sim` must be NULL or a handle from `mf_simulator_start`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn mf_simulator_free(sim: *mut mf_simulator) {
    // SAFETY: forwarded contract.
    unsafe { mf_simulator::free(sim) }
}
