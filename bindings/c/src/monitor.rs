//! `mf_monitor`: a standalone monitor handle (request metrics, alerts, health, Prometheus
//! text). Thread-safe: one handle may be used from several threads at once; only
//! `mf_monitor_free` must not race with other calls on the same handle.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use mf_core::monitor::{Monitor, MonitorConfig};
use mf_core::Error;

use crate::ffi::{self, Handle, Out};
use crate::mf_status;

/// An opaque monitor handle. Create with `mf_monitor_new`, release with `mf_monitor_free`.
/// Thread-safe: every call but `mf_monitor_free` may run on several threads at once.
pub struct mf_monitor {
    inner: Arc<Monitor>,
}

impl mf_monitor {
    /// The shared core monitor (a client handle can hold the same `Arc`).
    pub(crate) fn core(&self) -> Arc<Monitor> {
        self.inner.clone()
    }
}

impl Handle for mf_monitor {
    const ARG: &'static str = "monitor";
}

/// Create a monitor. `config_json` is NULL (defaults) or a JSON object such as
/// `{"window_seconds": 300, "slot_seconds": 10, "sync_window_seconds": 3600,
/// "history_limit": 100, "thresholds": {"error_rate": 0.05, "p95_latency_ms": 2000,
/// "rate_limit_usage": 0.8, "sync_success_rate": 0.95, "min_samples": 20,
/// "clear_ratio": 0.8}}` (every field optional; unknown fields are refused).
/// Release `*out` with `mf_monitor_free`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out` must be a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_new(
    config_json: *const c_char,
    out: *mut *mut mf_monitor,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(out, "out") }?;
        let config = match unsafe { ffi::opt_arg_str(config_json, "config_json") }? {
            Some(json) => MonitorConfig::from_json(json)?,
            None => MonitorConfig::default(),
        };
        let inner = Arc::new(Monitor::new(config)?);
        out.handle(mf_monitor { inner });
        Ok(())
    })
}

/// Record one request without a route. `latency_ms` must be finite and >= 0.
///
/// # Safety
/// `monitor` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_record(
    monitor: *mut mf_monitor,
    latency_ms: f64,
    success: bool,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { mf_monitor::arg(monitor) }?;
        m.inner.record(latency_ms, success)
    })
}

/// Record one request of a route (`resource`, `action`: NUL-terminated UTF-8, e.g.
/// `"order"`, `"read"`), for the per-route breakdown and Prometheus labels.
///
/// # Safety
/// `monitor` must be a live handle; `resource` and `action` NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_record_request(
    monitor: *mut mf_monitor,
    resource: *const c_char,
    action: *const c_char,
    latency_ms: f64,
    success: bool,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: forwarded contracts.
        let m = unsafe { mf_monitor::arg(monitor) }?;
        let resource = unsafe { ffi::arg_str(resource, "resource") }?;
        let action = unsafe { ffi::arg_str(action, "action") }?;
        m.inner
            .record_with(Some(resource), Some(action), latency_ms, success)
    })
}

/// Record a finished sync run of `kind` (e.g. `"orders"`).
///
/// # Safety
/// `monitor` must be a live handle; `kind` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_record_sync(
    monitor: *mut mf_monitor,
    kind: *const c_char,
    success: bool,
    duration_seconds: f64,
    items: u64,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: forwarded contracts.
        let m = unsafe { mf_monitor::arg(monitor) }?;
        let kind = unsafe { ffi::arg_str(kind, "kind") }?;
        let duration = Duration::try_from_secs_f64(duration_seconds).map_err(|_| {
            Error::invalid_argument(format!(
                "duration_seconds must be a finite number >= 0, got {duration_seconds}"
            ))
        })?;
        m.inner.record_sync(kind, success, duration, items);
        Ok(())
    })
}

/// The health report as JSON: `{"status", "health_score", "metrics", "alerts",
/// "timestamp"}`. Evaluates alerts. Free `*json_out` with `mf_string_free`.
///
/// # Safety
/// `monitor` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_health_json(
    monitor: *mut mf_monitor,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        out.json(&unsafe { mf_monitor::arg(monitor) }?.inner.health())
    })
}

/// The metrics of the window as JSON. Evaluates alerts. Free `*json_out` with
/// `mf_string_free`.
///
/// # Safety
/// `monitor` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_metrics_json(
    monitor: *mut mf_monitor,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        out.json(&unsafe { mf_monitor::arg(monitor) }?.inner.metrics())
    })
}

/// The Prometheus text exposition (format 0.0.4). Evaluates alerts. Free `*text_out` with
/// `mf_string_free`.
///
/// # Safety
/// `monitor` must be a live handle; `text_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_prometheus_text(
    monitor: *mut mf_monitor,
    text_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(text_out, "text_out") }?;
        out.string(unsafe { mf_monitor::arg(monitor) }?.inner.prometheus())
    })
}

/// Release a monitor. NULL is a no-op.
///
/// # Safety
/// `monitor` must be NULL or a live handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn mf_monitor_free(monitor: *mut mf_monitor) {
    // SAFETY: forwarded contract.
    unsafe { mf_monitor::free(monitor) }
}
