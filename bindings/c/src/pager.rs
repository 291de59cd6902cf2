//! `mf_client_iter` and `mf_pager_*`: every page of a read without hand-rolled paging (the
//! core's `Pager`: `currentPage`/`itemsPerPage`, a short page ends the walk, order reads
//! over more than a month split into calendar-month windows).

use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};

use mf_core::client::pagination::Pager;
use mf_core::runtime;

use crate::client::mf_client;
use crate::ffi::{self, Handle, Out};
use crate::mf_status;

/// A walk over every page of a read (opaque). Calls on one pager may come from several
/// threads; they are served one at a time. Free with `mf_pager_free`.
pub struct mf_pager {
    inner: Mutex<Pager>,
}

impl Handle for mf_pager {
    const ARG: &'static str = "pager";
}

/// Start a walk over every page of `resource/read` with `filters_json` (a JSON object, or
/// NULL for none; `itemsPerPage` sets the page size, `currentPage` where to start). Nothing
/// is sent yet: each `mf_pager_next` reads one page. An order read whose `*After`/`*Before`
/// pair spans more than a month is split into one-month windows. Free with `mf_pager_free`
/// (the pager keeps its own reference to the client, which may be freed first).
///
/// # Safety
/// `client` must be a live handle; strings NULL or NUL-terminated; `out` valid.
#[no_mangle]
pub unsafe extern "C" fn mf_client_iter(
    client: *const mf_client,
    resource: *const c_char,
    filters_json: *const c_char,
    out: *mut *mut mf_pager,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(out, "out") }?;
        let client = unsafe { mf_client::arg(client) }?;
        let resource = unsafe { ffi::arg_str(resource, "resource") }?;
        let filters = unsafe { ffi::opt_arg_json(filters_json, "filters_json") }?;
        let pager = client
            .inner
            .client()
            .resource(resource)
            .pages(filters.unwrap_or_default())?;
        out.handle(mf_pager {
            inner: Mutex::new(pager),
        });
        Ok(())
    })
}

/// Read the next page: `*page_json_out` gets its items as a JSON array (eMAG's text of each
/// item; free with `mf_string_free`), or NULL when every page was read (the status is then
/// `MF_OK`). On an error the pager stays where it was: calling again retries the same page.
///
/// # Safety
/// `pager` must be a live handle; `page_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_pager_next(
    pager: *const mf_pager,
    page_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(page_json_out, "page_json_out") }?;
        let pager = unsafe { mf_pager::arg(pager) }?;
        let mut walk = pager.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match runtime::block_on(walk.next_page_raw())? {
            None => out.write(std::ptr::null_mut()),
            // Each item is eMAG's own JSON text.
            Some(items) => {
                out.string(format!("[{}]", items.iter().collect::<Vec<_>>().join(",")))?
            }
        }
        Ok(())
    })
}

/// Where the walk stands: `*window` (the month window, 0 when the read is not split) and
/// `*page` (the next page number). Either pointer may be NULL.
///
/// # Safety
/// `pager` must be a live handle; `window` and `page` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn mf_pager_position(
    pager: *const mf_pager,
    window: *mut u64,
    page: *mut u64,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let pager = unsafe { mf_pager::arg(pager) }?;
        let (w, p) = pager
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .position();
        if let Some(out) = unsafe { Out::optional(window) } {
            out.write(w as u64);
        }
        if let Some(out) = unsafe { Out::optional(page) } {
            out.write(p);
        }
        Ok(())
    })
}

/// Release a pager. NULL is a no-op.
///
/// # Safety
/// `pager` must be NULL or a handle from `mf_client_iter`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mf_pager_free(pager: *mut mf_pager) {
    // SAFETY: forwarded contract.
    unsafe { mf_pager::free(pager) }
}
