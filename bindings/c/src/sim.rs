//! The simulator through the C ABI, so that C programs (and the C tests of the client) can
//! run against a local eMAG API. Thin: config and results cross as JSON.

use std::ffi::c_char;

use mf_core::sim::{Fault, SimConfig, Simulator};

use crate::ffi;
use crate::mf_status;

/// A running simulator (opaque). Thread-safe: every function may be called from any thread.
pub struct mf_simulator {
    inner: Simulator,
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
        ffi::check_out(out, "out")?;
        // SAFETY: forwarded contract on `config_json`.
        let text = unsafe { ffi::opt_arg_str(config_json, "config_json") }?.unwrap_or("");
        let config = SimConfig::from_json(text)?;
        let sim = Simulator::start(config)?;
        let boxed = Box::into_raw(Box::new(mf_simulator { inner: sim }));
        // SAFETY: checked non-NULL above; written only on success.
        unsafe { *out = boxed };
        Ok(())
    })
}

/// Borrow the simulator behind a handle, refusing NULL.
///
/// # Safety
/// `sim` must be NULL or a live handle from `mf_simulator_start`.
unsafe fn borrow<'a>(sim: *const mf_simulator) -> Result<&'a Simulator, mf_core::Error> {
    if sim.is_null() {
        return Err(mf_core::Error::invalid_argument("sim is NULL"));
    }
    // SAFETY: non-NULL and live per the caller's contract.
    Ok(unsafe { &(*sim).inner })
}

/// Write a string result to `out` (ownership to the caller, free with `mf_string_free`).
fn give(out: *mut *mut c_char, text: String) -> Result<(), mf_core::Error> {
    let s = ffi::to_c_string(text)?;
    // SAFETY: the caller checked `out` for NULL before doing any work.
    unsafe { *out = s };
    Ok(())
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
        ffi::check_out(url_out, "url_out")?;
        // SAFETY: forwarded contract.
        let sim = unsafe { borrow(sim) }?;
        give(url_out, sim.url().to_owned())
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
        ffi::check_out(json_out, "json_out")?;
        // SAFETY: forwarded contract.
        let sim = unsafe { borrow(sim) }?;
        let v = serde_json::json!({"username": sim.username(), "password": sim.password()});
        give(json_out, v.to_string())
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
        ffi::check_out(json_out, "json_out")?;
        // SAFETY: forwarded contract.
        let sim = unsafe { borrow(sim) }?;
        give(json_out, sim.stats().to_string())
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
        ffi::check_out(json_out, "json_out")?;
        // SAFETY: forwarded contract.
        let sim = unsafe { borrow(sim) }?;
        give(json_out, serde_json::Value::Array(sim.orders()).to_string())
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
    if sim.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the caller passes a pointer from Box::into_raw in mf_simulator_start.
        drop(unsafe { Box::from_raw(sim) });
    });
}
