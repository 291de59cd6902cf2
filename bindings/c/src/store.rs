//! `mf_store_*`, `mf_sync_*` and `mf_backup_*`: the embedded store, the main job and backups.
//! A store handle is safe to use from several threads (its connections sit behind mutexes).

use std::ffi::c_char;
use std::sync::Arc;

use mf_core::backup::{self, BackupManager, CreateOptions, RestoreOptions};
use mf_core::store::{OfferQuery, OrderQuery, StoredRow};
use mf_core::sync::{self, SyncOptions};
use mf_core::{Error, Store};

use crate::client::mf_client;
use crate::ffi::{self, Handle, Out};
use crate::mf_status;

/// The embedded SQLite store (opaque). Thread-safe.
pub struct mf_store {
    pub(crate) inner: Arc<Store>,
}

impl Handle for mf_store {
    const ARG: &'static str = "store";
}

/// Open (creating and migrating if needed) the store at `path`: a SQLite file, or PostgreSQL
/// for a `postgresql://` / `postgres://` URL (e.g.
/// `postgresql://erp@db:5432/erp?schema=magflow_emag&sslmode=verify-full`; errors name the host
/// and database, never the password). Free with `mf_store_free`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_store_open(path: *const c_char, out: *mut *mut mf_store) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(out, "out") }?;
        let path = unsafe { ffi::arg_str(path, "path") }?;
        let inner = Arc::new(Store::open(path)?);
        out.handle(mf_store { inner });
        Ok(())
    })
}

/// Release a store. NULL is a no-op.
///
/// # Safety
/// `store` must be NULL or a handle from `mf_store_open`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mf_store_free(store: *mut mf_store) {
    // SAFETY: forwarded contract.
    unsafe { mf_store::free(store) }
}

/// The number of stored orders (all platforms and accounts).
///
/// # Safety
/// `store` must be a live handle; `count_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_store_count_orders(
    store: *const mf_store,
    count_out: *mut u64,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(count_out, "count_out") }?;
        let store = unsafe { mf_store::arg(store) }?;
        out.write(store.inner.count_orders(None)?);
        Ok(())
    })
}

/// An order exactly as read from eMAG, as JSON (free with `mf_string_free`);
/// `MF_ERR_NOT_FOUND` when the store does not hold it.
///
/// # Safety
/// `store` must be a live handle; `order_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_store_get_order(
    store: *const mf_store,
    order_id: i64,
    order_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(order_json_out, "order_json_out") }?;
        let store = unsafe { mf_store::arg(store) }?;
        let order = store
            .inner
            .get_order(order_id, None)?
            .ok_or_else(|| Error::NotFound {
                message: format!("order {order_id} is not in the store"),
                status_code: None,
                response_data: None,
            })?;
        out.string(order.to_string())
    })
}

/// Stored orders matching `query_json` (NULL or "" = all), as JSON lines: one order per
/// line, exactly as stored, oldest stored first (free with `mf_string_free`). The query:
/// `{"platform": "emag_ro", "account": "main", "status": 1 or [1, 2], "type": 3,
/// "modified_since": "2025-09-01T00:00:00Z", "after": <cursor>, "limit": 500}`, every key
/// optional, `limit` 1 to 10000 (default 10000). `*cursor_out` (if not NULL) gets the last
/// row's cursor, to pass as `after` for the next page (0 when no row matched). Read the store
/// this way, never with a second SQLite library in the same process.
///
/// # Safety
/// `store` must be a live handle; `query_json` NULL or NUL-terminated; `jsonl_out` a valid
/// pointer; `cursor_out` NULL or a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_store_orders(
    store: *const mf_store,
    query_json: *const c_char,
    jsonl_out: *mut *mut c_char,
    cursor_out: *mut i64,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_rows(store, query_json, jsonl_out, cursor_out, |store, query| {
            store.orders(&OrderQuery::from_json(query)?)
        })
    }
}

/// Stored offers matching `query_json`, as `mf_store_orders` (keys `platform`, `account`,
/// `status`, `synced_since`, `after`, `limit`).
///
/// # Safety
/// As for `mf_store_orders`.
#[no_mangle]
pub unsafe extern "C" fn mf_store_offers(
    store: *const mf_store,
    query_json: *const c_char,
    jsonl_out: *mut *mut c_char,
    cursor_out: *mut i64,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_rows(store, query_json, jsonl_out, cursor_out, |store, query| {
            store.offers(&OfferQuery::from_json(query)?)
        })
    }
}

/// Optional JSON options: NULL or "" mean the defaults.
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string.
unsafe fn options_text<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    Ok(unsafe { ffi::opt_arg_str(ptr, name) }?.unwrap_or(""))
}

/// `mf_store_orders` and `mf_store_offers`: the rows `read` gives for the query, as JSON lines,
/// and the last row's cursor (0 when none).
///
/// # Safety
/// As for `mf_store_orders`.
unsafe fn read_rows(
    store: *const mf_store,
    query_json: *const c_char,
    jsonl_out: *mut *mut c_char,
    cursor_out: *mut i64,
    read: impl FnOnce(&Store, &str) -> Result<Vec<StoredRow>, Error>,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract on every pointer.
        let out = unsafe { Out::new(jsonl_out, "jsonl_out") }?;
        let store = unsafe { mf_store::arg(store) }?;
        let rows = read(&store.inner, unsafe {
            options_text(query_json, "query_json")
        }?)?;
        let cursor = rows.last().map_or(0, |r| r.cursor);
        let mut text = String::with_capacity(rows.iter().map(|r| r.data.len() + 1).sum());
        for row in rows {
            text.push_str(&row.data);
            text.push('\n');
        }
        out.string(text)?;
        if let Some(out) = unsafe { Out::optional(cursor_out) } {
            out.write(cursor);
        }
        Ok(())
    })
}

/// Sync orders from eMAG into the store (blocks until done). `options_json` (NULL = defaults):
/// `{"full": false, "acknowledge": false, "order_types": [3, 2], "wait": false,
/// "wait_timeout_s": 3600}` (`wait`: when another worker runs this sync, wait for it instead
/// of returning `"status": "skipped"`; `wait_timeout_s`: with `wait`, the most seconds to wait,
/// then `"status": "skipped"`; absent or JSON null: the default, 3600; a negative number is
/// `MF_ERR_INVALID_ARGUMENT`; there is no unbounded wait). Writes the summary
/// (`status`, `pages`, `fetched`, `created`, `updated`, `unchanged`, `failed`, `acknowledged`,
/// `duration_s`, `rate_limit_min_s`, ...) as JSON to `*summary_json_out`. A run that failed
/// after it started still returns `MF_OK` with `"status": "failed"` and its `error`.
///
/// # Safety
/// `client` and `store` must be live handles; `options_json` NULL or NUL-terminated;
/// `summary_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_sync_orders(
    client: *const mf_client,
    store: *const mf_store,
    options_json: *const c_char,
    summary_json_out: *mut *mut c_char,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe { run_sync(client, store, options_json, summary_json_out, true) }
}

/// Sync every offer into the store; as `mf_sync_orders` (`{"full": false, "wait": false,
/// "wait_timeout_s": 3600}`).
///
/// # Safety
/// As for `mf_sync_orders`.
#[no_mangle]
pub unsafe extern "C" fn mf_sync_offers(
    client: *const mf_client,
    store: *const mf_store,
    options_json: *const c_char,
    summary_json_out: *mut *mut c_char,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe { run_sync(client, store, options_json, summary_json_out, false) }
}

unsafe fn run_sync(
    client: *const mf_client,
    store: *const mf_store,
    options_json: *const c_char,
    summary_json_out: *mut *mut c_char,
    orders: bool,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (`mf_sync_orders`) on every pointer.
        let out = unsafe { Out::new(summary_json_out, "summary_json_out") }?;
        let client = unsafe { mf_client::arg(client) }?;
        let store = unsafe { mf_store::arg(store) }?;
        let options =
            SyncOptions::from_json(unsafe { options_text(options_json, "options_json") }?)?;
        let (c, s) = (client.inner.client().clone(), store.inner.clone());
        let summary = mf_core::runtime::block_on(async move {
            if orders {
                sync::sync_orders(&c, &s, &options).await
            } else {
                sync::sync_offers(&c, &s, &options).await
            }
        })?;
        out.json(&summary)
    })
}

/// The store and the backup directory of a backup call, and its options (NULL or "" mean the
/// defaults), read in this order.
///
/// # Safety
/// `store` must be NULL or a live handle; the strings NULL or NUL-terminated.
unsafe fn backup_args<'a>(
    store: *const mf_store,
    backup_dir: *const c_char,
    options_json: *const c_char,
) -> Result<(Arc<Store>, &'a str, &'a str), Error> {
    // SAFETY: forwarded contract.
    let store = unsafe { mf_store::arg(store) }?;
    let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
    let options = unsafe { options_text(options_json, "options_json") }?;
    Ok((store.inner.clone(), dir, options))
}

/// Back the store up into `backup_dir` (created 0700 if missing). `options_json` (NULL =
/// defaults): `{"include": ["orders", "offers", "sync_log", "checkpoints"], "compress": true,
/// "format": "json" | "sqlite"}`. Writes `{"backup_path", "filename", "format", "created_at",
/// "counts", "sha256", "size_bytes", "duration_s"}` to `*result_json_out`.
///
/// # Safety
/// `store` must be a live handle; strings NULL or NUL-terminated; `result_json_out` valid.
#[no_mangle]
pub unsafe extern "C" fn mf_backup_create(
    store: *const mf_store,
    backup_dir: *const c_char,
    options_json: *const c_char,
    result_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(result_json_out, "result_json_out") }?;
        let (store, dir, options) = unsafe { backup_args(store, backup_dir, options_json) }?;
        let options = CreateOptions::from_json(options)?;
        out.json(&BackupManager::new(store, dir)?.create(&options)?)
    })
}

/// Verify the backup `name` (a file name inside `backup_dir`), then restore it into the store
/// in one transaction. `options_json` (NULL = defaults): `{"mode": "replace" | "merge"}`.
/// A damaged backup is `MF_ERR_BACKUP` and the store is left exactly as it was; a name
/// reaching outside the directory is `MF_ERR_INVALID_ARGUMENT`. Writes `{"filename", "mode",
/// "counts", "skipped", "sha256", "duration_s"}` to `*result_json_out`.
///
/// # Safety
/// `store` must be a live handle; strings NULL or NUL-terminated; `result_json_out` valid.
#[no_mangle]
pub unsafe extern "C" fn mf_backup_restore(
    store: *const mf_store,
    backup_dir: *const c_char,
    name: *const c_char,
    options_json: *const c_char,
    result_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(result_json_out, "result_json_out") }?;
        let (store, dir, options) = unsafe { backup_args(store, backup_dir, options_json) }?;
        let name = unsafe { ffi::arg_str(name, "name") }?;
        let options = RestoreOptions::from_json(options)?;
        out.json(&BackupManager::new(store, dir)?.restore(name, &options)?)
    })
}

/// The backups in `backup_dir`, newest first, as a JSON list of `{"filename", "format",
/// "created_at", "size_bytes", "counts", "sound", "schema_version", "error"}`.
///
/// # Safety
/// `backup_dir` NULL or NUL-terminated; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_backup_list(
    backup_dir: *const c_char,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        out.json(&backup::list_in(dir.as_ref())?)
    })
}

/// Check a backup completely; writes `{"filename", "format", "valid", "counts", "sha256",
/// "error"}` (a damaged backup is `MF_OK` with `"valid": false`).
///
/// # Safety
/// Strings NULL or NUL-terminated; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_backup_verify(
    backup_dir: *const c_char,
    name: *const c_char,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        let name = unsafe { ffi::arg_str(name, "name") }?;
        out.json(&backup::verify_in(dir.as_ref(), name, None)?)
    })
}

/// Delete backups older than `retention_days` (by the UTC time in their names), keeping the
/// `keep_min` newest and the newest that verifies; writes `{"deleted", "bytes_freed", "kept",
/// "temp_files_removed"}`.
///
/// # Safety
/// `backup_dir` NULL or NUL-terminated; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_backup_cleanup(
    backup_dir: *const c_char,
    retention_days: f64,
    keep_min: u32,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        out.json(&backup::cleanup_in(
            dir.as_ref(),
            retention_days,
            keep_min as usize,
        )?)
    })
}
