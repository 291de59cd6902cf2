//! `mf_client_*`: the eMAG client for C. A handle is safe to use from several threads at once
//! (the requests share one connection pool and the process's one runtime).

use std::ffi::c_char;
use std::sync::Arc;

use mf_core::{BlockingClient, ClientConfig};

use crate::ffi::{self, Handle, Out};
use crate::mf_status;
use crate::monitor::mf_monitor;
use crate::ratelimit::mf_rate_limiter;

/// An eMAG API client (opaque). Thread-safe: one handle may serve several threads.
pub struct mf_client {
    pub(crate) inner: BlockingClient,
}

impl Handle for mf_client {
    const ARG: &'static str = "client";
}

/// Create a client from a JSON configuration:
/// `{"username": "...", "password": "...", "platform": "emag_ro", "base_url": null,
///   "timeout_s": 30, "body_mode": "form", "retry": {"max_retries": 3, "base_delay": 2,
///   "max_delay": 64, "jitter": true, "deadline": null}, "account": "main",
///   "rate_limit": true, "rate_limiter": null, "wire_log": false}`.
/// Only username and password are required. By default the client passes the process's
/// limiter of its account (eMAG's quotas, shared by every client of that account in this
/// process). `"rate_limiter"` gives it one of its own, configured as for
/// `mf_rate_limiter_new`: `{"backend": "host", "path": "/run/shop.rl"}` shares the quota with
/// every process on the host naming that file, `{"backend": "redis", "redis_url": ...,
/// "account": ...}` with every host (a Python `RateLimiter` with the same settings shares it
/// too). `"rate_limit": false` turns limiting off. `wire_log` true logs request and response bodies
/// (scrubbed of credentials, 2 KiB each) at debug level under `magflow_emag::wire`.
/// Free with `mf_client_free`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_client_new(
    config_json: *const c_char,
    out: *mut *mut mf_client,
) -> mf_status {
    // SAFETY: forwarded contract; no limiter or monitor of the caller's.
    unsafe { mf_client_new_with(config_json, std::ptr::null(), std::ptr::null(), out) }
}

/// Like `mf_client_new`, and the client uses `limiter` (instead of the configuration's) and
/// reports to `monitor` (instead of a monitor of its own), when they are not NULL. The
/// client keeps its own reference to each: the handles may be freed before the client.
/// Several clients given one limiter share its quota; given one monitor, its health and
/// metrics cover all of them.
///
/// # Safety
/// `config_json` must be a NUL-terminated string; `limiter` and `monitor` NULL or live
/// handles; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_client_new_with(
    config_json: *const c_char,
    limiter: *const mf_rate_limiter,
    monitor: *const mf_monitor,
    out: *mut *mut mf_client,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(out, "out") }?;
        let text = unsafe { ffi::arg_str(config_json, "config_json") }?;
        let mut config = ClientConfig::from_json(text)?;
        if let Some(limiter) = unsafe { mf_rate_limiter::opt_arg(limiter) } {
            config = config.with_limiter(Arc::new(limiter.core()));
        }
        if let Some(monitor) = unsafe { mf_monitor::opt_arg(monitor) } {
            config = config.with_monitor(monitor.core());
        }
        let inner = BlockingClient::new(config)?;
        out.handle(mf_client { inner });
        Ok(())
    })
}

/// `POST {resource}/{action}` with `data_json` (a JSON value, or NULL for no data); writes
/// eMAG's `results` as JSON to `*results_json_out` (free with `mf_string_free`).
///
/// # Safety
/// `client` must be a live handle; strings NULL or NUL-terminated; `results_json_out` valid.
#[no_mangle]
pub unsafe extern "C" fn mf_client_call(
    client: *const mf_client,
    resource: *const c_char,
    action: *const c_char,
    data_json: *const c_char,
    results_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(results_json_out, "results_json_out") }?;
        let client = unsafe { mf_client::arg(client) }?;
        let resource = unsafe { ffi::arg_str(resource, "resource") }?;
        let action = unsafe { ffi::arg_str(action, "action") }?;
        let data = unsafe { ffi::opt_arg_json(data_json, "data_json") }?;
        // eMAG's own text of `results`: no tree is built and re-serialized.
        let results = client.inner.call_raw(resource, action, data)?;
        out.string(results.json().to_owned())
    })
}

/// Release a client. NULL is a no-op.
///
/// # Safety
/// `client` must be NULL or a handle from `mf_client_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mf_client_free(client: *mut mf_client) {
    // SAFETY: forwarded contract.
    unsafe { mf_client::free(client) }
}

/// The health report of the client's monitor as JSON
/// (`{"status", "health_score", "metrics", "alerts", "timestamp"}`); free with `mf_string_free`.
///
/// # Safety
/// `client` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_client_health_json(
    client: *const mf_client,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        let client = unsafe { mf_client::arg(client) }?;
        out.json(&client.inner.client().monitor().health())
    })
}

/// The Prometheus text exposition of the client's monitor; free with `mf_string_free`.
///
/// # Safety
/// `client` must be a live handle; `text_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_client_prometheus_text(
    client: *const mf_client,
    text_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(text_out, "text_out") }?;
        let client = unsafe { mf_client::arg(client) }?;
        out.string(client.inner.client().monitor().prometheus())
    })
}

/// Deprecated alias of `mf_client_health_json` (it takes a client, not a monitor); removed
/// in the next release.
///
/// # Safety
/// As for `mf_client_health_json`.
#[no_mangle]
#[deprecated(note = "use mf_client_health_json")]
pub unsafe extern "C" fn mf_monitor_health(
    client: *const mf_client,
    json_out: *mut *mut c_char,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe { mf_client_health_json(client, json_out) }
}

/// Deprecated alias of `mf_client_prometheus_text` (it takes a client, not a monitor);
/// removed in the next release.
///
/// # Safety
/// As for `mf_client_prometheus_text`.
#[no_mangle]
#[deprecated(note = "use mf_client_prometheus_text")]
pub unsafe extern "C" fn mf_monitor_prometheus(
    client: *const mf_client,
    text_out: *mut *mut c_char,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe { mf_client_prometheus_text(client, text_out) }
}
