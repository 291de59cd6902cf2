//! `mf_store_*`, `mf_sync_*` and `mf_backup_*`: the embedded store, the main job and backups.
//! A store handle is safe to use from several threads (its connections sit behind mutexes).

use std::ffi::c_char;
use std::sync::Arc;

use mf_core::backup::{self, BackupManager, CreateOptions, RestoreOptions};
use mf_core::sync::{self, SyncOptions};
use mf_core::{Error, Store};
use serde::Serialize;

use crate::client::mf_client;
use crate::{ffi, mf_status};

/// The embedded SQLite store (opaque). Thread-safe.
pub struct mf_store {
    pub(crate) inner: Arc<Store>,
}

fn json_string<T: Serialize>(value: &T) -> Result<*mut c_char, Error> {
    let text = serde_json::to_string(value).map_err(|e| Error::internal(e.to_string()))?;
    ffi::to_c_string(text)
}

/// Optional JSON options: NULL or "" mean the defaults.
unsafe fn options_text<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    Ok(unsafe { ffi::opt_arg_str(ptr, name) }?.unwrap_or(""))
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
        ffi::check_out(out, "out")?;
        // SAFETY: forwarded contract.
        let path = unsafe { ffi::arg_str(path, "path") }?;
        let store = Store::open(path)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe {
            ffi::write_handle(
                out,
                mf_store {
                    inner: Arc::new(store),
                },
            )
        };
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
    unsafe { ffi::free_handle(store) };
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
        ffi::check_out(count_out, "count_out")?;
        // SAFETY: forwarded contract.
        let store = unsafe { ffi::handle_ref(store, "store") }?;
        let n = store.inner.count_orders(None)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *count_out = n };
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
        ffi::check_out(order_json_out, "order_json_out")?;
        // SAFETY: forwarded contract.
        let store = unsafe { ffi::handle_ref(store, "store") }?;
        let order = store
            .inner
            .get_order(order_id, None)?
            .ok_or_else(|| Error::NotFound {
                message: format!("order {order_id} is not in the store"),
                status_code: None,
                response_data: None,
            })?;
        let text = ffi::to_c_string(order.to_string())?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *order_json_out = text };
        Ok(())
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
    ffi::guard(|| {
        ffi::check_out(jsonl_out, "jsonl_out")?;
        // SAFETY: forwarded contract.
        let store = unsafe { ffi::handle_ref(store, "store") }?;
        // SAFETY: forwarded contract.
        let query = mf_core::store::OrderQuery::from_json(unsafe {
            options_text(query_json, "query_json")
        }?)?;
        let rows = store.inner.orders(&query)?;
        // SAFETY: forwarded contract.
        unsafe { write_lines(rows, jsonl_out, cursor_out) }
    })
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
    ffi::guard(|| {
        ffi::check_out(jsonl_out, "jsonl_out")?;
        // SAFETY: forwarded contract.
        let store = unsafe { ffi::handle_ref(store, "store") }?;
        // SAFETY: forwarded contract.
        let query = mf_core::store::OfferQuery::from_json(unsafe {
            options_text(query_json, "query_json")
        }?)?;
        let rows = store.inner.offers(&query)?;
        // SAFETY: forwarded contract.
        unsafe { write_lines(rows, jsonl_out, cursor_out) }
    })
}

/// # Safety
/// `jsonl_out` checked non-NULL by the caller; `cursor_out` NULL or valid.
unsafe fn write_lines(
    rows: Vec<mf_core::store::StoredRow>,
    jsonl_out: *mut *mut c_char,
    cursor_out: *mut i64,
) -> Result<(), Error> {
    let cursor = rows.last().map_or(0, |r| r.cursor);
    let mut text = String::with_capacity(rows.iter().map(|r| r.data.len() + 1).sum());
    for row in rows {
        text.push_str(&row.data);
        text.push('\n');
    }
    let text = ffi::to_c_string(text)?;
    // SAFETY: checked non-NULL by the caller; written only on success.
    unsafe {
        *jsonl_out = text;
        if !cursor_out.is_null() {
            *cursor_out = cursor;
        }
    }
    Ok(())
}

/// Sync orders from eMAG into the store (blocks until done). `options_json` (NULL = defaults):
/// `{"full": false, "acknowledge": false, "order_types": [3, 2], "wait": false}` (`wait`: when
/// another worker runs this sync, wait for it instead of returning `"status": "skipped"`). Writes the summary
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

/// Sync every offer into the store; as `mf_sync_orders` (`{"full": false}`).
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
        ffi::check_out(summary_json_out, "summary_json_out")?;
        // SAFETY: forwarded contracts.
        let client = unsafe { ffi::handle_ref(client, "client") }?;
        let store = unsafe { ffi::handle_ref(store, "store") }?;
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
        let text = json_string(&summary)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *summary_json_out = text };
        Ok(())
    })
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
        ffi::check_out(result_json_out, "result_json_out")?;
        // SAFETY: forwarded contracts.
        let store = unsafe { ffi::handle_ref(store, "store") }?;
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        let options =
            CreateOptions::from_json(unsafe { options_text(options_json, "options_json") }?)?;
        let info = BackupManager::new(store.inner.clone(), dir)?.create(&options)?;
        let text = json_string(&info)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *result_json_out = text };
        Ok(())
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
        ffi::check_out(result_json_out, "result_json_out")?;
        // SAFETY: forwarded contracts.
        let store = unsafe { ffi::handle_ref(store, "store") }?;
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        let name = unsafe { ffi::arg_str(name, "name") }?;
        let options =
            RestoreOptions::from_json(unsafe { options_text(options_json, "options_json") }?)?;
        let report = BackupManager::new(store.inner.clone(), dir)?.restore(name, &options)?;
        let text = json_string(&report)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *result_json_out = text };
        Ok(())
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
        ffi::check_out(json_out, "json_out")?;
        // SAFETY: forwarded contract.
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        let text = json_string(&backup::list_dir(dir.as_ref())?)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *json_out = text };
        Ok(())
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
        ffi::check_out(json_out, "json_out")?;
        // SAFETY: forwarded contracts.
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        let name = unsafe { ffi::arg_str(name, "name") }?;
        let text = json_string(&backup::verify_in(dir.as_ref(), name, None)?)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *json_out = text };
        Ok(())
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
        ffi::check_out(json_out, "json_out")?;
        // SAFETY: forwarded contract.
        let dir = unsafe { ffi::arg_str(backup_dir, "backup_dir") }?;
        let report = backup::cleanup_in(dir.as_ref(), retention_days, keep_min as usize)?;
        let text = json_string(&report)?;
        // SAFETY: checked non-NULL; written only on success.
        unsafe { *json_out = text };
        Ok(())
    })
}
