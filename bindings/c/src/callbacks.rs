//! `mf_callback_*`: eMAG's callbacks answered (recorded in the store's queue) and drained by
//! a worker started with a client.

use std::ffi::{c_char, c_int};

use mf_core::callbacks::{self, CallbackWorker, WorkerOptions};

use crate::client::mf_client;
use crate::ffi::{self, Handle, Out};
use crate::mf_status;
use crate::store::mf_store;

/// A running callback worker (opaque). Stop and free it with `mf_callback_worker_stop`.
pub struct mf_callback_worker {
    inner: CallbackWorker,
}

impl Handle for mf_callback_worker {
    const ARG: &'static str = "worker";
}

/// Answer one eMAG callback: `query` is the request's query string (`order_id=..&token=..`,
/// optionally `kind=order_cancellation|return|awb`); `token` the secret the callback URL
/// carries (16+ characters); `client` names the account (its platform and account label;
/// no request is made). The callback is recorded in the store before this returns. Writes
/// the HTTP status to send (200, 400, 403, 503) to `*http_status_out` and a short body to
/// `*body_out` (free with `mf_string_free`). Returns `MF_OK` whenever an answer was made
/// (a refused callback too); an error only for bad arguments (a NULL, a short token).
/// Quick: one SQLite write; safe to call from many threads.
///
/// # Safety
/// `store` and `client` must be live handles; `query` and `token` NUL-terminated; the
/// out pointers valid.
#[no_mangle]
pub unsafe extern "C" fn mf_callback_handle(
    store: *const mf_store,
    query: *const c_char,
    client: *const mf_client,
    token: *const c_char,
    http_status_out: *mut c_int,
    body_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let status_out = unsafe { Out::new(http_status_out, "http_status_out") }?;
        let body_out = unsafe { Out::new(body_out, "body_out") }?;
        let store = unsafe { mf_store::arg(store) }?;
        let client = unsafe { mf_client::arg(client) }?;
        let query = unsafe { ffi::arg_str(query, "query") }?;
        let token = unsafe { ffi::arg_str(token, "token") }?;
        callbacks::check_token(token)?;
        let scope = mf_core::sync::scope_of(client.inner.client());
        let answer = callbacks::handle_callback(&store.inner, &scope, token, query);
        body_out.string(answer.body)?;
        status_out.write(c_int::from(answer.status));
        Ok(())
    })
}

/// Start a worker draining the callback queue of `client`'s account in `store` (on the
/// library's runtime): each order read by id, stored as the sync stores it, acknowledged
/// when new if `"acknowledge"` (default true). `options_json` NULL or
/// `{"acknowledge": true, "poll_interval_s": 0.25}`.
///
/// # Safety
/// `client` and `store` must be live handles (the worker keeps its own references);
/// `options_json` NULL or NUL-terminated; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_callback_worker_start(
    client: *const mf_client,
    store: *const mf_store,
    options_json: *const c_char,
    out: *mut *mut mf_callback_worker,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(out, "out") }?;
        let client = unsafe { mf_client::arg(client) }?;
        let store = unsafe { mf_store::arg(store) }?;
        let options = unsafe { ffi::opt_arg_str(options_json, "options_json") }?.unwrap_or("");
        let options = WorkerOptions::from_json(options)?;
        let inner =
            CallbackWorker::start(client.inner.client().clone(), store.inner.clone(), options);
        out.handle(mf_callback_worker { inner });
        Ok(())
    })
}

/// Stop a worker after the entry in progress, wait for it, and free it. NULL is a no-op.
///
/// # Safety
/// `worker` must be NULL or a handle from `mf_callback_worker_start`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mf_callback_worker_stop(worker: *mut mf_callback_worker) {
    if worker.is_null() {
        return;
    }
    let _ = ffi::guard(|| {
        // SAFETY: forwarded contract: a live handle, taken back here.
        if let Some(mut worker) = unsafe { mf_callback_worker::take(worker) } {
            worker.inner.stop();
        }
        Ok(())
    });
}

/// The callback queue's figures as JSON (`received`, `pending`, `failed`, `done`,
/// `oldest_pending_age_s`) in `*json_out` (free with `mf_string_free`).
///
/// # Safety
/// `store` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_callback_stats(
    store: *const mf_store,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        out.json(&unsafe { mf_store::arg(store) }?.inner.callback_stats()?)
    })
}
